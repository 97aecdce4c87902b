package relay

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // pure-Go SQLite driver, keeps the relay CGO_ENABLED=0
)

// JournalFile is the SQLite database's name inside the data directory;
// LockFile is held by the relay using it.
const (
	JournalFile = "notifications.db"
	LockFile    = "qrkiosk-relay.lock"
)

// sqliteMigrations are applied in order, each once, recorded in
// schema_migrations. Never edit one that has shipped: append.
var sqliteMigrations = []string{
	// 1: the schema as it was before versioning (IF NOT EXISTS adopts it).
	`CREATE TABLE IF NOT EXISTS notifications (
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
	CREATE INDEX IF NOT EXISTS notifications_received_at ON notifications (received_at);`,

	// 2: many merchants and gateways (de-duplicated per merchant and
	// gateway; a one-shop relay's ScanForPay rows were notify_type
	// "scanforpay:EVENT"), ids never reused (AUTOINCREMENT: the fan-out follows ids,
	// and pruning every row must not restart them), kiosk tokens, and the
	// readiness heartbeat.
	`CREATE TABLE notifications_v2 (
		id           INTEGER PRIMARY KEY AUTOINCREMENT,
		merchant     TEXT    NOT NULL,
		gateway      TEXT    NOT NULL,
		syssn        TEXT    NOT NULL,
		notify_type  TEXT    NOT NULL,
		out_trade_no TEXT    NOT NULL,
		udid         TEXT    NOT NULL DEFAULT '',
		body         BLOB    NOT NULL,
		sign         TEXT    NOT NULL,
		sign_type    TEXT    NOT NULL,
		received_at  INTEGER NOT NULL,
		UNIQUE (merchant, gateway, syssn, notify_type)
	);
	INSERT INTO notifications_v2 (id, merchant, gateway, syssn, notify_type, out_trade_no, udid, body, sign,
		sign_type, received_at)
		SELECT id, 'default',
			CASE WHEN notify_type LIKE 'scanforpay:%' THEN 'scanforpay' ELSE 'qfpay' END, syssn,
			CASE WHEN notify_type LIKE 'scanforpay:%' THEN substr(notify_type, 12) ELSE notify_type END,
			out_trade_no, udid, body, sign, upper(sign_type), received_at FROM notifications;
	DROP TABLE notifications;
	ALTER TABLE notifications_v2 RENAME TO notifications;
	CREATE INDEX notifications_out_trade_no ON notifications (out_trade_no, merchant);
	CREATE INDEX notifications_device ON notifications (merchant, udid, received_at);
	CREATE INDEX notifications_received_at ON notifications (received_at);
	CREATE TABLE kiosk_tokens (
		id         INTEGER PRIMARY KEY AUTOINCREMENT,
		hash       BLOB    NOT NULL UNIQUE,
		merchant   TEXT    NOT NULL,
		udid       TEXT    NOT NULL,
		note       TEXT    NOT NULL DEFAULT '',
		created_at INTEGER NOT NULL,
		revoked_at INTEGER
	);
	CREATE INDEX kiosk_tokens_revoked_at ON kiosk_tokens (revoked_at);
	CREATE TABLE relay_heartbeat (
		instance TEXT    PRIMARY KEY,
		seen_at  INTEGER NOT NULL
	);`,

	// 3: which device follows an order, for gateways whose notifications
	// do not name the device.
	`CREATE TABLE order_claims (
		merchant     TEXT    NOT NULL,
		out_trade_no TEXT    NOT NULL,
		udid         TEXT    NOT NULL,
		claimed_at   INTEGER NOT NULL,
		PRIMARY KEY (merchant, out_trade_no)
	);
	CREATE INDEX order_claims_claimed_at ON order_claims (claimed_at);`,

	// 4: new claims counted by the hour per device and per merchant (udid
	// ''), for ClaimLimits; and the readiness probe's scratch row.
	`CREATE TABLE claim_quota (
		merchant TEXT    NOT NULL,
		udid     TEXT    NOT NULL,
		hour     INTEGER NOT NULL,
		claims   INTEGER NOT NULL,
		PRIMARY KEY (merchant, udid, hour)
	);
	CREATE TABLE relay_probe (
		id   INTEGER PRIMARY KEY,
		body BLOB    NOT NULL
	);`,
}

// The WAL is checkpointed and truncated once it passes walCheckpointAbove
// (looked at every walCheckpointEvery) and after each pruning pass.
// SQLite's own checkpoints copy the WAL into the database but restart it
// only when no reader is using it, which under steady reads may be never:
// a burst of writes then leaves a WAL of hundreds of MB.
var (
	walCheckpointEvery       = 10 * time.Second
	walCheckpointAbove int64 = 16 << 20
)

// sqliteStore keeps everything in one SQLite file in WAL mode with
// synchronous=FULL, so a commit has reached the disk before the gateway is
// told SUCCESS. One goroutine owns the writer connection and commits
// concurrent appends together (group commit): one fsync per batch.
type sqliteStore struct {
	path   string
	w, r   *sql.DB
	b      *batcher
	lock   *os.File
	claims ClaimLimits

	stopOnce        sync.Once
	stopCheckpoints chan struct{}
	checkpointsDone chan struct{}
}

// openSQLite opens (creating it 0600) the journal in dir and migrates it.
// With lock, the directory is locked against a second relay process; the
// token commands open it without, beside a running relay.
func openSQLite(dir string, lock bool, claims ClaimLimits) (*sqliteStore, error) {
	if dir == "" {
		return nil, errors.New("relay: DataDir is required")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("relay: data dir: %w", err)
	}
	s := &sqliteStore{path: filepath.Join(dir, JournalFile), claims: claims,
		stopCheckpoints: make(chan struct{}), checkpointsDone: make(chan struct{})}
	if lock {
		l, err := lockDir(dir, LockFile)
		if err != nil {
			return nil, err
		}
		s.lock = l
	}
	fail := func(err error) (*sqliteStore, error) {
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
	s.b = newBatcher(s.commit)
	go s.checkpoints()
	return s, nil
}

func (s *sqliteStore) checkpoints() {
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
func (s *sqliteStore) checkpoint(ctx context.Context) error {
	if _, err := s.w.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return fmt.Errorf("relay: journal checkpoint: %w", err)
	}
	return nil
}

// createPrivate creates the journal file 0600 before SQLite does (SQLite
// would use the umask, usually 0644; its -wal and -shm files copy the
// database file's mode), and tightens an existing one.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("relay: journal %s: %w", path, err)
	}
	st, err := f.Stat()
	f.Close()
	if err != nil {
		return fmt.Errorf("relay: journal %s: %w", path, err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		for _, p := range []string{path, path + "-wal", path + "-shm"} {
			if err := os.Chmod(p, 0o600); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("relay: journal %s: %w", p, err)
			}
		}
	}
	return nil
}

func (s *sqliteStore) migrate() error {
	if _, err := s.w.Exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("relay: journal %s: %w", s.path, err)
	}
	for {
		// BEGIN IMMEDIATE (the _txlock): a token command opening the file
		// beside a starting relay waits here instead of migrating twice.
		tx, err := s.w.Begin()
		if err != nil {
			return fmt.Errorf("relay: journal %s: %w", s.path, err)
		}
		var v int
		if err := tx.QueryRow(`SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&v); err != nil {
			tx.Rollback()
			return fmt.Errorf("relay: journal %s: %w", s.path, err)
		}
		if v > len(sqliteMigrations) {
			tx.Rollback()
			return fmt.Errorf("relay: journal %s has schema version %d, newer than this relay knows (%d): run a newer qrkiosk-relay", s.path, v, len(sqliteMigrations))
		}
		if v == len(sqliteMigrations) {
			return tx.Rollback()
		}
		if _, err := tx.Exec(sqliteMigrations[v]); err != nil {
			tx.Rollback()
			return fmt.Errorf("relay: journal %s: migration %d: %w", s.path, v+1, err)
		}
		if _, err := tx.Exec(`INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`, v+1, time.Now().UnixNano()); err != nil {
			tx.Rollback()
			return fmt.Errorf("relay: journal %s: migration %d: %w", s.path, v+1, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("relay: journal %s: migration %d: %w", s.path, v+1, err)
		}
	}
}

func (s *sqliteStore) Append(ctx context.Context, rec *Record) (bool, error) {
	return s.b.append(ctx, rec)
}

func (s *sqliteStore) commit(batch []*appendReq) error {
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
		r := req.rec
		var id int64
		err := stmt.QueryRow(r.Merchant, r.Gateway, r.SysSN, r.NotifyType, r.OutTradeNo, r.UDID, r.Body, r.Sign,
			r.SignType, r.ReceivedAt.UnixNano()).Scan(&id)
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

const sqliteColumns = `id, merchant, gateway, syssn, notify_type, out_trade_no, udid, body, sign, sign_type, received_at`

func (s *sqliteStore) After(ctx context.Context, after int64, limit int) ([]*Record, error) {
	return s.query(ctx, `WHERE id > ? ORDER BY id LIMIT ?`, after, limit)
}

func (s *sqliteStore) LastID(ctx context.Context) (int64, error) {
	var id int64
	err := s.r.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM notifications`).Scan(&id)
	return id, err
}

func (s *sqliteStore) Changed() <-chan struct{} { return nil }

func (s *sqliteStore) Replay(ctx context.Context, q ReplayQuery, after int64, limit int) ([]*Record, error) {
	where, args := replayWhere(q, "?", after, limit, func(t time.Time) any { return t.UnixNano() })
	return s.queryBytes(ctx, replayPageBytes, where, args...)
}

// replayWhere builds the WHERE … LIMIT of a replay page for either SQL
// dialect: style "?" (SQLite) or "$" ($1, $2… in PostgreSQL).
func replayWhere(q ReplayQuery, style string, after int64, limit int, at func(time.Time) any) (string, []any) {
	var args []any
	ph := func(v any) string {
		args = append(args, v)
		if style == "?" {
			return "?"
		}
		return fmt.Sprintf("$%d", len(args))
	}
	var b strings.Builder
	b.WriteString("WHERE merchant = " + ph(q.Scope.Merchant) + " AND id > " + ph(after))
	if q.Scope.UDID != "" {
		// A correlated EXISTS is a primary-key probe per candidate row; an
		// IN over the device's claims would scan the merchant's claims.
		b.WriteString(" AND (udid = " + ph(q.Scope.UDID) + " OR (udid = '' AND EXISTS (SELECT 1 FROM order_claims c" +
			" WHERE c.merchant = notifications.merchant AND c.out_trade_no = notifications.out_trade_no AND c.udid = " +
			ph(q.Scope.UDID) + ")))")
	}
	var match []string
	if q.OutTradeNo != "" {
		match = append(match, "out_trade_no = "+ph(q.OutTradeNo))
	}
	if q.UDID != "" {
		match = append(match, "(udid = "+ph(q.UDID)+" AND received_at >= "+ph(at(q.Since.Truncate(time.Microsecond)))+")")
	}
	if len(match) == 0 {
		match = append(match, "false")
	}
	b.WriteString(" AND (" + strings.Join(match, " OR ") + ") ORDER BY id LIMIT " + ph(limit))
	return b.String(), args
}

func (s *sqliteStore) Foreign(ctx context.Context, outTradeNo string, scope Scope) (bool, error) {
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
func (s *sqliteStore) Claim(ctx context.Context, merchant, outTradeNo, udid string) (string, error) {
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
	err = s.claims.count(func(args ...any) (n int, err error) {
		return n, tx.QueryRowContext(ctx, claimQuotaSQL, args...).Scan(&n)
	}, merchant, udid, now)
	if err != nil {
		return "", err
	}
	if err := tx.Commit(); err != nil {
		return "", fmt.Errorf("relay: claim: %w", err)
	}
	return owner, nil
}

func (s *sqliteStore) Count(ctx context.Context) (int64, error) {
	var n int64
	err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM notifications`).Scan(&n)
	return n, err
}

func (s *sqliteStore) query(ctx context.Context, where string, args ...any) ([]*Record, error) {
	return s.queryBytes(ctx, 0, where, args...)
}

// queryBytes stops reading once the records' bodies hold maxBytes (0 =
// no bound).
func (s *sqliteStore) queryBytes(ctx context.Context, maxBytes int, where string, args ...any) ([]*Record, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+sqliteColumns+` FROM notifications `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("relay: journal query: %w", err)
	}
	defer rows.Close()
	var out []*Record
	size := 0
	for (maxBytes == 0 || size < maxBytes) && rows.Next() {
		r := new(Record)
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
func (s *sqliteStore) Prune(ctx context.Context, before time.Time, _ time.Duration) (int64, bool, error) {
	var total int64
	chunks := func(query string, args ...any) (int64, error) {
		var deleted int64
		for {
			res, err := s.w.ExecContext(ctx, query, append(args, pruneChunk)...)
			if err != nil {
				return deleted, fmt.Errorf("relay: journal prune: %w", err)
			}
			n, err := res.RowsAffected()
			if err != nil {
				return deleted, fmt.Errorf("relay: journal prune: %w", err)
			}
			deleted += n
			if n < pruneChunk {
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
	if s.claims.TTL > 0 {
		now := time.Now()
		if _, err := chunks(`DELETE FROM order_claims WHERE rowid IN
			(SELECT c.rowid FROM order_claims c WHERE c.claimed_at < ? AND NOT EXISTS (SELECT 1 FROM notifications n
				WHERE n.out_trade_no = c.out_trade_no AND n.merchant = c.merchant) LIMIT ?)`,
			now.Add(-s.claims.TTL).UnixNano()); err != nil {
			return total, true, err
		}
		if _, err := s.w.ExecContext(ctx, `DELETE FROM claim_quota WHERE hour <= ?`,
			claimHour(now)-s.claims.hours()); err != nil {
			return total, true, fmt.Errorf("relay: journal prune: %w", err)
		}
	}
	return total, true, s.checkpoint(ctx)
}

func (s *sqliteStore) Ready(ctx context.Context, instance string) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO relay_heartbeat (instance, seen_at) VALUES (?, ?)
		ON CONFLICT (instance) DO UPDATE SET seen_at = excluded.seen_at`, instance, time.Now().UnixNano())
	if err != nil {
		return fmt.Errorf("relay: journal %s not writable: %w", s.path, err)
	}
	return nil
}

func (s *sqliteStore) Probe(ctx context.Context) error {
	if _, err := s.w.ExecContext(ctx, `INSERT INTO relay_probe (body) VALUES (?)`, probeBody()); err != nil {
		return fmt.Errorf("relay: journal %s cannot take a notification: %w", s.path, err)
	}
	if _, err := s.w.ExecContext(ctx, `DELETE FROM relay_probe`); err != nil {
		return fmt.Errorf("relay: journal %s: %w", s.path, err)
	}
	return nil
}

func (s *sqliteStore) AddToken(ctx context.Context, t *Token) error {
	t.CreatedAt = time.Now().Truncate(time.Microsecond)
	err := s.w.QueryRowContext(ctx, `INSERT INTO kiosk_tokens (hash, merchant, udid, note, created_at)
		VALUES (?, ?, ?, ?, ?) RETURNING id`, t.Hash, t.Merchant, t.UDID, t.Note, t.CreatedAt.UnixNano()).Scan(&t.ID)
	if err != nil {
		return fmt.Errorf("relay: add token: %w", err)
	}
	return nil
}

const sqliteTokenColumns = `id, hash, merchant, udid, note, created_at, revoked_at`

func scanSQLiteToken(sc interface{ Scan(...any) error }) (*Token, error) {
	t := new(Token)
	var created int64
	var revoked sql.NullInt64
	if err := sc.Scan(&t.ID, &t.Hash, &t.Merchant, &t.UDID, &t.Note, &created, &revoked); err != nil {
		return nil, err
	}
	t.CreatedAt = time.Unix(0, created)
	if revoked.Valid {
		t.RevokedAt = time.Unix(0, revoked.Int64)
	}
	return t, nil
}

func (s *sqliteStore) TokenByHash(ctx context.Context, hash []byte) (*Token, error) {
	t, err := scanSQLiteToken(s.r.QueryRowContext(ctx, `SELECT `+sqliteTokenColumns+` FROM kiosk_tokens WHERE hash = ?`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrTokenNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("relay: token lookup: %w", err)
	}
	return t, nil
}

func (s *sqliteStore) ListTokens(ctx context.Context) ([]*Token, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+sqliteTokenColumns+` FROM kiosk_tokens ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("relay: list tokens: %w", err)
	}
	defer rows.Close()
	var out []*Token
	for rows.Next() {
		t, err := scanSQLiteToken(rows)
		if err != nil {
			return nil, fmt.Errorf("relay: list tokens: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

func (s *sqliteStore) RevokeTokens(ctx context.Context, id int64, merchant, udid string) (int, error) {
	now := time.Now().UnixNano()
	var res sql.Result
	var err error
	if id != 0 {
		res, err = s.w.ExecContext(ctx, `UPDATE kiosk_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, now, id)
	} else {
		res, err = s.w.ExecContext(ctx, `UPDATE kiosk_tokens SET revoked_at = ?
			WHERE merchant = ? AND udid = ? AND revoked_at IS NULL`, now, merchant, udid)
	}
	if err != nil {
		return 0, fmt.Errorf("relay: revoke: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

func (s *sqliteStore) RevokedSince(ctx context.Context, since time.Time) ([]int64, time.Time, error) {
	now := time.Now()
	rows, err := s.r.QueryContext(ctx, `SELECT id FROM kiosk_tokens WHERE revoked_at >= ?`, since.UnixNano())
	if err != nil {
		return nil, since, fmt.Errorf("relay: revoked tokens: %w", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, since, err
		}
		ids = append(ids, id)
	}
	return ids, now, rows.Err()
}

// Close commits the queued appends and closes the database (SQLite
// checkpoints the WAL when the last connection goes), then the lock.
func (s *sqliteStore) Close() error {
	s.stopOnce.Do(func() { close(s.stopCheckpoints) })
	<-s.checkpointsDone
	s.b.close()
	err := errors.Join(s.r.Close(), s.w.Close())
	if s.lock != nil {
		err = errors.Join(err, unlockDir(s.lock))
	}
	return err
}
