// Package relay receives payment gateways' asynchronous notifications
// (QFPay's, ScanForPay's),
// proves each genuine with its merchant's key, stores it durably (SQLite,
// or PostgreSQL shared by several relay instances) and pushes it over
// websockets to the kiosk whose order it is. The kiosk's side is
// relay/relayclient.
package relay

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"

	"qrkiosk/payment/scanforpay"
	"qrkiosk/relay/store"
	"qrkiosk/relay/wire"
)

// MaxNotifyBody caps a notification body; larger ones get 413.
const MaxNotifyBody = store.MaxNotifyBody

// feedPage is how many stored notifications the fan-out reads at a time.
const feedPage = 256

// Config configures a Server. Zero durations and sizes take the defaults
// noted on each field.
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
	Logger         *slog.Logger
	// Metrics counts what the server does and serves GET /metrics; nil
	// counts nothing (relay/prommetrics is Prometheus's).
	Metrics Metrics

	PingInterval time.Duration // websocket pings; 0 = 30s. A peer silent for 2× this is dropped.
	WriteTimeout time.Duration // per websocket write; 0 = 10s
	SendQueue    int           // frames queued per connection before it counts as slow; 0 = 16
	ReplayWindow time.Duration // how far back a udid subscription replays; 0 = 48h
	// Retain is how long a notification is kept; 0 = DefaultRetain,
	// negative = for ever. At least ReplayWindow.
	Retain time.Duration
	// PruneEvery is how often notifications older than Retain are deleted
	// (the first time at start; once per period across instances); 0 = 1h.
	PruneEvery time.Duration
	// MaxSubscriptions per connection; 0 = 256. A kiosk follows its live
	// order and, for a day, the unpaid ones that may still be paid late.
	MaxSubscriptions int
	// MaxConnsPerToken is how many connections one kiosk token may hold
	// on this instance at once; 0 = 8 (a kiosk reconnecting after a
	// network cut may still have half-open ones for a minute).
	MaxConnsPerToken int
	// MaxConnsShared is the same for the shared Token, which every kiosk
	// of the shop uses; 0 = 1000.
	MaxConnsShared int
	// MaxConns is how many kiosk connections this instance holds in all;
	// 0 = 20,000. Past it a kiosk is answered 503 (another instance, or
	// later).
	MaxConns int
	// RefusalsPerMinute is how many refused handshakes one source address
	// (an IPv6 /64) may provoke a minute, and at once; past it, it is
	// answered 429 before any token look-up. 0 = 60.
	RefusalsPerMinute int
	// Claims bound the orders a kiosk token's device may claim (by
	// subscribing to them), and how long unpaid ones are kept; zero
	// fields take DefaultClaimLimits'.
	Claims store.ClaimLimits
	// ReplayMemory bounds the replayed notifications in flight on this
	// instance, in bytes; 0 = DefaultReplayMemory. Replays wait for room.
	ReplayMemory int64
	// RevocationPoll is how often revoked tokens are looked up to close
	// their connections; 0 = 2s.
	RevocationPoll time.Duration
	// FeedPoll is how often the store is read for new notifications even
	// without a signal (PostgreSQL's LISTEN down); 0 = 1s.
	FeedPoll time.Duration
}

// DefaultClaimLimits: a kiosk's orders expire within 2 hours (plus the
// time it keeps following an unpaid one), so an unpaid claim is kept a
// day; a kiosk starts far fewer than 2,000 orders a day (one every 43 s
// around the clock), and 100,000 is 50 such kiosks of one merchant.
var DefaultClaimLimits = store.ClaimLimits{TTL: 24 * time.Hour, PerDevice: 2000, PerMerchant: 100000}

// DefaultRetain is how long the relay keeps a notification unless told:
// long enough to look back at a quarter's disputes, short enough that a
// busy shop's journal stays around a hundred MB.
const DefaultRetain = 90 * 24 * time.Hour

// Server is the relay: an http.Handler plus the store and the hub.
type Server struct {
	cfg       Config
	log       *slog.Logger
	st        store.Store
	hub       *hub
	m         Metrics
	mux       *http.ServeMux
	upgrader  websocket.Upgrader
	tokenSum  [sha256.Size]byte
	merchants map[string]map[string]Merchant // gateway → id → merchant

	closing atomic.Bool
	wg      sync.WaitGroup // connection goroutines

	kick        chan struct{} // wakes the fan-out: something was stored here
	replaySem   chan struct{} // replay pages read at once
	replaySlots chan struct{} // replay pages in flight (ReplayMemory / replayPageCost)
	stopBG      context.CancelFunc
	bg          sync.WaitGroup // fan-out, pruning, revocation watch

	fanMu   sync.Mutex
	fanned  int64         // the fan-out has offered every notification up to this id
	fanWait chan struct{} // closed when fanned advances

	shared *credential // the shared Token's, one for all its connections

	readyMu     sync.Mutex
	readyAt     time.Time
	readyErr    error
	lastFailure atomic.Pointer[writeFailure] // nil while the last notification write succeeded

	sources  *sourceLimiter
	wsLog    *logSampler // handshake refusals
	subLog   *logSampler // subscription refusals
	notifLog *logSampler // refused notifications

	hintMu sync.Mutex
	hinted map[netip.Addr]time.Time // proxy hints logged, per peer
}

// NewServer checks cfg, opens (and migrates) the store, proves it can
// commit a write, and starts the fan-out, pruning and revocation watch.
func NewServer(cfg Config) (*Server, error) {
	if cfg.Store == nil {
		return nil, errors.New("relay: a Store is required (relay/sqlitestore or relay/pgstore)")
	}
	st := cfg.Store
	fail := func(err error) (*Server, error) {
		st.Close()
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	merchants, err := checkMerchants(cfg)
	if err != nil {
		return fail(err)
	}
	if cfg.Instance == "" {
		cfg.Instance, _ = os.Hostname()
	}
	if cfg.PingInterval <= 0 {
		cfg.PingInterval = 30 * time.Second
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = 10 * time.Second
	}
	if cfg.SendQueue <= 0 {
		cfg.SendQueue = 16
	}
	if cfg.ReplayWindow <= 0 {
		cfg.ReplayWindow = 48 * time.Hour
	}
	if cfg.Retain == 0 {
		cfg.Retain = DefaultRetain
	}
	if cfg.Retain > 0 && cfg.Retain < cfg.ReplayWindow {
		return fail(fmt.Errorf("relay: Retain (%v) must be at least ReplayWindow (%v): a reconnecting kiosk replays that far back", cfg.Retain, cfg.ReplayWindow))
	}
	if cfg.PruneEvery <= 0 {
		cfg.PruneEvery = time.Hour
	}
	if cfg.MaxSubscriptions <= 0 {
		cfg.MaxSubscriptions = 256
	}
	if cfg.MaxConnsPerToken <= 0 {
		cfg.MaxConnsPerToken = 8
	}
	if cfg.MaxConnsShared <= 0 {
		cfg.MaxConnsShared = 1000
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = 20000
	}
	if cfg.RefusalsPerMinute <= 0 {
		cfg.RefusalsPerMinute = 60
	}
	if cfg.Claims.TTL <= 0 {
		cfg.Claims.TTL = DefaultClaimLimits.TTL
	}
	if cfg.Claims.PerDevice <= 0 {
		cfg.Claims.PerDevice = DefaultClaimLimits.PerDevice
	}
	if cfg.Claims.PerMerchant <= 0 {
		cfg.Claims.PerMerchant = DefaultClaimLimits.PerMerchant
	}
	if cfg.ReplayMemory <= 0 {
		cfg.ReplayMemory = DefaultReplayMemory
	}
	if cfg.RevocationPoll <= 0 {
		cfg.RevocationPoll = 2 * time.Second
	}
	if cfg.FeedPoll <= 0 {
		cfg.FeedPoll = time.Second
	}
	s := &Server{cfg: cfg, log: cfg.Logger, hub: newHub(), merchants: merchants,
		kick: make(chan struct{}, 1), replaySem: make(chan struct{}, 8),
		replaySlots: make(chan struct{}, max(1, cfg.ReplayMemory/replayPageCost)),
		hinted:      make(map[netip.Addr]time.Time), fanWait: make(chan struct{}),
		sources: newSourceLimiter(cfg.RefusalsPerMinute), wsLog: newLogSampler(), subLog: newLogSampler(),
		notifLog: newLogSampler()}
	if cfg.Token != "" {
		s.tokenSum = sha256.Sum256([]byte(cfg.Token))
	}
	s.shared = &credential{scope: store.Scope{Merchant: DefaultMerchant}, limit: cfg.MaxConnsShared}

	s.st = st
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// A relay that cannot store a notification must not start and look
	// healthy: every notification would be answered 503.
	if err := st.Ready(ctx, cfg.Instance); err != nil {
		return fail(err)
	}
	last, err := st.LastID(ctx)
	if err != nil {
		return fail(fmt.Errorf("relay: reading the store: %w", err))
	}

	s.m = cfg.Metrics
	if s.m == nil {
		s.m = noMetrics{}
	}
	if err := s.m.Info(cfg.Instance, st.Kind(), st.Listener); err != nil {
		return fail(fmt.Errorf("relay: metrics: %w", err))
	}
	s.m.Ready(true)

	s.upgrader = websocket.Upgrader{
		HandshakeTimeout: 10 * time.Second,
		// Small buffers, and a write buffer borrowed only while writing:
		// most kiosks are idle almost all the time.
		ReadBufferSize:  512,
		WriteBufferSize: 4096,
		WriteBufferPool: &sync.Pool{},
		// Kiosks are not browsers and authenticate with a bearer token, not
		// a cookie, so a foreign Origin cannot ride on ambient credentials.
		CheckOrigin: func(*http.Request) bool { return true },
	}
	s.mux = http.NewServeMux()
	// /notify/{gateway} is the one-shop merchant's (QFPay's /notify/qfpay
	// from before there were several merchants).
	s.mux.HandleFunc("/notify/{gateway}", func(w http.ResponseWriter, r *http.Request) {
		s.handleNotify(w, r, r.PathValue("gateway"), DefaultMerchant)
	})
	s.mux.HandleFunc("/notify/{gateway}/{merchant}", func(w http.ResponseWriter, r *http.Request) {
		s.handleNotify(w, r, r.PathValue("gateway"), r.PathValue("merchant"))
	})
	s.mux.HandleFunc("GET /ws", s.handleWS)
	s.mux.HandleFunc("GET /healthz", s.handleHealth)
	s.mux.HandleFunc("GET /readyz", s.handleReady)
	if cfg.Metrics != nil {
		s.mux.Handle("GET /metrics", cfg.Metrics)
	}

	bgctx, stop := context.WithCancel(context.Background())
	s.stopBG = stop
	s.bg.Add(3)
	go s.fanout(bgctx, last)
	go s.pruneLoop(bgctx)
	go s.watchRevocations(bgctx)
	s.log.Info("relay store open", "storage", st.Kind(), "instance", cfg.Instance, "merchants", s.merchantCount(),
		"last_id", last)
	return s, nil
}

func hasDefault(idx map[string]map[string]Merchant) bool {
	for _, ms := range idx {
		if _, ok := ms[DefaultMerchant]; ok {
			return true
		}
	}
	return false
}

// CheckMerchants runs NewServer's checks of the merchants (Key,
// ScanForPayKey, Merchants) and of the shared Token, and nothing else: a
// configuration check says what NewServer would refuse.
func CheckMerchants(cfg Config) error {
	_, err := checkMerchants(cfg)
	return err
}

func checkMerchants(cfg Config) (map[string]map[string]Merchant, error) {
	merchants, err := merchantIndex(cfg)
	if err != nil {
		return nil, err
	}
	if cfg.Token != "" && !hasDefault(merchants) {
		return nil, errors.New("relay: the shared Token sees the one-shop merchant's notifications, and there is none: set Key (--qfpay-key) or a merchant named \"default\", or give each kiosk its own token")
	}
	return merchants, nil
}

// merchantIndex checks and indexes the configured merchants. A merchant
// id may appear once per gateway: a shop on two gateways is one merchant,
// and its kiosks' tokens see both.
func merchantIndex(cfg Config) (map[string]map[string]Merchant, error) {
	var ms []Merchant
	if cfg.Key != "" {
		ms = append(ms, Merchant{ID: DefaultMerchant, Gateway: "qfpay", Key: cfg.Key})
	}
	if cfg.ScanForPayKey != "" {
		ms = append(ms, Merchant{ID: DefaultMerchant, Gateway: scanforpay.Name, Key: cfg.ScanForPayKey})
	}
	ms = append(ms, cfg.Merchants...)
	if len(ms) == 0 {
		return nil, errors.New("relay: a merchant is required: Key (QFPay's client key), ScanForPayKey, or Merchants")
	}
	idx := make(map[string]map[string]Merchant)
	for _, m := range ms {
		if err := m.validate(); err != nil {
			return nil, fmt.Errorf("relay: %w", err)
		}
		if _, dup := idx[m.Gateway][m.ID]; dup {
			if m.ID == DefaultMerchant && (m.Gateway == "qfpay" && cfg.Key != "" || m.Gateway == scanforpay.Name && cfg.ScanForPayKey != "") {
				return nil, fmt.Errorf("relay: merchant \"default\" on %s is configured twice: by its key setting and in Merchants", m.Gateway)
			}
			return nil, fmt.Errorf("relay: merchant %s on %s is configured twice", m.ID, m.Gateway)
		}
		if idx[m.Gateway] == nil {
			idx[m.Gateway] = make(map[string]Merchant)
		}
		idx[m.Gateway][m.ID] = m
	}
	return idx, nil
}

// serves reports whether merchant id is configured for any gateway.
func (s *Server) serves(id string) bool {
	for _, ms := range s.merchants {
		if _, ok := ms[id]; ok {
			return true
		}
	}
	return false
}

func (s *Server) merchantCount() int {
	n := 0
	for _, ms := range s.merchants {
		n += len(ms)
	}
	return n
}

// Handler serves /notify/…, /ws, /healthz, /readyz and /metrics.
func (s *Server) Handler() http.Handler { return s.mux }

// Storage is the store's Kind: "sqlite" or "postgres".
func (s *Server) Storage() string { return s.st.Kind() }

// Shutdown closes every websocket with "going away" (after flushing what
// is queued), waits for their goroutines, stops the background work, then
// closes the store. Call it after http.Server.Shutdown so notifications in
// flight finish first: hijacked websockets are not closed by
// http.Server.Shutdown.
func (s *Server) Shutdown(ctx context.Context) error {
	s.closing.Store(true)
	conns := s.hub.closeAll()
	for _, c := range conns {
		c.close(websocket.CloseGoingAway, "relay shutting down", false)
	}
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
		for _, c := range conns {
			c.ws.Close()
		}
		<-done
	}
	s.stopBG()
	s.bg.Wait()
	s.log.Info("relay stopped", "kiosks_closed", len(conns))
	return errors.Join(err, s.st.Close())
}

// fanout delivers every stored notification, whichever instance stored
// it, to this instance's kiosks: it reads the store by id from where it
// left off whenever this instance stores something, another instance
// signals (LISTEN), or FeedPoll passes. Ids become visible in order, so
// a dropped database connection loses nothing: the next read catches up.
func (s *Server) fanout(ctx context.Context, last int64) {
	defer s.bg.Done()
	t := time.NewTicker(s.cfg.FeedPoll)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.kick:
		case <-s.st.Changed():
		case <-t.C:
		}
		for {
			recs, err := s.st.After(ctx, last, feedPage)
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				s.m.StoreError()
				if !failing {
					s.log.Error("fan-out: reading the store; kiosks here get no pushes until it answers", "err", err)
					failing = true
				}
				break
			}
			if failing {
				s.log.Info("fan-out: the store answers again", "after_id", last)
				failing = false
			}
			for _, r := range recs {
				s.broadcast(r)
				last = r.ID
			}
			s.m.FannedOut(len(recs))
			if len(recs) > 0 {
				s.advance(last)
			}
			if len(recs) < feedPage {
				break
			}
		}
	}
}

func (s *Server) advance(id int64) {
	s.fanMu.Lock()
	defer s.fanMu.Unlock()
	s.fanned = id
	close(s.fanWait)
	s.fanWait = make(chan struct{})
}

// waitFanned waits, at most timeout, until the fan-out has offered the
// notification with id to this instance's kiosks.
func (s *Server) waitFanned(id int64, timeout time.Duration) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		s.fanMu.Lock()
		done, ch := s.fanned >= id, s.fanWait
		s.fanMu.Unlock()
		if done {
			return
		}
		select {
		case <-ch:
		case <-t.C:
			return
		}
	}
}

// pruneLoop deletes notifications older than cfg.Retain (unless they are
// kept for ever) and unpaid claims older than cfg.Claims.TTL, now and
// then every cfg.PruneEvery, until Shutdown.
func (s *Server) pruneLoop(ctx context.Context) {
	defer s.bg.Done()
	t := time.NewTicker(s.cfg.PruneEvery)
	defer t.Stop()
	for {
		var before time.Time // zero: notifications are kept for ever (unpaid claims still expire)
		if s.cfg.Retain > 0 {
			before = time.Now().Add(-s.cfg.Retain)
		}
		n, ran, err := s.st.Prune(ctx, before, s.cfg.Claims.TTL, s.cfg.PruneEvery)
		s.m.Pruned(n)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			s.m.StoreError()
			s.log.Error("journal prune", "err", err)
		case n > 0:
			s.log.Info("journal pruned", "deleted", n, "received_before", before.UTC().Format(time.RFC3339))
		case !ran:
			s.log.Debug("journal prune: another instance did it")
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// watchRevocations closes, within RevocationPoll, the connections of a
// token revoked on any instance (the token commands write the store).
// Each look-up overlaps the previous by a minute of the store's clock, so
// a revocation committed late is still seen.
func (s *Server) watchRevocations(ctx context.Context) {
	defer s.bg.Done()
	t := time.NewTicker(s.cfg.RevocationPoll)
	defer t.Stop()
	var since time.Time // the first look-up lists every revoked token
	for {
		ids, now, err := s.st.RevokedSince(ctx, since)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			s.m.StoreError()
			s.log.Warn("revocation watch: reading the store", "err", err)
		default:
			since = now.Add(-time.Minute)
			for _, c := range s.hub.withTokens(ids) {
				if c.closing() {
					continue
				}
				s.m.KioskDisconnected(reasonRevoked)
				s.log.Info("ws: token revoked, disconnecting the kiosk", "token_id", c.cred.tokenID,
					"merchant", c.cred.scope.Merchant, "udid", c.cred.scope.UDID, "remote", c.remote)
				c.close(websocket.ClosePolicyViolation, "token revoked", false)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// handleNotify is a merchant's notify URL. Only the gateway's success
// reply stops its retries, so it is sent only once the notification is
// durable (committed in PostgreSQL, or fsynced in SQLite).
func (s *Server) handleNotify(w http.ResponseWriter, r *http.Request, gatewayName, merchantID string) {
	receivedAt := time.Now()
	s.m.Notification(resultReceived)
	src := s.sourceAddr(r)
	log := s.log.With("remote", src.String(), "gateway", gatewayName, "merchant", merchantID)
	if r.Method != http.MethodPost {
		s.m.Notification(resultRejected)
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	gw, known := gateways[gatewayName]
	m, configured := s.merchants[gatewayName][merchantID]
	if !known || !configured {
		s.m.Notification(resultRejected)
		s.notifLog.warn(log, "notify: no such merchant on this relay", "path", r.URL.Path)
		http.Error(w, "no such merchant", http.StatusNotFound)
		return
	}
	if gw.AllowListed() && len(s.cfg.AllowIPs) > 0 && !containsAddr(s.cfg.AllowIPs, src) {
		s.m.Notification(resultRejected)
		s.notifLog.warn(log, "notify: source not in allow-list")
		s.proxyHint(r, src)
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxNotifyBody))
	if err != nil {
		s.m.Notification(resultRejected)
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.notifLog.warn(log, "notify: body too large", "limit", MaxNotifyBody)
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		s.notifLog.warn(log, "notify: reading body", "err", err)
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	n, err := gw.Verify(raw, r, m.Key)
	if err == nil {
		err = n.check()
	}
	switch {
	case errors.Is(err, ErrMalformed):
		s.m.Notification(resultVerified)
		s.m.Notification(resultMalformed)
		log.Warn("notify: signed but malformed", "err", err)
		http.Error(w, "malformed notification", http.StatusBadRequest)
		return
	case err != nil:
		s.m.Notification(resultRejected)
		s.notifLog.warn(log, "notify: signature rejected", "err", err, "bytes", len(raw))
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	s.m.Notification(resultVerified)
	rec := &store.Record{
		Merchant:   m.ID,
		Gateway:    gw.Name(),
		SysSN:      n.EventID,
		NotifyType: n.Kind,
		OutTradeNo: n.OutTradeNo,
		UDID:       n.UDID,
		Body:       raw,
		Sign:       n.Sign,
		SignType:   n.SignType,
		ReceivedAt: receivedAt,
	}
	log = log.With("syssn", rec.SysSN, "notify_type", rec.NotifyType, "out_trade_no", rec.OutTradeNo)
	inserted, err := s.st.Append(r.Context(), rec)
	if r.Context().Err() == nil && !errors.Is(err, store.ErrClosed) {
		s.noteAppend(err)
	}
	if err != nil {
		s.m.Notification(resultFailed)
		log.Error("notify: not stored; answered 503 so the gateway retries", "err", err)
		http.Error(w, "not stored, retry", http.StatusServiceUnavailable)
		return
	}
	if inserted {
		select {
		case s.kick <- struct{}{}:
		default:
		}
		// Answer once this instance's kiosks have it queued, as a relay
		// that broadcast in the handler did: a kiosk subscribing after
		// SUCCESS then gets it by replay only, not twice. The row is
		// durable already, so a stuck fan-out only delays the answer.
		s.waitFanned(rec.ID, time.Second)
		log.Info("notify: stored", "id", rec.ID, "udid", rec.UDID)
	} else {
		s.m.Notification(resultDuplicate)
		log.Info("notify: duplicate")
	}
	ct, body := gw.Reply()
	w.Header().Set("Content-Type", ct)
	io.WriteString(w, body)
}

// proxyHint explains an allow-list refusal that is really a missing
// --trusted-proxy: the request came through a proxy, so the address the
// list saw was the proxy's. Once a minute per proxy.
func (s *Server) proxyHint(r *http.Request, src netip.Addr) {
	if r.Header.Get("X-Forwarded-For") == "" || containsAddr(s.cfg.TrustedProxies, src) {
		return
	}
	s.hintMu.Lock()
	last := s.hinted[src]
	fresh := time.Since(last) > time.Minute
	if fresh {
		s.hinted[src] = time.Now()
	}
	s.hintMu.Unlock()
	if fresh {
		s.log.Warn("notify: the refused request came through a proxy (it sent X-Forwarded-For), so the allow-list saw the proxy's address; if that proxy is yours, start the relay with --trusted-proxy "+src.String(),
			"proxy", src.String(), "x_forwarded_for", r.Header.Get("X-Forwarded-For"))
	}
}

// broadcast offers a stored notification to the connections that follow
// it, and refuses the subscriptions of those that may not see it.
func (s *Server) broadcast(rec *store.Record) {
	frame, err := encodeNotification(rec, false)
	if err != nil {
		s.log.Error("encode notification", "err", err)
		return
	}
	dropped, foreign := s.hub.broadcast(rec, frame)
	for _, c := range dropped {
		s.dropSlow(c, "send queue full")
	}
	for _, c := range foreign {
		s.hub.unsubscribe(c, rec.OutTradeNo, "")
		s.log.Warn("ws: notification withheld from a kiosk outside its scope", "out_trade_no", rec.OutTradeNo,
			"notification_merchant", rec.Merchant, "notification_udid", rec.UDID, "token_id", c.cred.tokenID,
			"token_merchant", c.cred.scope.Merchant, "token_udid", c.cred.scope.UDID)
		s.refuseSub(c, wire.KioskFrame{Type: wire.TypeSubscribe, OutTradeNo: rec.OutTradeNo}, reasonForeignOrder,
			"a notification for it, just stored, is another device's or merchant's: subscription dropped")
	}
}

func (s *Server) dropSlow(c *wsConn, why string) {
	if c.closing() {
		return
	}
	s.m.SlowKioskDropped()
	s.log.Warn("ws: dropping slow kiosk", "remote", c.remote, "udid", c.udid, "why", why)
	c.close(websocket.CloseTryAgainLater, "too slow", true)
}

// sourceAddr is the notifier's address: the TCP peer, or behind trusted
// proxies the right-most X-Forwarded-For entry that is not one of them.
func (s *Server) sourceAddr(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	a := ap.Addr().Unmap()
	if !containsAddr(s.cfg.TrustedProxies, a) {
		return a
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		h := strings.TrimSpace(hops[i])
		if h == "" {
			continue
		}
		p, err := netip.ParseAddr(h)
		if err != nil {
			return netip.Addr{}
		}
		a = p.Unmap()
		if !containsAddr(s.cfg.TrustedProxies, a) {
			return a
		}
	}
	return a
}

func containsAddr(ps []netip.Prefix, a netip.Addr) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// QFPayNotifierAddrs are the addresses QFPay sends notifications from,
// the "qfpay" preset of ParseAllowList.
var QFPayNotifierAddrs = []string{"13.228.112.115", "18.138.115.47", "18.166.202.92"}

// ParseAllowList reads a comma-separated list of IPs and CIDR prefixes;
// the word "qfpay" stands for QFPayNotifierAddrs. Empty means any.
func ParseAllowList(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		var items []string
		switch {
		case f == "":
			continue
		case strings.EqualFold(f, "qfpay"):
			items = QFPayNotifierAddrs
		default:
			items = []string{f}
		}
		for _, it := range items {
			if strings.Contains(it, "/") {
				p, err := netip.ParsePrefix(it)
				if err != nil {
					return nil, fmt.Errorf("relay: allow-list entry %q: %w", it, err)
				}
				out = append(out, p.Masked())
				continue
			}
			a, err := netip.ParseAddr(it)
			if err != nil {
				return nil, fmt.Errorf("relay: allow-list entry %q: not an IP, CIDR or \"qfpay\"", it)
			}
			a = a.Unmap()
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
		}
	}
	return out, nil
}

func (s *Server) readPump(c *wsConn) {
	why := "closed"
	defer func() {
		if s.hub.remove(c) {
			s.m.Connections(-1)
		}
		if c.closing() && c.closeText != "" {
			why = c.closeText // the relay closed it, saying why
		}
		c.close(0, "", true)
		s.wg.Done()
		s.log.Info("kiosk disconnected", "remote", c.remote, "udid", c.udid, "token_id", c.cred.tokenID,
			"after", (time.Duration(time.Now().Unix()-c.since) * time.Second).String(), "why", why)
	}()
	wait := 2 * s.cfg.PingInterval
	c.ws.SetReadLimit(wire.MaxInboundFrame)
	c.ws.SetReadDeadline(time.Now().Add(wait))
	c.ws.SetPongHandler(func(string) error { return c.ws.SetReadDeadline(time.Now().Add(wait)) })
	for {
		kind, data, err := c.ws.ReadMessage()
		if err != nil {
			why = err.Error()
			return
		}
		c.ws.SetReadDeadline(time.Now().Add(wait))
		if kind != websocket.TextMessage {
			why = "sent a binary frame"
			s.m.KioskDisconnected(reasonBinaryFrame)
			c.close(websocket.CloseUnsupportedData, "binary frames are not accepted: send JSON text", false)
			return
		}
		if !utf8.Valid(data) {
			why = "sent invalid UTF-8"
			s.m.KioskDisconnected(reasonInvalidUTF8)
			c.close(websocket.CloseInvalidFramePayloadData, "text frame is not valid UTF-8", false)
			return
		}
		var req wire.KioskFrame
		if err := json.Unmarshal(data, &req); err != nil {
			s.reply(c, wire.RelayFrame{Type: wire.TypeError, Error: "not a JSON message"})
			continue
		}
		switch {
		case len(req.OutTradeNo) > wire.MaxOutTradeNo || len(req.UDID) > wire.MaxUDID:
			s.reply(c, wire.RelayFrame{Type: wire.TypeError, Error: "out_trade_no or udid too long"})
		case req.OutTradeNo == "" && req.UDID == "":
			s.reply(c, wire.RelayFrame{Type: wire.TypeError, Error: "out_trade_no or udid required"})
		case req.Type == wire.TypeSubscribe:
			if !s.subscribe(c, req) {
				why = "replay failed or stalled"
				return
			}
		case req.Type == wire.TypeUnsubscribe:
			s.hub.unsubscribe(c, req.OutTradeNo, req.UDID)
		default:
			s.reply(c, wire.RelayFrame{Type: wire.TypeError, Error: "unknown type"})
		}
	}
}

// subscriptionRefused is the error of every refused subscription to an
// out_trade_no, whatever the reason: another device's order, another
// merchant's, a limit, the store. Told apart, they would say whether an
// order exists at any merchant; the kiosk does the same in every case
// (polls the gateway for that order), and the reason goes to the log
// and the metric.
const subscriptionRefused = "subscription refused: no push for this order; poll the gateway"

// refuseSub answers a subscription with an error naming it, and logs it
// (sampled) with the reason and detail. A udid subscription's error says
// why (detail): it concerns the token's own device only.
func (s *Server) refuseSub(c *wsConn, req wire.KioskFrame, reason, detail string) {
	s.m.SubscriptionRefused(reason)
	s.subLog.warn(s.log, "ws: subscription refused", "reason", reason, "detail", detail, "remote", c.remote,
		"token_id", c.cred.tokenID, "merchant", c.cred.scope.Merchant, "token_udid", c.cred.scope.UDID,
		"out_trade_no", req.OutTradeNo, "udid", req.UDID)
	msg := detail
	if req.OutTradeNo != "" {
		msg = subscriptionRefused
	}
	s.reply(c, wire.RelayFrame{Type: wire.TypeError, OutTradeNo: req.OutTradeNo, UDID: req.UDID, Error: msg})
}

// onShortGoroutine runs a store call on a goroutine of its own: SQLite's
// deep call stack would otherwise stay with the long-lived reader,
// costing every idle connection many KB.
func onShortGoroutine[T any](f func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := f()
		done <- result{v, err}
	}()
	r := <-done
	return r.v, r.err
}

// subscribe checks the subscription against the kiosk's credential,
// registers it, then streams what is stored (replay): in that order
// nothing committed in between is missed (it may come twice).
func (s *Server) subscribe(c *wsConn, req wire.KioskFrame) bool {
	scope := c.cred.scope
	if req.UDID != "" && scope.UDID != "" && req.UDID != scope.UDID {
		s.refuseSub(c, req, reasonForeignDevice, fmt.Sprintf("udid %s: this kiosk's token is for device %s only", req.UDID, scope.UDID))
		return true
	}
	if err := s.hub.room(c, req.OutTradeNo, req.UDID, s.cfg.MaxSubscriptions); err != nil {
		s.refuseSub(c, req, reasonTooManySubs, err.Error())
		return true
	}
	if req.OutTradeNo != "" && scope.UDID != "" {
		owner, err := onShortGoroutine(func() (string, error) {
			ctx, cancel := context.WithTimeout(context.Background(), s.cfg.WriteTimeout)
			defer cancel()
			return s.st.Claim(ctx, scope.Merchant, req.OutTradeNo, scope.UDID, s.cfg.Claims)
		})
		switch {
		case errors.Is(err, store.ErrDeviceClaimLimit):
			s.refuseSub(c, req, reasonDeviceClaimLimit, err.Error())
			return true
		case errors.Is(err, store.ErrMerchantClaimLimit):
			s.refuseSub(c, req, reasonMerchantClaimLimit, err.Error())
			return true
		case err != nil:
			s.log.Error("ws: subscribe", "out_trade_no", req.OutTradeNo, "err", err)
			s.refuseSub(c, req, reasonUnavailable, "relay storage unavailable")
			return true
		case owner != scope.UDID:
			s.refuseSub(c, req, reasonForeignOrder, "another device claimed the order first, or a notification names it")
			return true
		}
	}
	if req.OutTradeNo != "" {
		foreign, err := onShortGoroutine(func() (bool, error) {
			ctx, cancel := context.WithTimeout(context.Background(), s.cfg.WriteTimeout)
			defer cancel()
			return s.st.Foreign(ctx, req.OutTradeNo, scope)
		})
		if err != nil {
			s.log.Error("ws: subscribe", "out_trade_no", req.OutTradeNo, "err", err)
			s.refuseSub(c, req, reasonUnavailable, "relay storage unavailable")
			return true
		}
		if foreign {
			s.refuseSub(c, req, reasonForeignOrder, "a stored notification for it is another device's or merchant's")
			return true
		}
	}
	if err := s.hub.subscribe(c, req.OutTradeNo, req.UDID, s.cfg.MaxSubscriptions); err != nil {
		if errors.Is(err, errTooManySubs) {
			s.refuseSub(c, req, reasonTooManySubs, err.Error())
			return true
		}
		return false
	}
	q := store.ReplayQuery{Scope: scope, OutTradeNo: req.OutTradeNo, UDID: req.UDID, Since: time.Now().Add(-s.cfg.ReplayWindow)}
	n, ok := s.replay(c, q)
	if !ok {
		return false
	}
	ack := wire.RelayFrame{Type: wire.TypeSubscribed, OutTradeNo: req.OutTradeNo, UDID: req.UDID, Replayed: &n}
	frame, _ := json.Marshal(ack)
	return s.enqueue(c, &outbound{data: frame})
}

// reply queues a control answer without waiting: if the queue is full the
// kiosk is not reading and will be dropped by the next broadcast anyway.
func (s *Server) reply(c *wsConn, m wire.RelayFrame) {
	frame, _ := json.Marshal(m)
	select {
	case c.send <- &outbound{data: frame}:
	default:
	}
}

func (s *Server) enqueue(c *wsConn, m *outbound) bool {
	t := time.NewTimer(s.cfg.WriteTimeout)
	defer t.Stop()
	select {
	case c.send <- m:
		return true
	case <-c.stop:
		return false
	case <-t.C:
		s.dropSlow(c, "replay stalled")
		return false
	}
}

// writePump is the only writer of data frames on c (gorilla allows one
// concurrent writer). It owns closing the socket.
func (s *Server) writePump(c *wsConn) {
	ticker := time.NewTicker(s.cfg.PingInterval)
	defer func() {
		ticker.Stop()
		c.ws.Close()
		s.wg.Done()
	}()
	for {
		select {
		case m := <-c.send:
			if !s.write(c, m) {
				return
			}
		case <-ticker.C:
			if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(s.cfg.WriteTimeout)); err != nil {
				c.close(0, "", true)
				return
			}
		case <-c.stop:
			if c.closeCode == 0 {
				return
			}
			// A graceful close: flush what is already queued first.
			for flushing := true; flushing; {
				select {
				case m := <-c.send:
					if !s.write(c, m) {
						return
					}
				default:
					flushing = false
				}
			}
			c.ws.WriteControl(websocket.CloseMessage,
				websocket.FormatCloseMessage(c.closeCode, c.closeText), time.Now().Add(time.Second))
			return
		}
	}
}

func (s *Server) write(c *wsConn, m *outbound) bool {
	if m.written != nil {
		defer close(m.written)
	}
	c.ws.SetWriteDeadline(time.Now().Add(s.cfg.WriteTimeout))
	if err := c.ws.WriteMessage(websocket.TextMessage, m.data); err != nil {
		var ne interface{ Timeout() bool }
		if errors.As(err, &ne) && ne.Timeout() {
			s.dropSlow(c, "write timed out")
		}
		c.close(0, "", true)
		return false
	}
	if !m.receivedAt.IsZero() {
		s.m.Delivered(time.Since(m.receivedAt))
	}
	return true
}
