package relay

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	_ "modernc.org/sqlite" // pure-Go SQLite driver, keeps the relay CGO_ENABLED=0
)

// Record is one genuine notification as journaled: the raw body and its
// signature exactly as the gateway sent them, plus the keys it is found by.
type Record struct {
	ID         int64
	SysSN      string
	NotifyType string
	OutTradeNo string
	UDID       string
	Body       []byte
	Sign       string
	SignType   string
	ReceivedAt time.Time
}

// ErrJournalClosed: the relay is shutting down and stores nothing more.
var ErrJournalClosed = errors.New("relay: journal closed")

const journalFile = "notifications.db"

// maxBatch bounds one group commit: enough to amortise the fsync under a
// burst, small enough that the first writer of a batch is not kept long.
const maxBatch = 256

const schema = `
CREATE TABLE IF NOT EXISTS notifications (
	id           INTEGER PRIMARY KEY,
	syssn        TEXT    NOT NULL,
	notify_type  TEXT    NOT NULL,
	out_trade_no TEXT    NOT NULL,
	udid         TEXT    NOT NULL DEFAULT '',
	body         BLOB    NOT NULL,
	sign         TEXT    NOT NULL,
	sign_type    TEXT    NOT NULL,
	received_at  INTEGER NOT NULL,
	UNIQUE (syssn, notify_type)
);
CREATE INDEX IF NOT EXISTS notifications_out_trade_no ON notifications (out_trade_no);
CREATE INDEX IF NOT EXISTS notifications_udid ON notifications (udid, received_at);
CREATE INDEX IF NOT EXISTS notifications_received_at ON notifications (received_at);
`

// journal is the durable store: SQLite in WAL mode with synchronous=FULL,
// so a commit has reached the disk before the gateway is told SUCCESS.
// One goroutine owns the writer connection and commits concurrent appends
// together (group commit): one fsync per batch instead of per notification.
type journal struct {
	w, r *sql.DB

	mu     sync.RWMutex // guards closed against sends on reqs
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

func openJournal(dir string) (*journal, error) {
	if dir == "" {
		return nil, errors.New("relay: DataDir is required")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("relay: data dir: %w", err)
	}
	path := filepath.Join(dir, journalFile)
	const pragmas = "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)"
	w, err := sql.Open("sqlite", "file:"+path+pragmas)
	if err != nil {
		return nil, fmt.Errorf("relay: open journal: %w", err)
	}
	w.SetMaxOpenConns(1)
	if _, err := w.Exec(schema); err != nil {
		w.Close()
		return nil, fmt.Errorf("relay: journal schema %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("relay: open journal reader: %w", err)
	}
	r.SetMaxOpenConns(4)
	j := &journal{w: w, r: r, reqs: make(chan *appendReq, maxBatch), done: make(chan struct{})}
	go j.loop()
	return j, nil
}

// Append stores rec unless a record with the same (syssn, notify_type) is
// already there. It returns once the outcome is on disk; inserted is false
// for a duplicate. rec.ID is set when inserted.
func (j *journal) Append(ctx context.Context, rec *Record) (inserted bool, err error) {
	req := &appendReq{rec: rec, ready: make(chan struct{})}
	j.mu.RLock()
	if j.closed {
		j.mu.RUnlock()
		return false, ErrJournalClosed
	}
	select {
	case j.reqs <- req:
	case <-ctx.Done():
		j.mu.RUnlock()
		return false, ctx.Err()
	}
	j.mu.RUnlock()
	// Once queued, wait for the commit regardless of ctx: the row may be on
	// disk, and the caller must not report failure for a stored record.
	<-req.ready
	return req.inserted, req.err
}

func (j *journal) loop() {
	defer close(j.done)
	batch := make([]*appendReq, 0, maxBatch)
	for first := range j.reqs {
		batch = append(batch[:0], first)
	fill:
		for len(batch) < maxBatch {
			select {
			case req, ok := <-j.reqs:
				if !ok {
					break fill
				}
				batch = append(batch, req)
			default:
				break fill
			}
		}
		err := j.commit(batch)
		for _, req := range batch {
			if err != nil {
				req.inserted, req.err = false, err
			}
			close(req.ready)
		}
	}
}

func (j *journal) commit(batch []*appendReq) error {
	tx, err := j.w.Begin()
	if err != nil {
		return fmt.Errorf("relay: journal begin: %w", err)
	}
	stmt, err := tx.Prepare(`INSERT INTO notifications
		(syssn, notify_type, out_trade_no, udid, body, sign, sign_type, received_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (syssn, notify_type) DO NOTHING RETURNING id`)
	if err != nil {
		tx.Rollback()
		return fmt.Errorf("relay: journal prepare: %w", err)
	}
	defer stmt.Close()
	for _, req := range batch {
		r := req.rec
		var id int64
		err := stmt.QueryRow(r.SysSN, r.NotifyType, r.OutTradeNo, r.UDID, r.Body, r.Sign, r.SignType,
			r.ReceivedAt.UnixNano()).Scan(&id)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			req.inserted = false
		case err != nil:
			tx.Rollback()
			return fmt.Errorf("relay: journal insert: %w", err)
		default:
			req.inserted, r.ID = true, id
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("relay: journal commit: %w", err)
	}
	return nil
}

// ByOutTradeNo returns every stored notification for an order, oldest first.
func (j *journal) ByOutTradeNo(ctx context.Context, outTradeNo string, limit int) ([]*Record, error) {
	return j.query(ctx, `WHERE out_trade_no = ? ORDER BY id LIMIT ?`, outTradeNo, limit)
}

// ByUDID returns the notifications of one terminal received since a time.
func (j *journal) ByUDID(ctx context.Context, udid string, since time.Time, limit int) ([]*Record, error) {
	return j.query(ctx, `WHERE udid = ? AND received_at >= ? ORDER BY id LIMIT ?`, udid, since.UnixNano(), limit)
}

// Count is the number of stored notifications.
func (j *journal) Count(ctx context.Context) (int64, error) {
	var n int64
	err := j.r.QueryRowContext(ctx, `SELECT count(*) FROM notifications`).Scan(&n)
	return n, err
}

func (j *journal) query(ctx context.Context, where string, args ...any) ([]*Record, error) {
	rows, err := j.r.QueryContext(ctx, `SELECT id, syssn, notify_type, out_trade_no, udid, body, sign,
		sign_type, received_at FROM notifications `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("relay: journal query: %w", err)
	}
	defer rows.Close()
	var out []*Record
	for rows.Next() {
		r := new(Record)
		var at int64
		if err := rows.Scan(&r.ID, &r.SysSN, &r.NotifyType, &r.OutTradeNo, &r.UDID, &r.Body, &r.Sign,
			&r.SignType, &at); err != nil {
			return nil, fmt.Errorf("relay: journal scan: %w", err)
		}
		r.ReceivedAt = time.Unix(0, at)
		out = append(out, r)
	}
	return out, rows.Err()
}

// pruneChunk is how many rows one pruning transaction deletes: small, so
// notifications arriving meanwhile wait for the writer a few ms at most.
const pruneChunk = 500

// Prune deletes the notifications received before a time, a chunk per
// transaction, and returns how many it deleted. SQLite reuses the freed
// pages, so the file stops growing once it holds the retention period.
func (j *journal) Prune(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	for {
		res, err := j.w.ExecContext(ctx, `DELETE FROM notifications WHERE id IN
			(SELECT id FROM notifications WHERE received_at < ? ORDER BY received_at LIMIT ?)`,
			before.UnixNano(), pruneChunk)
		if err != nil {
			return total, fmt.Errorf("relay: journal prune: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, fmt.Errorf("relay: journal prune: %w", err)
		}
		total += n
		if n < pruneChunk {
			return total, nil
		}
	}
}

func (j *journal) Ping(ctx context.Context) error { return j.r.PingContext(ctx) }

// Close stops taking appends, commits those already queued, and closes
// the database (SQLite checkpoints the WAL when the last connection goes).
func (j *journal) Close() error {
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return nil
	}
	j.closed = true
	close(j.reqs)
	j.mu.Unlock()
	<-j.done
	return errors.Join(j.r.Close(), j.w.Close())
}
