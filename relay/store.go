package relay

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"strings"
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

// allowsClaimed is Allows for a notification of an order the scope's
// device has claimed: one naming no device is its too.
func (s Scope) allowsClaimed(r *Record) bool {
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
	// replayPageBytes, so a page of large notifications stays small.
	Replay(ctx context.Context, q ReplayQuery, after int64, limit int) ([]*Record, error)
	// Foreign reports whether a notification for outTradeNo is stored
	// that shows the order is another merchant's, or names another device.
	Foreign(ctx context.Context, outTradeNo string, scope Scope) (bool, error)
	// Claim returns the device that owns merchant's order outTradeNo: the
	// one a stored notification names, else the first to claim it, which
	// is udid if no device has. A new claim past the store's ClaimLimits
	// is not stored: ErrDeviceClaimLimit or ErrMerchantClaimLimit.
	Claim(ctx context.Context, merchant, outTradeNo, udid string) (owner string, err error)
	// Count is the number of stored notifications.
	Count(ctx context.Context) (int64, error)
	// Prune deletes notifications received before a time (none when it
	// is zero) with their orders' claims, and the claims older than the
	// ClaimLimits' TTL of orders without a notification, in small
	// transactions. Relays sharing a store prune once per period between
	// them: ran is false when another did it less than period ago or is
	// doing it now.
	Prune(ctx context.Context, before time.Time, period time.Duration) (deleted int64, ran bool, err error)
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

	// Close stops taking appends, finishes those already queued, and
	// closes the database.
	Close() error
}

var (
	// ErrStoreClosed: the relay is shutting down and stores nothing more.
	ErrStoreClosed = errors.New("relay: store closed")
	// ErrTokenNotFound: no token has that hash.
	ErrTokenNotFound = errors.New("relay: token not found")
	// ErrDeviceClaimLimit, ErrMerchantClaimLimit: a new claim would pass
	// ClaimLimits.PerDevice or PerMerchant.
	ErrDeviceClaimLimit   = errors.New("relay: the device has claimed as many orders as it may")
	ErrMerchantClaimLimit = errors.New("relay: the merchant's devices have claimed as many orders as they may")
)

// ClaimLimits bound what one kiosk token can make the relay store. A
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

// hours is the TTL in whole hours, at least 1: claims are counted in
// hourly buckets.
func (l ClaimLimits) hours() int64 { return max(1, int64((l.TTL+time.Hour-1)/time.Hour)) }

// claimHour is the bucket a claim made at t is counted in.
func claimHour(t time.Time) int64 { return t.Unix() / 3600 }

// claimQuotaSQL counts one new claim in its hour's bucket of a device
// (or, with udid "", of the merchant), ?1-?3, and returns the bucket's
// count plus the earlier ones after hour ?4: the claims within TTL.
// Written with ?N placeholders; PostgreSQL's are $N.
const claimQuotaSQL = `INSERT INTO claim_quota (merchant, udid, hour, claims) VALUES (?1, ?2, ?3, 1)
	ON CONFLICT (merchant, udid, hour) DO UPDATE SET claims = claim_quota.claims + 1
	RETURNING claims + (SELECT coalesce(sum(q.claims), 0) FROM claim_quota q
		WHERE q.merchant = ?1 AND q.udid = ?2 AND q.hour > ?4 AND q.hour < ?3)`

// count counts a new claim of udid's, and of its merchant's, inside the
// claim's transaction; past a limit it returns the limit's error and the
// caller rolls the claim back. quota runs claimQuotaSQL with args.
func (l ClaimLimits) count(quota func(args ...any) (int, error), merchant, udid string, now time.Time) error {
	if l.TTL <= 0 {
		return nil
	}
	hour := claimHour(now)
	for _, c := range []struct {
		udid  string
		limit int
		err   error
	}{{udid, l.PerDevice, ErrDeviceClaimLimit}, {"", l.PerMerchant, ErrMerchantClaimLimit}} {
		if c.limit <= 0 {
			continue
		}
		n, err := quota(merchant, c.udid, hour, hour-l.hours())
		if err != nil {
			return fmt.Errorf("relay: claim: %w", err)
		}
		if n > c.limit {
			return fmt.Errorf("%w: %d new orders within %v, at most %d", c.err, n-1, l.TTL, c.limit)
		}
	}
	return nil
}

// probeBody is what Probe writes: as large as the largest notification,
// and random, so that no compression makes it smaller.
func probeBody() []byte {
	b := make([]byte, MaxNotifyBody)
	rand.Read(b)
	return b
}

// replayPageBytes bounds the bodies in one replay page (the page ends
// after the record that reaches it): what a replay holds in memory at
// once, whatever the size of the notifications.
const replayPageBytes = 64 << 10

// maxBatch bounds one group commit: enough to amortise the fsync under a
// burst, small enough that the first writer of a batch is not kept long.
const maxBatch = 256

// pruneChunk is how many rows one pruning transaction deletes: small, so
// notifications arriving meanwhile wait for the writer a few ms at most.
const pruneChunk = 500

// batcher is the group commit both stores share: Append queues a request,
// one goroutine commits whatever is waiting in one transaction.
type batcher struct {
	commit func([]*appendReq) error

	mu     chan struct{} // 1-slot lock guarding closed against sends on reqs
	closed bool
	reqs   chan *appendReq
	done   chan struct{}
}

type appendReq struct {
	rec      *Record
	inserted bool
	err      error
	ready    chan struct{}
}

func newBatcher(commit func([]*appendReq) error) *batcher {
	b := &batcher{commit: commit, mu: make(chan struct{}, 1), reqs: make(chan *appendReq, maxBatch), done: make(chan struct{})}
	go b.loop()
	return b
}

func (b *batcher) append(ctx context.Context, rec *Record) (bool, error) {
	rec.ReceivedAt = rec.ReceivedAt.Truncate(time.Microsecond)
	req := &appendReq{rec: rec, ready: make(chan struct{})}
	select {
	case b.mu <- struct{}{}:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	if b.closed {
		<-b.mu
		return false, ErrStoreClosed
	}
	select {
	case b.reqs <- req:
	case <-ctx.Done():
		<-b.mu
		return false, ctx.Err()
	}
	<-b.mu
	// Once queued, wait for the commit regardless of ctx: the row may be
	// durable, and the caller must not report failure for a stored record.
	<-req.ready
	return req.inserted, req.err
}

func (b *batcher) loop() {
	defer close(b.done)
	batch := make([]*appendReq, 0, maxBatch)
	for first := range b.reqs {
		batch = append(batch[:0], first)
	fill:
		for len(batch) < maxBatch {
			select {
			case req, ok := <-b.reqs:
				if !ok {
					break fill
				}
				batch = append(batch, req)
			default:
				break fill
			}
		}
		err := b.commit(batch)
		for _, req := range batch {
			if err != nil {
				req.inserted, req.err = false, err
				req.rec.ID = 0
			}
			close(req.ready)
		}
	}
}

// close stops taking appends and waits for the queued ones to commit.
func (b *batcher) close() {
	b.mu <- struct{}{}
	if b.closed {
		<-b.mu
		<-b.done
		return
	}
	b.closed = true
	close(b.reqs)
	<-b.mu
	<-b.done
}

// StoreConfig says where the relay keeps its data.
type StoreConfig struct {
	// Database is a postgres:// URL shared by several relay instances;
	// empty means SQLite in DataDir.
	Database string
	DataDir  string
	// Lock locks DataDir against a second relay process (SQLite only):
	// the server sets it, the token commands run beside a relay without.
	Lock   bool
	Claims ClaimLimits
	Logger *slog.Logger
}

// OpenStore opens (creating and migrating) the configured store.
func OpenStore(ctx context.Context, cfg StoreConfig) (Store, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Database != "" {
		if !strings.HasPrefix(cfg.Database, "postgres://") && !strings.HasPrefix(cfg.Database, "postgresql://") {
			return nil, errors.New("relay: --database: must be a postgres:// URL (leave it empty for SQLite in --data)")
		}
		return openPostgres(ctx, cfg.Database, cfg.Claims, cfg.Logger)
	}
	return openSQLite(cfg.DataDir, cfg.Lock, cfg.Claims)
}
