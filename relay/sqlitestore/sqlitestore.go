// Package sqlitestore keeps the relay's notifications, kiosk tokens and
// order claims in one SQLite file in a data directory, for one relay.
package sqlitestore

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

	"qrkiosk/relay/internal/storesql"
	"qrkiosk/relay/store"
)

// JournalFile is the SQLite database's name inside the data directory;
// LockFile is held by the relay using it.
const (
	JournalFile = "notifications.db"
	LockFile    = "qrkiosk-relay.lock"
)

// The WAL is checkpointed and truncated once it passes walCheckpointAbove
// (looked at every walCheckpointEvery) and after each pruning pass.
// SQLite's own checkpoints copy the WAL into the database but restart it
// only when no reader is using it, which under steady reads may be never:
// a burst of writes then leaves a WAL of hundreds of MB.
var (
	walCheckpointEvery       = 10 * time.Second
	walCheckpointAbove int64 = 16 << 20
)

// Store keeps everything in one SQLite file in WAL mode with
// synchronous=FULL, so a commit has reached the disk before the gateway is
// told SUCCESS. One goroutine owns the writer connection and commits
// concurrent appends together (group commit): one fsync per batch.
type Store struct {
	path string
	w, r *sql.DB
	b    *storesql.Batcher
	lock *os.File

	stopOnce        sync.Once
	stopCheckpoints chan struct{}
	checkpointsDone chan struct{}
}

// Options tune a Store.
type Options struct {
	// Lock locks the directory against a second relay process: the server
	// sets it, the token commands run beside a relay without.
	Lock bool
}

// Open opens (creating it 0600) the journal in dir and migrates it.
func Open(dir string, opts Options) (*Store, error) {
	if dir == "" {
		return nil, errors.New("relay: a data directory is required")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("relay: data dir: %w", err)
	}
	s := &Store{path: filepath.Join(dir, JournalFile),
		stopCheckpoints: make(chan struct{}), checkpointsDone: make(chan struct{})}
	if opts.Lock {
		l, err := lockDir(dir, LockFile)
		if err != nil {
			return nil, err
		}
		s.lock = l
	}
	fail := func(err error) (*Store, error) {
		if s.w != nil {
			s.w.Close()
		}
		if s.r != nil {
			s.r.Close()
		}
		if s.lock != nil {
			unlockDir(s.lock)
		}
		return nil, err
	}
	if err := createPrivate(s.path); err != nil {
		return fail(err)
	}
	const pragmas = "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_txlock=immediate"
	w, err := sql.Open("sqlite", "file:"+s.path+pragmas)
	if err != nil {
		return fail(fmt.Errorf("relay: open journal: %w", err))
	}
	s.w = w
	w.SetMaxOpenConns(1)
	if err := s.migrate(); err != nil {
		return fail(err)
	}
	r, err := sql.Open("sqlite", "file:"+s.path+"?_pragma=busy_timeout(5000)&_pragma=query_only(1)")
	if err != nil {
		return fail(fmt.Errorf("relay: open journal reader: %w", err))
	}
	s.r = r
	r.SetMaxOpenConns(4)
	s.b = storesql.NewBatcher(s.commit)
	go s.checkpoints()
	return s, nil
}

func (s *Store) checkpoints() {
	defer close(s.checkpointsDone)
	t := time.NewTicker(walCheckpointEvery)
	defer t.Stop()
	for {
		select {
		case <-s.stopCheckpoints:
			return
		case <-t.C:
		}
		if st, err := os.Stat(s.path + "-wal"); err == nil && st.Size() > walCheckpointAbove {
			s.checkpoint(context.Background()) // failing (readers busy for 5 s), it is tried again
		}
	}
}

// checkpoint copies the WAL into the database and truncates it, waiting
// (busy_timeout) for readers of the old WAL to finish.
func (s *Store) checkpoint(ctx context.Context) error {
	if _, err := s.w.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return fmt.Errorf("relay: journal checkpoint: %w", err)
	}
	return nil
}

func (s *Store) Append(ctx context.Context, rec *store.Record) (bool, error) {
	return s.b.Append(ctx, rec)
}

func (s *Store) commit(batch []*storesql.AppendReq) error {
	tx, err := s.w.Begin()
	if err != nil {
		return fmt.Errorf("relay: journal begin: %w", err)
	}
	stmt, err := tx.Prepare(`INSERT INTO notifications
		(merchant, gateway, syssn, notify_type, out_trade_no, udid, body, sign, sign_type, received_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (merchant, gateway, syssn, notify_type) DO NOTHING RETURNING id`)
	if err != nil {
		tx.Rollback()
		return fmt.Errorf("relay: journal prepare: %w", err)
	}
	defer stmt.Close()
	for _, req := range batch {
		r := req.Rec
		var id int64
		err := stmt.QueryRow(r.Merchant, r.Gateway, r.SysSN, r.NotifyType, r.OutTradeNo, r.UDID, r.Body, r.Sign,
			r.SignType, r.ReceivedAt.UnixNano()).Scan(&id)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			req.Inserted = false
		case err != nil:
			tx.Rollback()
			return fmt.Errorf("relay: journal insert: %w", err)
		default:
			req.Inserted, r.ID = true, id
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("relay: journal commit: %w", err)
	}
	return nil
}

const sqliteColumns = `id, merchant, gateway, syssn, notify_type, out_trade_no, udid, body, sign, sign_type, received_at`

func (s *Store) After(ctx context.Context, after int64, limit int) ([]*store.Record, error) {
	return s.query(ctx, `WHERE id > ? ORDER BY id LIMIT ?`, after, limit)
}

func (s *Store) LastID(ctx context.Context) (int64, error) {
	var id int64
	err := s.r.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM notifications`).Scan(&id)
	return id, err
}

// Kind is "sqlite".
func (s *Store) Kind() string { return "sqlite" }

// Listener: one relay writes the journal, so nothing needs listening.
func (s *Store) Listener() (has, up bool) { return false, false }

func (s *Store) Changed() <-chan struct{} { return nil }

func (s *Store) Replay(ctx context.Context, q store.ReplayQuery, after int64, limit int) ([]*store.Record, error) {
	where, args := storesql.ReplayWhere(q, "?", after, limit, func(t time.Time) any { return t.UnixNano() })
	return s.queryBytes(ctx, store.ReplayPageBytes, where, args...)
}

func (s *Store) Foreign(ctx context.Context, outTradeNo string, scope store.Scope) (bool, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM notifications
		WHERE out_trade_no = ? AND NOT (merchant = ? AND (? = '' OR udid = '' OR udid = ?)) LIMIT 1)`,
		outTradeNo, scope.Merchant, scope.UDID, scope.UDID).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("relay: journal query: %w", err)
	}
	return n > 0, nil
}

// Claim reads first: a kiosk resubscribing after a reconnect finds its
// order's owner and writes nothing. A new claim is counted against the
// limits in its own transaction.
func (s *Store) Claim(ctx context.Context, merchant, outTradeNo, udid string, limits store.ClaimLimits) (string, error) {
	var found sql.NullString
	err := s.r.QueryRowContext(ctx, `SELECT coalesce(
		(SELECT udid FROM notifications WHERE out_trade_no = ? AND merchant = ? AND udid != '' LIMIT 1),
		(SELECT udid FROM order_claims WHERE merchant = ? AND out_trade_no = ?))`,
		outTradeNo, merchant, merchant, outTradeNo).Scan(&found)
	if err != nil {
		return "", fmt.Errorf("relay: claim: %w", err)
	}
	if found.Valid {
		return found.String, nil
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return "", fmt.Errorf("relay: claim: %w", err)
	}
	defer tx.Rollback()
	now := time.Now()
	var owner string
	err = tx.QueryRowContext(ctx, `INSERT INTO order_claims (merchant, out_trade_no, udid, claimed_at)
		VALUES (?, ?, ?, ?) ON CONFLICT (merchant, out_trade_no) DO NOTHING RETURNING udid`,
		merchant, outTradeNo, udid, now.UnixNano()).Scan(&owner)
	if errors.Is(err, sql.ErrNoRows) { // claimed since the read
		err = tx.QueryRowContext(ctx, `SELECT udid FROM order_claims WHERE merchant = ? AND out_trade_no = ?`,
			merchant, outTradeNo).Scan(&owner)
		if err != nil {
			return "", fmt.Errorf("relay: claim: %w", err)
		}
		return owner, nil
	}
	if err != nil {
		return "", fmt.Errorf("relay: claim: %w", err)
	}
	err = storesql.CountClaim(limits, func(args ...any) (n int, err error) {
		return n, tx.QueryRowContext(ctx, storesql.ClaimQuotaSQL, args...).Scan(&n)
	}, merchant, udid, now)
	if err != nil {
		return "", err
	}
	if err := tx.Commit(); err != nil {
		return "", fmt.Errorf("relay: claim: %w", err)
	}
	return owner, nil
}

func (s *Store) Count(ctx context.Context) (int64, error) {
	var n int64
	err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM notifications`).Scan(&n)
	return n, err
}

func (s *Store) query(ctx context.Context, where string, args ...any) ([]*store.Record, error) {
	return s.queryBytes(ctx, 0, where, args...)
}

// queryBytes stops reading once the records' bodies hold maxBytes (0 =
// no bound).
func (s *Store) queryBytes(ctx context.Context, maxBytes int, where string, args ...any) ([]*store.Record, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+sqliteColumns+` FROM notifications `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("relay: journal query: %w", err)
	}
	defer rows.Close()
	var out []*store.Record
	size := 0
	for (maxBytes == 0 || size < maxBytes) && rows.Next() {
		r := new(store.Record)
		var at int64
		if err := rows.Scan(&r.ID, &r.Merchant, &r.Gateway, &r.SysSN, &r.NotifyType, &r.OutTradeNo, &r.UDID,
			&r.Body, &r.Sign, &r.SignType, &at); err != nil {
			return nil, fmt.Errorf("relay: journal scan: %w", err)
		}
		r.ReceivedAt = time.Unix(0, at)
		out = append(out, r)
		size += len(r.Body)
	}
	return out, rows.Err()
}

// Prune deletes chunk by chunk, then checkpoints and truncates the WAL.
// SQLite reuses the freed pages, so the file stops growing once it holds
// the retention period. One relay owns the file, so it always runs.
func (s *Store) Prune(ctx context.Context, before time.Time, claimTTL, _ time.Duration) (int64, bool, error) {
	var total int64
	chunks := func(query string, args ...any) (int64, error) {
		var deleted int64
		for {
			res, err := s.w.ExecContext(ctx, query, append(args, storesql.PruneChunk)...)
			if err != nil {
				return deleted, fmt.Errorf("relay: journal prune: %w", err)
			}
			n, err := res.RowsAffected()
			if err != nil {
				return deleted, fmt.Errorf("relay: journal prune: %w", err)
			}
			deleted += n
			if n < storesql.PruneChunk {
				return deleted, nil
			}
		}
	}
	if !before.IsZero() {
		n, err := chunks(`DELETE FROM notifications WHERE id IN
			(SELECT id FROM notifications WHERE received_at < ? ORDER BY received_at LIMIT ?)`, before.UnixNano())
		total = n
		if err != nil {
			return total, true, err
		}
		if _, err := chunks(`DELETE FROM order_claims WHERE rowid IN
			(SELECT rowid FROM order_claims WHERE claimed_at < ? LIMIT ?)`, before.UnixNano()); err != nil {
			return total, true, err
		}
	}
	if claimTTL > 0 {
		now := time.Now()
		if _, err := chunks(`DELETE FROM order_claims WHERE rowid IN
			(SELECT c.rowid FROM order_claims c WHERE c.claimed_at < ? AND NOT EXISTS (SELECT 1 FROM notifications n
				WHERE n.out_trade_no = c.out_trade_no AND n.merchant = c.merchant) LIMIT ?)`,
			now.Add(-claimTTL).UnixNano()); err != nil {
			return total, true, err
		}
		if _, err := s.w.ExecContext(ctx, `DELETE FROM claim_quota WHERE hour <= ?`,
			storesql.ClaimHour(now)-storesql.ClaimHours(claimTTL)); err != nil {
			return total, true, fmt.Errorf("relay: journal prune: %w", err)
		}
	}
	return total, true, s.checkpoint(ctx)
}

func (s *Store) Ready(ctx context.Context, instance string) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO relay_heartbeat (instance, seen_at) VALUES (?, ?)
		ON CONFLICT (instance) DO UPDATE SET seen_at = excluded.seen_at`, instance, time.Now().UnixNano())
	if err != nil {
		return fmt.Errorf("relay: journal %s not writable: %w", s.path, err)
	}
	return nil
}

func (s *Store) Probe(ctx context.Context) error {
	if _, err := s.w.ExecContext(ctx, `INSERT INTO relay_probe (body) VALUES (?)`, storesql.ProbeBody()); err != nil {
		return fmt.Errorf("relay: journal %s cannot take a notification: %w", s.path, err)
	}
	if _, err := s.w.ExecContext(ctx, `DELETE FROM relay_probe`); err != nil {
		return fmt.Errorf("relay: journal %s: %w", s.path, err)
	}
	return nil
}

// Close commits the queued appends and closes the database (SQLite
// checkpoints the WAL when the last connection goes), then the lock.
func (s *Store) Close() error {
	s.stopOnce.Do(func() { close(s.stopCheckpoints) })
	<-s.checkpointsDone
	s.b.Close()
	err := errors.Join(s.r.Close(), s.w.Close())
	if s.lock != nil {
		err = errors.Join(err, unlockDir(s.lock))
	}
	return err
}
