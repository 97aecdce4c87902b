// Package store is what the relay asks of the place it keeps
// notifications, kiosk tokens and order claims: the Store interface and
// the records it holds. relay/sqlitestore and relay/pgstore keep it.
package store

import (
	"context"
	"errors"
	"time"
)

// Record is one genuine notification as stored: the raw body and its
// signature exactly as the gateway sent them, plus the keys it is found by.
type Record struct {
	ID         int64
	Merchant   string // the relay's merchant id (the notify path's last segment)
	Gateway    string // "qfpay", …
	SysSN      string // the gateway's transaction id (QFPay syssn); with NotifyType the de-duplication key
	NotifyType string
	OutTradeNo string
	UDID       string
	Body       []byte
	Sign       string
	SignType   string
	ReceivedAt time.Time // kept to the microsecond by every store
}

// Scope is what one kiosk credential may see: one merchant's
// notifications, and with UDID set only that device's orders. An order is
// a device's when the gateway's notification names the device (QFPay's
// udid, if it sends one) or, when it names none, when that device claimed
// the order's out_trade_no first (Store.Claim: the kiosk subscribes to its
// order as it creates it, and an out_trade_no carries 64 random bits, so
// no other kiosk can know it sooner).
type Scope struct {
	Merchant string
	UDID     string // "" = every device of the merchant (the shared --token)
}

// Allows reports whether a stored notification the gateway attributes to
// a device, or to none, is within the scope without any claim.
func (s Scope) Allows(r *Record) bool {
	return r.Merchant == s.Merchant && (s.UDID == "" || r.UDID == s.UDID)
}

// AllowsClaimed is Allows for a notification of an order the scope's
// device has claimed: one naming no device is its too.
func (s Scope) AllowsClaimed(r *Record) bool {
	return r.Merchant == s.Merchant && (s.UDID == "" || r.UDID == "" || r.UDID == s.UDID)
}

// ReplayQuery selects what a subscription replays: notifications within
// Scope (counting the orders its device claimed) for OutTradeNo, or for
// UDID received since Since (either matches).
type ReplayQuery struct {
	Scope      Scope
	OutTradeNo string
	UDID       string
	Since      time.Time
}

// Token is a kiosk credential as stored: only the SHA-256 of the secret.
type Token struct {
	ID        int64
	Hash      []byte
	Merchant  string
	UDID      string
	Note      string
	CreatedAt time.Time
	RevokedAt time.Time // zero while valid
}

// Scope is what the token may see.
func (t *Token) Scope() Scope { return Scope{Merchant: t.Merchant, UDID: t.UDID} }

// Store is where the relay keeps notifications and kiosk tokens: SQLite in
// a data directory for one relay (the default), or PostgreSQL shared by
// several. Both pass the same behavioural tests (store_test.go).
type Store interface {
	// Kind names the implementation in logs, metrics and /readyz:
	// "sqlite", "postgres".
	Kind() string
	// Listener tells of the connection that feeds Changed (PostgreSQL's
	// LISTEN): has is false for a store only this process writes, which
	// needs none; up is whether it is connected now.
	Listener() (has, up bool)

	// Append stores rec unless a record with the same (merchant, gateway,
	// syssn, notify_type) is there, and returns once the outcome is
	// durable: inserted is false for a duplicate; rec.ID is set when
	// inserted. Concurrent appends are committed together.
	Append(ctx context.Context, rec *Record) (inserted bool, err error)
	// After returns up to limit records with id > after, in id order.
	// Records become visible in id order, so a reader that remembers the
	// last id it saw misses none: that is how every relay instance learns
	// what any instance stored.
	After(ctx context.Context, after int64, limit int) ([]*Record, error)
	// LastID is the highest id stored, 0 when empty.
	LastID(ctx context.Context) (int64, error)
	// Changed receives a value when another process may have stored
	// records (PostgreSQL's LISTEN); nil when only this process writes.
	Changed() <-chan struct{}
	// Replay returns the next page, up to limit records with id > after,
	// that q selects, in id order: fewer once their bodies hold
	// ReplayPageBytes, so a page of large notifications stays small.
	Replay(ctx context.Context, q ReplayQuery, after int64, limit int) ([]*Record, error)
	// Foreign reports whether a notification for outTradeNo is stored
	// that shows the order is another merchant's, or names another device.
	Foreign(ctx context.Context, outTradeNo string, scope Scope) (bool, error)
	// Claim returns the device that owns merchant's order outTradeNo: the
	// one a stored notification names, else the first to claim it, which
	// is udid if no device has. A new claim past limits is not stored:
	// ErrDeviceClaimLimit or ErrMerchantClaimLimit.
	Claim(ctx context.Context, merchant, outTradeNo, udid string, limits ClaimLimits) (owner string, err error)
	// Count is the number of stored notifications.
	Count(ctx context.Context) (int64, error)
	// Prune deletes notifications received before a time (none when it
	// is zero) with their orders' claims, and the claims older than
	// claimTTL (ClaimLimits.TTL; none when it is zero) of orders without a
	// notification, in small transactions. Relays sharing a store prune
	// once per period between them: ran is false when another did it less
	// than period ago or is doing it now.
	Prune(ctx context.Context, before time.Time, claimTTL, period time.Duration) (deleted int64, ran bool, err error)
	// Ready commits a small write (a heartbeat of instance) now: it fails
	// when the store is unreachable or refuses writes.
	Ready(ctx context.Context, instance string) error
	// Probe commits a write as large as the largest notification, then
	// removes it: after an append failed (a full disk, a quota), it tells
	// whether the store can take a notification again.
	Probe(ctx context.Context) error

	AddToken(ctx context.Context, t *Token) error
	// TokenByHash finds a token, revoked or not; ErrTokenNotFound if none.
	TokenByHash(ctx context.Context, hash []byte) (*Token, error)
	ListTokens(ctx context.Context) ([]*Token, error)
	// RevokeTokens revokes the token with id, or with id 0 every valid
	// token of merchant+udid, and returns how many it revoked.
	RevokeTokens(ctx context.Context, id int64, merchant, udid string) (int, error)
	// RevokedSince lists the tokens revoked at or after since, by the
	// store's clock, and returns that clock's now for the next call.
	RevokedSince(ctx context.Context, since time.Time) (ids []int64, now time.Time, err error)

	// PutReceipt stores an e-receipt under r.ID and returns the id it is
	// kept under: the one given, or, when the device already stored one
	// with the same Key (the kiosk sending it again), that one's, whose
	// Data it replaces. A new receipt past limits is not stored:
	// ErrDeviceReceiptLimit or ErrMerchantReceiptLimit.
	PutReceipt(ctx context.Context, r *Receipt, limits ReceiptLimits) (id string, err error)
	// Receipt finds a receipt by id; ErrReceiptNotFound if none.
	Receipt(ctx context.Context, id string) (*Receipt, error)
	// PruneReceipts deletes the receipts created before a time, and the
	// quota counts of days gone.
	PruneReceipts(ctx context.Context, before time.Time) (deleted int64, err error)

	// Close stops taking appends, finishes those already queued, and
	// closes the database.
	Close() error
}

// Receipt is an e-receipt as stored: what the customer's page shows
// (Data: wire.Receipt's JSON, checked), whose it is, and its id, the
// secret of its URL.
type Receipt struct {
	ID        string
	Merchant  string
	UDID      string // the device that sent it ("" for the shared token)
	Key       string // the device's own name for it: the same sale's receipt sent again replaces it
	Data      []byte
	CreatedAt time.Time
}

// ReceiptLimits bound the receipts one kiosk device, and all of one
// merchant's devices, may store a day; 0 = unbounded.
type ReceiptLimits struct {
	PerDevice, PerMerchant int
}

// MaxReceiptData is the largest receipt the stores take.
const MaxReceiptData = 8 << 10

var (
	// ErrClosed: the relay is shutting down and stores nothing more.
	ErrClosed = errors.New("relay: store closed")
	// ErrTokenNotFound: no token has that hash.
	ErrTokenNotFound = errors.New("relay: token not found")
	// ErrDeviceClaimLimit, ErrMerchantClaimLimit: a new claim would pass
	// ClaimLimits.PerDevice or PerMerchant.
	ErrDeviceClaimLimit   = errors.New("relay: the device has claimed as many orders as it may")
	ErrMerchantClaimLimit = errors.New("relay: the merchant's devices have claimed as many orders as they may")
	// ErrReceiptNotFound: no receipt has that id.
	ErrReceiptNotFound = errors.New("relay: receipt not found")
	// ErrDeviceReceiptLimit, ErrMerchantReceiptLimit: a new receipt would
	// pass ReceiptLimits.PerDevice or PerMerchant.
	ErrDeviceReceiptLimit   = errors.New("relay: the device has stored as many receipts as it may today")
	ErrMerchantReceiptLimit = errors.New("relay: the merchant's devices have stored as many receipts as they may today")
)

// ClaimLimits bound what one kiosk token can make the relay store (the
// server's policy: it passes them to Claim, and their TTL to Prune). A
// kiosk claims an order by subscribing to it, and claims outlive the
// connection: without a bound, one token could fill the disk by
// subscribing to made-up orders. A claim whose order was paid (a
// notification is stored) stays as long as the notification.
type ClaimLimits struct {
	// TTL is how long the claim of an order without a notification is
	// kept (the kiosk's orders expire within hours), and the window the
	// limits count new claims in, by the hour. 0 = kept as long as
	// notifications, no limits.
	TTL time.Duration
	// PerDevice and PerMerchant bound the new claims within TTL of one
	// device, and of all a merchant's devices together; 0 = unbounded.
	PerDevice, PerMerchant int
}

// MaxNotifyBody is the largest notification body the relay takes: the
// server refuses a larger one (413), and Store.Probe writes one this size.
const MaxNotifyBody = 64 << 10

// ReplayPageBytes bounds the bodies in one replay page (the page ends
// after the record that reaches it): what a replay holds in memory at
// once, whatever the size of the notifications.
const ReplayPageBytes = 64 << 10
