package relay

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"net/url"
	"os"
	"time"

	"qrkiosk/relay/store"
)

// Config configures a Server. A zero duration, size or limit takes its
// value in Defaults.
type Config struct {
	// Key is the one-shop merchant's QFPay client_key (DefaultMerchant on
	// qfpay, served at /notify/qfpay and /notify/qfpay/default).
	Key string
	// ScanForPayKey is the one-shop merchant's ScanForPay sign key
	// (DefaultMerchant on scanforpay, served at /notify/scanforpay).
	ScanForPayKey string
	// Merchants are served at /notify/{gateway}/{id}, each verified with
	// its own key only; an id may appear once per gateway (a shop on two
	// gateways). At least one of Key and Merchants is required; the one
	// named DefaultMerchant is also served at /notify/{gateway}.
	Merchants []Merchant
	// Token is the shared bearer token of a one-shop set-up: it sees every
	// notification of DefaultMerchant. Kiosks may instead (or also) use
	// their own tokens (IssueToken), each bound to a merchant and device.
	Token          string
	InsecureNoAuth bool // accept /ws without a token as if it were the shared one (local demos only)
	// Store keeps the notifications and tokens: relay/sqlitestore for one
	// relay (opened with its Lock), relay/pgstore shared by several. The
	// server owns it from NewServer on, and closes it on Shutdown, or at
	// once when NewServer fails.
	Store store.Store
	// Instance names this relay in logs, metrics and the database's
	// heartbeat table; "" = the host name.
	Instance string
	// AllowIPs is the notifier allow-list, for the gateways that publish
	// their notifiers' addresses (QFPay); empty = any.
	AllowIPs []netip.Prefix
	// TrustedProxies are reverse proxies whose X-Forwarded-For is believed
	// when finding a notifier's address; empty = use the peer address.
	TrustedProxies []netip.Prefix
	Logger         *slog.Logger // nil = no logs
	// Metrics counts what the server does and serves GET /metrics; nil
	// counts nothing (relay/prommetrics is Prometheus's).
	Metrics Metrics

	PingInterval time.Duration // websocket pings; a peer silent for 2× this is dropped
	WriteTimeout time.Duration // per websocket write
	SendQueue    int           // frames queued per connection before it counts as slow
	ReplayWindow time.Duration // how far back a udid subscription replays
	// Retain is how long a notification is kept; negative = for ever. At
	// least ReplayWindow.
	Retain time.Duration
	// PruneEvery is how often notifications older than Retain are deleted
	// (the first time at start; once per period across instances).
	PruneEvery time.Duration
	// MaxSubscriptions per connection.
	MaxSubscriptions int
	// MaxConnsPerToken is how many connections one kiosk token may hold
	// on this instance at once.
	MaxConnsPerToken int
	// MaxConnsShared is the same for the shared Token, which every kiosk
	// of the shop uses.
	MaxConnsShared int
	// MaxConns is how many kiosk connections this instance holds in all;
	// past it a kiosk is answered 503 (another instance, or later).
	MaxConns int
	// RefusalsPerMinute is how many refused handshakes one source address
	// (an IPv6 /64) may provoke a minute, and at once; past it, it is
	// answered 429 before any token look-up.
	RefusalsPerMinute int
	// Claims bound the orders a kiosk token's device may claim (by
	// subscribing to them), and how long unpaid ones are kept; each zero
	// field takes its default.
	Claims store.ClaimLimits
	// ReplayMemory bounds the replayed notifications in flight on this
	// instance (read from the store, not yet written to a socket), in
	// bytes. Replays wait for room.
	ReplayMemory int64
	// RevocationPoll is how often revoked tokens are looked up to close
	// their connections.
	RevocationPoll time.Duration
	// FeedPoll is how often the store is read for new notifications even
	// without a signal (PostgreSQL's LISTEN down).
	FeedPoll time.Duration
	// ReceiptRetain is how long an e-receipt's page is served (and the
	// receipt kept); negative turns e-receipts off.
	ReceiptRetain time.Duration
	// Receipts bound the e-receipts a device, and a merchant, may store a
	// day; each zero field takes its default.
	Receipts store.ReceiptLimits
	// PublicURL is where customers' phones reach this relay
	// ("https://relay.example"): receipt links start with it. "" = https://
	// and the host the kiosk connected to.
	PublicURL string
}

// Defaults are the values Config's zero fields take, and the defaults of
// qrkiosk-relay's flags.
func Defaults() Config {
	return Config{
		PingInterval: 30 * time.Second,
		WriteTimeout: 10 * time.Second,
		SendQueue:    16,
		ReplayWindow: 48 * time.Hour,
		// Long enough to look back at a quarter's disputes, short enough
		// that a busy shop's journal stays around a hundred MB.
		Retain:     90 * 24 * time.Hour,
		PruneEvery: time.Hour,
		// A kiosk follows its live order and, for a day, the unpaid ones
		// that may still be paid late.
		MaxSubscriptions: 256,
		// A kiosk reconnecting after a network cut may still have
		// half-open connections for a minute.
		MaxConnsPerToken:  8,
		MaxConnsShared:    1000,
		MaxConns:          20000,
		RefusalsPerMinute: 60,
		// A kiosk's orders expire within 2 hours (plus the time it keeps
		// following an unpaid one), so an unpaid claim is kept a day; a
		// kiosk starts far fewer than 2,000 orders a day (one every 43 s
		// around the clock), and 100,000 is 50 such kiosks of one merchant.
		Claims:         store.ClaimLimits{TTL: 24 * time.Hour, PerDevice: 2000, PerMerchant: 100000},
		ReplayMemory:   32 << 20,
		RevocationPoll: 2 * time.Second,
		FeedPoll:       time.Second,
		// A month to find a receipt again in the phone's history.
		ReceiptRetain: 30 * 24 * time.Hour,
		// A receipt for every sale a kiosk may start (Claims.PerDevice),
		// a day, and their refunds.
		Receipts: store.ReceiptLimits{PerDevice: 4000, PerMerchant: 200000},
	}
}

// withDefaults fills c's zero fields from Defaults (and Instance with the
// host name, Logger with one that discards).
func (c Config) withDefaults() Config {
	d := Defaults()
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Instance == "" {
		c.Instance, _ = os.Hostname()
	}
	if c.Retain == 0 { // negative keeps every notification
		c.Retain = d.Retain
	}
	orDefault(&c.PingInterval, d.PingInterval)
	orDefault(&c.WriteTimeout, d.WriteTimeout)
	orDefault(&c.SendQueue, d.SendQueue)
	orDefault(&c.ReplayWindow, d.ReplayWindow)
	orDefault(&c.PruneEvery, d.PruneEvery)
	orDefault(&c.MaxSubscriptions, d.MaxSubscriptions)
	orDefault(&c.MaxConnsPerToken, d.MaxConnsPerToken)
	orDefault(&c.MaxConnsShared, d.MaxConnsShared)
	orDefault(&c.MaxConns, d.MaxConns)
	orDefault(&c.RefusalsPerMinute, d.RefusalsPerMinute)
	orDefault(&c.Claims.TTL, d.Claims.TTL)
	orDefault(&c.Claims.PerDevice, d.Claims.PerDevice)
	orDefault(&c.Claims.PerMerchant, d.Claims.PerMerchant)
	orDefault(&c.ReplayMemory, d.ReplayMemory)
	orDefault(&c.RevocationPoll, d.RevocationPoll)
	orDefault(&c.FeedPoll, d.FeedPoll)
	if c.ReceiptRetain == 0 { // negative: no e-receipts
		c.ReceiptRetain = d.ReceiptRetain
	}
	orDefault(&c.Receipts.PerDevice, d.Receipts.PerDevice)
	orDefault(&c.Receipts.PerMerchant, d.Receipts.PerMerchant)
	return c
}

// orDefault replaces a zero or negative *v with def.
func orDefault[T int | int64 | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// check refuses what no relay can run with, and indexes the merchants.
func (c Config) check() (map[string]map[string]Merchant, error) {
	merchants, err := checkMerchants(c)
	if err != nil {
		return nil, err
	}
	if c.Store == nil {
		return nil, errors.New("relay: a Store is required (relay/sqlitestore or relay/pgstore)")
	}
	if err := CheckPublicURL(c.PublicURL); err != nil {
		return nil, fmt.Errorf("relay: PublicURL %v", err)
	}
	if c.Retain > 0 && c.Retain < c.ReplayWindow {
		return nil, fmt.Errorf("relay: Retain (%v) must be at least ReplayWindow (%v): a reconnecting kiosk replays that far back", c.Retain, c.ReplayWindow)
	}
	return merchants, nil
}

// CheckPublicURL checks Config.PublicURL: "" or https://HOST[:PORT]
// (http:// for a relay on a local network), nothing after the host.
func CheckPublicURL(s string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || (u.Path != "" && u.Path != "/") ||
		u.RawQuery != "" || u.Fragment != "" || u.User != nil || u.Opaque != "" {
		return fmt.Errorf("%q: must be https://HOST[:PORT] (http:// on a local network), nothing after the host", s)
	}
	return nil
}
