// Package journal is the kiosk's durable record of every sale: it records
// each order before its create call and every transition, gateway answer
// and refund after it, and answers queries about them.
//
// It records and answers; starting, recovering, refunding and reconciling
// orders is internal/settle's, above it. SQLite through modernc.org/sqlite,
// pure Go, no UI.
package journal

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver

	"qrkiosk/payment"
)

// FileName is the journal's database file inside its data directory.
const FileName = "journal.db"

// EnvData overrides the data directory (as does --data).
const EnvData = "QRKIOSK_DATA"

// DefaultDir is where the journal lives when neither --data nor
// QRKIOSK_DATA says otherwise: $XDG_DATA_HOME/qrkiosk, else
// ~/.local/share/qrkiosk.
func DefaultDir(getenv func(string) string) (string, error) {
	if d := strings.TrimSpace(getenv(EnvData)); d != "" {
		return d, nil
	}
	if x := strings.TrimSpace(getenv("XDG_DATA_HOME")); x != "" && filepath.IsAbs(x) {
		return filepath.Join(x, "qrkiosk"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no data directory: set %s or --data: %w", EnvData, err)
	}
	return filepath.Join(home, ".local", "share", "qrkiosk"), nil
}

// Options opens a journal.
type Options struct {
	Dir      string         // data directory; created if missing
	Location *time.Location // merchant zone for days and txdtm; nil = UTC+8
	UDID     string         // this kiosk's device id, recorded with each order
	// Gateway names the payment gateway this kiosk charges through
	// (payment.Gateway's Name), recorded with each order: recovery resumes
	// only the orders of the gateway the kiosk runs with.
	Gateway string
	// PayTypes is the pay types of that gateway as it treats them (no
	// expiry or cancel on some gateways); nil = the whole catalog. Orders
	// of another gateway are read with the whole catalog.
	PayTypes payment.Catalog
	Logger   *slog.Logger // nil = discard
	Now      func() time.Time
}

// Journal is an open journal. It is safe for concurrent use; only one
// process may hold it open.
type Journal struct {
	db      *sql.DB
	path    string
	lock    *fileLock
	loc     *time.Location
	udid    string
	gateway string
	// payTypes is the kiosk gateway's catalog (Options.PayTypes).
	payTypes payment.Catalog
	log      *slog.Logger
	now      func() time.Time

	mu     sync.Mutex
	alerts map[int]func(Alert)
	nextID int

	wmu     sync.Mutex // orders the writes below
	backlog []write    // writes that failed, kept to record when it can
	broken  error      // why the last write failed; nil when it can write
	stop    chan struct{}
	// closeOnce: Close may be called again (deferred and explicit).
	closeOnce sync.Once
	readOnly  bool // OpenReadOnly: every write fails
}

// IOError: the journal's files cannot be read or written (permissions,
// read-only media, a full disk, not a database). Nothing was changed.
type IOError struct {
	Path string
	Err  error
}

func (e *IOError) Error() string { return fmt.Sprintf("journal %s: %v", e.Path, e.Err) }
func (e *IOError) Unwrap() error { return e.Err }

// Open opens (creating if needed) the journal in opts.Dir. If another
// process holds it, the error is a *LockedError naming that process; when
// its files cannot be used, an *IOError.
func Open(opts Options) (*Journal, error) {
	if opts.Dir == "" {
		return nil, errors.New("journal: no data directory given")
	}
	path := filepath.Join(opts.Dir, FileName)
	if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return nil, &IOError{Path: path, Err: err}
	}
	lk, err := lockFile(path)
	var locked *LockedError
	switch {
	case errors.As(err, &locked):
		return nil, err
	case err != nil:
		return nil, &IOError{Path: path, Err: err}
	}
	// WAL with synchronous=FULL: a commit is on disk (WAL fsynced) before
	// the gateway is called, so a power cut after a create request cannot
	// lose the order that request made.
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "foreign_keys(1)")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		lk.release()
		return nil, &IOError{Path: path, Err: err}
	}
	// One connection: every write is serialised in this process, and the
	// pragmas above hold for all statements.
	db.SetMaxOpenConns(1)
	j := &Journal{db: db, path: path, lock: lk, loc: opts.Location, udid: opts.UDID, gateway: opts.Gateway, payTypes: opts.PayTypes, log: opts.Logger, now: opts.Now, alerts: map[int]func(Alert){}}
	if j.loc == nil {
		j.loc = payment.HongKong
	}
	if j.log == nil {
		j.log = slog.New(slog.DiscardHandler)
	}
	if j.now == nil {
		j.now = time.Now
	}
	if err := j.migrate(); err != nil {
		db.Close()
		lk.release()
		return nil, &IOError{Path: path, Err: err}
	}
	j.stop = make(chan struct{})
	go j.retryKept(j.stop)
	return j, nil
}

// OpenReadOnly opens a journal for reading only, taking no lock and
// writing nothing — one on read-only media or in a directory this user
// may not write, for `qrkiosk history`. It must have been closed cleanly
// (its write-ahead log checkpointed) to show everything.
func OpenReadOnly(opts Options) (*Journal, error) {
	path := filepath.Join(opts.Dir, FileName)
	if _, err := os.Stat(path); err != nil {
		return nil, &IOError{Path: path, Err: err}
	}
	if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() > 0 {
		// Read as immutable, SQLite would ignore it: a stale day, or no
		// schema at all.
		return nil, &IOError{Path: path, Err: fmt.Errorf("it was not closed cleanly: its last writes are still in %s; open it once where it can be written (qrkiosk history on a writable copy of %s)", filepath.Base(path)+"-wal", opts.Dir)}
	}
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&immutable=1")
	if err != nil {
		return nil, &IOError{Path: path, Err: err}
	}
	db.SetMaxOpenConns(1)
	j := &Journal{db: db, path: path, loc: opts.Location, log: opts.Logger, now: opts.Now, readOnly: true, stop: make(chan struct{})}
	if j.loc == nil {
		j.loc = payment.HongKong
	}
	if j.log == nil {
		j.log = slog.New(slog.DiscardHandler)
	}
	if j.now == nil {
		j.now = time.Now
	}
	var v int
	if err := db.QueryRow("PRAGMA user_version").Scan(&v); err != nil || v > SchemaVersion || v < SchemaVersion {
		db.Close()
		if err == nil {
			err = fmt.Errorf("schema version %d; this qrkiosk reads %d (open it once writable to migrate it)", v, SchemaVersion)
		}
		return nil, &IOError{Path: path, Err: err}
	}
	return j, nil
}

// Close tries the writes kept after a failure once more, then closes the
// database and releases the lock. It reports what could not be recorded.
func (j *Journal) Close() error {
	var err error
	j.closeOnce.Do(func() {
		close(j.stop)
		j.wmu.Lock()
		kept := j.flushLocked()
		j.wmu.Unlock()
		err = errors.Join(kept, j.db.Close())
		if j.lock != nil {
			j.lock.release()
		}
	})
	return err
}

// Path is the database file.
func (j *Journal) Path() string { return j.path }

// Location is the merchant zone days are counted in.
func (j *Journal) Location() *time.Location { return j.loc }

// GatewayName is the gateway this kiosk charges through, recorded with each
// new order ("" when the journal was opened without one).
func (j *Journal) GatewayName() string { return j.gateway }

// Now is the journal's clock (Options.Now).
func (j *Journal) Now() time.Time { return j.now() }

// Logger is the logger the journal was opened with.
func (j *Journal) Logger() *slog.Logger { return j.log }

// migrations take a journal from one schema version (PRAGMA user_version)
// to the next: migrations[v] makes version v+1. A journal of the first
// release has user_version 0 and the tables of migrations[0] already.
var migrations = []string{
	// 1: the first release's schema.
	`
CREATE TABLE IF NOT EXISTS orders (
	out_trade_no  TEXT PRIMARY KEY,
	txamt         INTEGER NOT NULL CHECK (txamt > 0),
	currency      TEXT NOT NULL,
	pay_type      TEXT NOT NULL,
	udid          TEXT NOT NULL,
	goods_name    TEXT NOT NULL,
	tx_time       INTEGER NOT NULL, -- unix nanoseconds; txdtm is this in the merchant zone
	txdtm         TEXT NOT NULL,
	day           TEXT NOT NULL,    -- YYYY-MM-DD in the merchant zone
	expiry_s      INTEGER NOT NULL,
	deadline      INTEGER NOT NULL, -- unix nanoseconds
	state         TEXT NOT NULL,
	syssn         TEXT NOT NULL DEFAULT '',
	qrcode        TEXT NOT NULL DEFAULT '',
	respcd        TEXT NOT NULL DEFAULT '',
	reason        TEXT NOT NULL DEFAULT '',
	cancel_asked  INTEGER NOT NULL DEFAULT 0,
	late          INTEGER NOT NULL DEFAULT 0,
	paid_offline  INTEGER NOT NULL DEFAULT 0,
	updated       INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS orders_day ON orders(day);
CREATE INDEX IF NOT EXISTS orders_state ON orders(state);
CREATE TABLE IF NOT EXISTS refunds (
	out_trade_no      TEXT PRIMARY KEY,
	orig_out_trade_no TEXT NOT NULL REFERENCES orders(out_trade_no),
	orig_syssn        TEXT NOT NULL,
	txamt             INTEGER NOT NULL CHECK (txamt > 0),
	currency          TEXT NOT NULL,
	tx_time           INTEGER NOT NULL,
	day               TEXT NOT NULL,
	state             TEXT NOT NULL, -- pending | refunded | failed
	syssn             TEXT NOT NULL DEFAULT '',
	respcd            TEXT NOT NULL DEFAULT '',
	reason            TEXT NOT NULL DEFAULT '',
	updated           INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS refunds_orig ON refunds(orig_out_trade_no);
CREATE INDEX IF NOT EXISTS refunds_day ON refunds(day);
CREATE TABLE IF NOT EXISTS events (
	id           INTEGER PRIMARY KEY,
	at           INTEGER NOT NULL,
	out_trade_no TEXT NOT NULL,
	source       TEXT NOT NULL, -- machine | gateway | refund | recovery
	kind         TEXT NOT NULL, -- the machine's event kind or the gateway op
	state        TEXT NOT NULL DEFAULT '',
	syssn        TEXT NOT NULL DEFAULT '',
	respcd       TEXT NOT NULL DEFAULT '',
	outcome      TEXT NOT NULL DEFAULT '',
	detail       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS events_order ON events(out_trade_no);
`,
	// 2: each order names its gateway. Every order before it was QFPay's.
	`ALTER TABLE orders ADD COLUMN gateway TEXT NOT NULL DEFAULT 'qfpay';`,
	// 3: an order whose QR was lost (its create answer was) is replaced by
	// a new one for the same sale; each names the other.
	`ALTER TABLE orders ADD COLUMN replaced_by TEXT NOT NULL DEFAULT '';
	ALTER TABLE orders ADD COLUMN replaces TEXT NOT NULL DEFAULT '';`,
	// 4: sales and refunds a POS sent (QFPay's ECR protocol), and the
	// notifications that carry their results to the POS (pos.go).
	posSchema,
}

// SchemaVersion is the journal schema this build writes.
var SchemaVersion = len(migrations)

// migrate brings the journal to SchemaVersion in one transaction. A
// journal written by a newer build is refused: this one would not know
// what its columns mean.
func (j *Journal) migrate() error {
	tx, err := j.db.Begin()
	if err != nil {
		return fmt.Errorf("journal %s: %w", j.path, err)
	}
	defer tx.Rollback()
	var v int
	if err := tx.QueryRow("PRAGMA user_version").Scan(&v); err != nil {
		return fmt.Errorf("journal %s: %w", j.path, err)
	}
	if v > SchemaVersion {
		return fmt.Errorf("journal %s has schema version %d, newer than this qrkiosk knows (%d): use the newer qrkiosk", j.path, v, SchemaVersion)
	}
	for ; v < SchemaVersion; v++ {
		if _, err := tx.Exec(migrations[v]); err != nil {
			return fmt.Errorf("journal %s: migrating to schema version %d: %w", j.path, v+1, err)
		}
		j.log.Info("journal: schema migrated", "path", j.path, "version", v+1)
	}
	// PRAGMA takes no parameters; v is an integer we computed.
	if _, err := tx.Exec(fmt.Sprintf("PRAGMA user_version = %d", v)); err != nil {
		return fmt.Errorf("journal %s: %w", j.path, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("journal %s: %w", j.path, err)
	}
	return nil
}

// IntegrityCheck runs SQLite's integrity check; nil means "ok".
func (j *Journal) IntegrityCheck(ctx context.Context) error {
	rows, err := j.db.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return err
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return err
		}
		if s != "ok" {
			problems = append(problems, s)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(problems) > 0 {
		return fmt.Errorf("journal %s is damaged: %s", j.path, strings.Join(problems, "; "))
	}
	return nil
}

// Order is one sale as the journal holds it.
type Order struct {
	OutTradeNo string
	Gateway    string // the gateway the order was sent to
	Amount     payment.Amount
	PayType    payment.PayType
	UDID       string
	GoodsName  string
	TxTime     time.Time
	Expiry     time.Duration
	Deadline   time.Time
	State      payment.State
	SysSN      string
	QRCode     string
	Code       payment.Code
	Reason     string
	// CancelAsked: the cashier (or the deadline) asked to withdraw it.
	CancelAsked bool
	// Late: paid after the kiosk showed Expired or Cancelled.
	Late bool
	// PaidOffline: found paid by the recovery after a restart.
	PaidOffline bool
	// ReplacedBy names the order that replaced this one when its QR was
	// lost (it was withdrawn, never shown); Replaces the reverse.
	ReplacedBy, Replaces string
	// Refunded is what has been given back (refunds confirmed by the gateway).
	Refunded int64
	// RefundPending is refunds whose outcome is not known yet.
	RefundPending int64
	Updated       time.Time
}

// Ref is the order as its gateway knows it.
func (o Order) Ref() payment.OrderRef {
	return payment.OrderRef{OutTradeNo: o.OutTradeNo, SysSN: o.SysSN, Amount: o.Amount, PayType: o.PayType, TxTime: o.TxTime}
}

// Remaining is what can still be refunded.
func (o Order) Remaining() int64 {
	if o.State != payment.StatePaid {
		return 0
	}
	return o.Amount.Minor - o.Refunded - o.RefundPending
}

// ErrNotFound: the journal has no such order.
var ErrNotFound = errors.New("no such order in the journal")

const orderCols = `o.out_trade_no, o.gateway, o.txamt, o.currency, o.pay_type, o.udid, o.goods_name, o.tx_time, o.expiry_s,
	o.deadline, o.state, o.syssn, o.qrcode, o.respcd, o.reason, o.cancel_asked, o.late, o.paid_offline, o.replaced_by, o.replaces, o.updated,
	COALESCE((SELECT SUM(r.txamt) FROM refunds r WHERE r.orig_out_trade_no = o.out_trade_no AND r.state = 'refunded'), 0),
	COALESCE((SELECT SUM(r.txamt) FROM refunds r WHERE r.orig_out_trade_no = o.out_trade_no AND r.state = 'pending'), 0)`

type scanner interface{ Scan(...any) error }

// payType reads a recorded pay type as the order's gateway treats it.
func (j *Journal) payType(gateway, code string) (payment.PayType, error) {
	if gateway == j.gateway && j.payTypes != nil {
		if p, err := j.payTypes.Lookup(code); err == nil {
			return p, nil
		}
	}
	return payment.LookupPayType(code)
}

func (j *Journal) scanOrder(s scanner) (Order, error) {
	var o Order
	var cur, pt, state, code string
	var tx, exp, dl, upd int64
	var cancelAsked, late, offline bool
	err := s.Scan(&o.OutTradeNo, &o.Gateway, &o.Amount.Minor, &cur, &pt, &o.UDID, &o.GoodsName, &tx, &exp, &dl, &state,
		&o.SysSN, &o.QRCode, &code, &o.Reason, &cancelAsked, &late, &offline, &o.ReplacedBy, &o.Replaces, &upd, &o.Refunded, &o.RefundPending)
	if err != nil {
		return Order{}, err
	}
	if o.Amount.Currency, err = payment.LookupCurrency(cur); err != nil {
		return Order{}, fmt.Errorf("order %s: %w", o.OutTradeNo, err)
	}
	if o.PayType, err = j.payType(o.Gateway, pt); err != nil {
		return Order{}, fmt.Errorf("order %s: %w", o.OutTradeNo, err)
	}
	if o.State, err = parseState(state); err != nil {
		return Order{}, fmt.Errorf("order %s: %w", o.OutTradeNo, err)
	}
	o.Code = payment.Code(code)
	o.TxTime = time.Unix(0, tx)
	o.Expiry = time.Duration(exp) * time.Second
	o.Deadline = time.Unix(0, dl)
	o.Updated = time.Unix(0, upd)
	o.CancelAsked, o.Late, o.PaidOffline = cancelAsked, late, offline
	return o, nil
}

func parseState(s string) (payment.State, error) {
	for st := payment.StateCreating; st <= payment.StateCancelled; st++ {
		if st.String() == s {
			return st, nil
		}
	}
	return 0, fmt.Errorf("unknown state %q", s)
}

// Order returns one order.
func (j *Journal) Order(ctx context.Context, outTradeNo string) (Order, error) {
	o, err := j.scanOrder(j.db.QueryRowContext(ctx, "SELECT "+orderCols+" FROM orders o WHERE o.out_trade_no = ?", outTradeNo))
	if errors.Is(err, sql.ErrNoRows) {
		return Order{}, fmt.Errorf("%s: %w", outTradeNo, ErrNotFound)
	}
	return o, err
}

// Pending lists the orders that are not final, oldest first.
func (j *Journal) Pending(ctx context.Context) ([]Order, error) {
	return j.orders(ctx, "o.state IN ('creating', 'awaiting_payment')")
}

func (j *Journal) orders(ctx context.Context, where string, args ...any) ([]Order, error) {
	rows, err := j.db.QueryContext(ctx, "SELECT "+orderCols+" FROM orders o WHERE "+where+" ORDER BY o.tx_time, o.out_trade_no", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Order
	for rows.Next() {
		o, err := j.scanOrder(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// Alert is something the cashier must see at once.
type Alert struct {
	Kind  AlertKind
	Order Order
}

// AlertKind names an alert.
type AlertKind int

const (
	// AlertPaidLate: the kiosk showed Expired or Cancelled, then the
	// customer's payment arrived. Offer a refund.
	AlertPaidLate AlertKind = iota + 1
	// AlertPaidOffline: an order left unfinished by a crash or power cut was
	// found paid when the kiosk started again.
	AlertPaidOffline
)

func (k AlertKind) String() string {
	switch k {
	case AlertPaidLate:
		return "paid_late"
	case AlertPaidOffline:
		return "paid_offline"
	}
	return "unknown"
}

// OnAlert calls fn for every later alert, from the order machine's
// goroutine: fn must not block. It returns a function that stops the calls.
func (j *Journal) OnAlert(fn func(Alert)) (stop func()) {
	j.mu.Lock()
	defer j.mu.Unlock()
	id := j.nextID
	j.nextID++
	j.alerts[id] = fn
	return func() {
		j.mu.Lock()
		defer j.mu.Unlock()
		delete(j.alerts, id)
	}
}

func (j *Journal) alert(ctx context.Context, kind AlertKind, outTradeNo string) {
	o, err := j.Order(ctx, outTradeNo)
	if err != nil {
		j.log.Error("journal: alert for an order it cannot read", "out_trade_no", outTradeNo, "err", err)
		return
	}
	j.mu.Lock()
	fns := make([]func(Alert), 0, len(j.alerts))
	for i := 0; i < j.nextID; i++ {
		if fn, ok := j.alerts[i]; ok {
			fns = append(fns, fn)
		}
	}
	j.mu.Unlock()
	for _, fn := range fns {
		fn(Alert{Kind: kind, Order: o})
	}
}
