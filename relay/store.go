package relay

import (
	"context"
	"errors"
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
	// that q selects, in id order.
	Replay(ctx context.Context, q ReplayQuery, after int64, limit int) ([]*Record, error)
	// Foreign reports whether a notification for outTradeNo is stored
	// that shows the order is another merchant's, or names another device.
	Foreign(ctx context.Context, outTradeNo string, scope Scope) (bool, error)
	// Claim returns the device that owns merchant's order outTradeNo: the
	// one a stored notification names, else the first to claim it, which
	// is udid if no device has.
	Claim(ctx context.Context, merchant, outTradeNo, udid string) (owner string, err error)
	// Count is the number of stored notifications.
	Count(ctx context.Context) (int64, error)
	// Prune deletes notifications received before a time, in small
	// transactions. Relays sharing a store prune once per period between
	// them: ran is false when another did it less than period ago or is
	// doing it now.
	Prune(ctx context.Context, before time.Time, period time.Duration) (deleted int64, ran bool, err error)
	// Ready commits a small write (a heartbeat of instance) now: it fails
	// when a notification could not be stored either.
	Ready(ctx context.Context, instance string) error

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
)

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
		return openPostgres(ctx, cfg.Database, cfg.Logger)
	}
	return openSQLite(cfg.DataDir, cfg.Lock)
}
