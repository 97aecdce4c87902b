package relay

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Advisory lock keys ("qrk" and a number), one per thing that must happen
// once at a time across relay instances.
const (
	lockMigrate int64 = 0x71726b01 // schema migrations at start
	lockAppend  int64 = 0x71726b02 // held by each insert transaction until commit: ids commit in order
	lockPrune   int64 = 0x71726b03 // retention pruning
)

// notifyChannel is what instances LISTEN on; a notification there means
// "read the table", it carries nothing.
const notifyChannel = "qrkiosk_relay_notifications"

// pgMigrations are applied in order, each once, recorded in
// schema_migrations. Never edit one that has shipped: append.
var pgMigrations = []string{
	`CREATE TABLE notifications (
		id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
		merchant     text        NOT NULL,
		gateway      text        NOT NULL,
		syssn        text        NOT NULL,
		notify_type  text        NOT NULL,
		out_trade_no text        NOT NULL,
		udid         text        NOT NULL DEFAULT '',
		body         bytea       NOT NULL,
		sign         text        NOT NULL,
		sign_type    text        NOT NULL,
		received_at  timestamptz NOT NULL,
		UNIQUE (merchant, gateway, syssn, notify_type)
	);
	-- (out_trade_no, merchant): an order's notifications in one probe,
	-- whatever the planner thinks of a merchant's share of the table.
	CREATE INDEX notifications_out_trade_no ON notifications (out_trade_no, merchant);
	CREATE INDEX notifications_device ON notifications (merchant, udid, received_at);
	CREATE INDEX notifications_received_at ON notifications (received_at);
	CREATE TABLE kiosk_tokens (
		id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
		hash       bytea       NOT NULL UNIQUE,
		merchant   text        NOT NULL,
		udid       text        NOT NULL,
		note       text        NOT NULL DEFAULT '',
		created_at timestamptz NOT NULL DEFAULT now(),
		revoked_at timestamptz
	);
	CREATE INDEX kiosk_tokens_revoked_at ON kiosk_tokens (revoked_at);
	CREATE TABLE relay_instances (
		instance text        PRIMARY KEY,
		seen_at  timestamptz NOT NULL
	);
	CREATE TABLE relay_jobs (
		name        text        PRIMARY KEY,
		last_run_at timestamptz NOT NULL
	);`,

	// 2: which device follows an order, for gateways whose notifications
	// do not name the device.
	`CREATE TABLE order_claims (
		merchant     text        NOT NULL,
		out_trade_no text        NOT NULL,
		udid         text        NOT NULL,
		claimed_at   timestamptz NOT NULL DEFAULT now(),
		PRIMARY KEY (merchant, out_trade_no)
	);
	CREATE INDEX order_claims_claimed_at ON order_claims (claimed_at);`,

	// 3: new claims counted by the hour per device and per merchant (udid
	// ''), for ClaimLimits; and the readiness probe's scratch rows.
	`CREATE TABLE claim_quota (
		merchant text    NOT NULL,
		udid     text    NOT NULL,
		hour     bigint  NOT NULL,
		claims   integer NOT NULL,
		PRIMARY KEY (merchant, udid, hour)
	);
	CREATE TABLE relay_probe (
		id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
		body bytea  NOT NULL
	);`,
}

// pgStore keeps everything in PostgreSQL, shared by every relay instance.
// Appends are group-committed like SQLite's, each transaction holding an
// advisory lock until its commit so that ids become visible in order
// across instances: an instance that reads the table by id (on LISTEN, on
// its poll, after a reconnect) can never skip a row committed late.
type pgStore struct {
	pool    *pgxpool.Pool
	listenC *pgx.ConnConfig
	log     *slog.Logger
	b       *batcher
	claims  ClaimLimits

	changed   chan struct{}
	listening atomic.Bool
	stop      context.CancelFunc
	stopped   chan struct{}
}

// defaultPoolConns is the pool size unless the URL sets pool_max_conns:
// one writer, a few replays and token look-ups at a time.
const defaultPoolConns = 10

func openPostgres(ctx context.Context, url string, claims ClaimLimits, log *slog.Logger) (*pgStore, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("relay: --database: %w", err)
	}
	if !strings.Contains(url, "pool_max_conns") {
		cfg.MaxConns = defaultPoolConns
	}
	if _, ok := cfg.ConnConfig.RuntimeParams["application_name"]; !ok {
		cfg.ConnConfig.RuntimeParams["application_name"] = "qrkiosk-relay"
	}
	listenC := cfg.ConnConfig.Copy()
	listenC.RuntimeParams["application_name"] = cfg.ConnConfig.RuntimeParams["application_name"] + "-listen"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("relay: database: %w", err)
	}
	s := &pgStore{pool: pool, listenC: listenC, log: log, claims: claims, changed: make(chan struct{}, 1),
		stopped: make(chan struct{})}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	s.b = newBatcher(s.commit)
	lctx, cancel := context.WithCancel(context.Background())
	s.stop = cancel
	go s.listen(lctx)
	return s, nil
}

func (s *pgStore) migrate(ctx context.Context) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("relay: database: %w", err)
	}
	defer conn.Release()
	// Session lock: a second instance starting now waits here, then finds
	// nothing left to do.
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, lockMigrate); err != nil {
		return fmt.Errorf("relay: database: migration lock: %w", err)
	}
	defer conn.Exec(context.Background(), `SELECT pg_advisory_unlock($1)`, lockMigrate)
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("relay: database: %w", err)
	}
	var v int
	if err := conn.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&v); err != nil {
		return fmt.Errorf("relay: database: %w", err)
	}
	if v > len(pgMigrations) {
		return fmt.Errorf("relay: database schema version %d is newer than this relay knows (%d): run a newer qrkiosk-relay", v, len(pgMigrations))
	}
	for ; v < len(pgMigrations); v++ {
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, pgMigrations[v]); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, v+1)
			return err
		})
		if err != nil {
			return fmt.Errorf("relay: database: migration %d: %w", v+1, err)
		}
		s.log.Info("database migrated", "version", v+1)
	}
	return nil
}

func (s *pgStore) Append(ctx context.Context, rec *Record) (bool, error) {
	return s.b.append(ctx, rec)
}

// commitTimeout bounds one group commit: past it the notifications are
// answered 503 and the gateway retries (the unique key makes that safe
// even if the commit did land).
const commitTimeout = 10 * time.Second

// commit stores a batch in one transaction. A connection that died while
// idle in the pool (a database restart, a failover) fails the first
// attempt: it is retried, which is safe whatever the first attempt did,
// since every insert is ON CONFLICT DO NOTHING.
func (s *pgStore) commit(batch []*appendReq) error {
	ctx, cancel := context.WithTimeout(context.Background(), commitTimeout)
	defer cancel()
	var err error
	for attempt, wait := 0, 50*time.Millisecond; ; attempt, wait = attempt+1, wait*4 {
		for _, req := range batch {
			req.inserted, req.rec.ID = false, 0
		}
		if err = s.commitOnce(ctx, batch); err == nil || attempt == 2 || ctx.Err() != nil {
			return err
		}
		s.log.Warn("database commit failed, retrying", "err", err, "notifications", len(batch))
		if pgErr := (*pgconn.PgError)(nil); !errors.As(err, &pgErr) {
			// Not the server's answer but a broken connection: its idle
			// siblings in the pool are likely dead too (restart, failover).
			s.pool.Reset()
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
	}
}

// commitOnce sends the batch in one round trip: a pipeline without
// explicit BEGIN runs as one implicit transaction, committed (and, with
// synchronous_commit on, flushed) before the batch's results are all
// read. Nothing is reported inserted until then.
func (s *pgStore) commitOnce(ctx context.Context, batch []*appendReq) error {
	b := &pgx.Batch{}
	b.Queue(`SELECT pg_advisory_xact_lock($1)`, lockAppend)
	for _, req := range batch {
		r := req.rec
		b.Queue(`INSERT INTO notifications
			(merchant, gateway, syssn, notify_type, out_trade_no, udid, body, sign, sign_type, received_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
			ON CONFLICT (merchant, gateway, syssn, notify_type) DO NOTHING RETURNING id`,
			r.Merchant, r.Gateway, r.SysSN, r.NotifyType, r.OutTradeNo, r.UDID, r.Body, r.Sign, r.SignType, r.ReceivedAt)
	}
	// Delivered to listeners on commit, never before; a batch of only
	// duplicates wakes them for nothing, which is harmless.
	b.Queue(`SELECT pg_notify($1, '')`, notifyChannel)
	br := s.pool.SendBatch(ctx, b)
	if _, err := br.Exec(); err != nil {
		br.Close()
		return fmt.Errorf("relay: database lock: %w", err)
	}
	for _, req := range batch {
		var id int64
		err := br.QueryRow().Scan(&id)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			req.inserted = false
		case err != nil:
			br.Close()
			return fmt.Errorf("relay: database insert: %w", err)
		default:
			req.inserted, req.rec.ID = true, id
		}
	}
	if _, err := br.Exec(); err != nil {
		br.Close()
		return fmt.Errorf("relay: database notify: %w", err)
	}
	if err := br.Close(); err != nil {
		return fmt.Errorf("relay: database commit: %w", err)
	}
	return nil
}

// listen keeps a connection LISTENing and signals Changed for every
// notification, and once after each (re)connect so the instance catches
// up on whatever was committed while it was not listening.
func (s *pgStore) listen(ctx context.Context) {
	defer close(s.stopped)
	wait := 250 * time.Millisecond
	for ctx.Err() == nil {
		err := s.listenOnce(ctx)
		s.listening.Store(false)
		if ctx.Err() != nil {
			return
		}
		s.log.Warn("database listener lost; catching up by polling until it is back", "err", err, "retry_in", wait)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, 5*time.Second)
		if err == nil {
			wait = 250 * time.Millisecond
		}
	}
}

func (s *pgStore) listenOnce(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	conn, err := pgx.ConnectConfig(cctx, s.listenC)
	cancel()
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, `LISTEN `+notifyChannel); err != nil {
		return err
	}
	s.listening.Store(true)
	s.signal()
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		s.signal()
	}
}

func (s *pgStore) signal() {
	select {
	case s.changed <- struct{}{}:
	default:
	}
}

func (s *pgStore) Changed() <-chan struct{} { return s.changed }

// Listening reports whether the LISTEN connection is up.
func (s *pgStore) Listening() bool { return s.listening.Load() }

const pgColumns = `id, merchant, gateway, syssn, notify_type, out_trade_no, udid, body, sign, sign_type, received_at`

// query stops reading once the records' bodies hold maxBytes (0 = no
// bound).
func (s *pgStore) query(ctx context.Context, maxBytes int, where string, args ...any) ([]*Record, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+pgColumns+` FROM notifications `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("relay: database query: %w", err)
	}
	defer rows.Close()
	var out []*Record
	size := 0
	for (maxBytes == 0 || size < maxBytes) && rows.Next() {
		r := new(Record)
		if err := rows.Scan(&r.ID, &r.Merchant, &r.Gateway, &r.SysSN, &r.NotifyType, &r.OutTradeNo, &r.UDID,
			&r.Body, &r.Sign, &r.SignType, &r.ReceivedAt); err != nil {
			return nil, fmt.Errorf("relay: database scan: %w", err)
		}
		out = append(out, r)
		size += len(r.Body)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("relay: database query: %w", err)
	}
	return out, nil
}

func (s *pgStore) After(ctx context.Context, after int64, limit int) ([]*Record, error) {
	return s.query(ctx, 0, `WHERE id > $1 ORDER BY id LIMIT $2`, after, limit)
}

func (s *pgStore) LastID(ctx context.Context) (int64, error) {
	var id int64
	err := s.pool.QueryRow(ctx, `SELECT coalesce(max(id), 0) FROM notifications`).Scan(&id)
	return id, err
}

func (s *pgStore) Replay(ctx context.Context, q ReplayQuery, after int64, limit int) ([]*Record, error) {
	where, args := replayWhere(q, "$", after, limit, func(t time.Time) any { return t })
	return s.query(ctx, replayPageBytes, where, args...)
}

func (s *pgStore) Foreign(ctx context.Context, outTradeNo string, scope Scope) (bool, error) {
	var found bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM notifications
		WHERE out_trade_no = $1 AND NOT (merchant = $2 AND ($3 = '' OR udid = '' OR udid = $3)))`,
		outTradeNo, scope.Merchant, scope.UDID).Scan(&found)
	if err != nil {
		return false, fmt.Errorf("relay: database query: %w", err)
	}
	return found, nil
}

// Claim reads first: a kiosk resubscribing after a reconnect finds its
// order's owner and writes nothing. Two instances claiming at once: the
// unique key keeps the first.
func (s *pgStore) Claim(ctx context.Context, merchant, outTradeNo, udid string) (string, error) {
	var found *string
	err := s.pool.QueryRow(ctx, `SELECT coalesce(
		(SELECT udid FROM notifications WHERE out_trade_no = $2 AND merchant = $1 AND udid <> '' LIMIT 1),
		(SELECT udid FROM order_claims WHERE merchant = $1 AND out_trade_no = $2))`, merchant, outTradeNo).Scan(&found)
	if err != nil {
		return "", fmt.Errorf("relay: claim: %w", err)
	}
	if found != nil {
		return *found, nil
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return "", fmt.Errorf("relay: claim: %w", err)
	}
	defer tx.Rollback(context.Background())
	var owner string
	err = tx.QueryRow(ctx, `INSERT INTO order_claims (merchant, out_trade_no, udid) VALUES ($1, $2, $3)
		ON CONFLICT (merchant, out_trade_no) DO NOTHING RETURNING udid`, merchant, outTradeNo, udid).Scan(&owner)
	if errors.Is(err, pgx.ErrNoRows) { // claimed since the read (the insert waited for that claim's commit)
		err = tx.QueryRow(ctx, `SELECT udid FROM order_claims WHERE merchant = $1 AND out_trade_no = $2`,
			merchant, outTradeNo).Scan(&owner)
		if err != nil {
			return "", fmt.Errorf("relay: claim: %w", err)
		}
		return owner, nil
	}
	if err != nil {
		return "", fmt.Errorf("relay: claim: %w", err)
	}
	// The quota rows' locks order concurrent claims of one device (or
	// merchant) across instances: each sees the others' counts.
	err = s.claims.count(func(args ...any) (n int, err error) {
		return n, tx.QueryRow(ctx, pgQuotaSQL, args...).Scan(&n)
	}, merchant, udid, time.Now())
	if err != nil {
		return "", err
	}
	if err := tx.Commit(ctx); err != nil {
		return "", fmt.Errorf("relay: claim: %w", err)
	}
	return owner, nil
}

// pgQuotaSQL is claimQuotaSQL with PostgreSQL's placeholders.
var pgQuotaSQL = strings.ReplaceAll(claimQuotaSQL, "?", "$")

func (s *pgStore) Count(ctx context.Context) (int64, error) {
	var n int64
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM notifications`).Scan(&n)
	return n, err
}

// Prune runs on one instance at a time (a session advisory lock), and not
// again within 90 % of period of the last run by any instance.
func (s *pgStore) Prune(ctx context.Context, before time.Time, period time.Duration) (int64, bool, error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return 0, false, fmt.Errorf("relay: database prune: %w", err)
	}
	defer conn.Release()
	var got bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, lockPrune).Scan(&got); err != nil {
		return 0, false, fmt.Errorf("relay: database prune: %w", err)
	}
	if !got {
		return 0, false, nil
	}
	defer func() {
		uctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn.Exec(uctx, `SELECT pg_advisory_unlock($1)`, lockPrune)
	}()
	var recent bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM relay_jobs WHERE name = 'prune'
		AND last_run_at > now() - make_interval(secs => $1))`, (period * 9 / 10).Seconds()).Scan(&recent); err != nil {
		return 0, false, fmt.Errorf("relay: database prune: %w", err)
	}
	if recent {
		return 0, false, nil
	}
	chunks := func(query string, args ...any) (int64, error) {
		var deleted int64
		for {
			tag, err := conn.Exec(ctx, query, append(args, pruneChunk)...)
			if err != nil {
				return deleted, fmt.Errorf("relay: database prune: %w", err)
			}
			deleted += tag.RowsAffected()
			if tag.RowsAffected() < pruneChunk {
				return deleted, nil
			}
		}
	}
	var total int64
	if !before.IsZero() {
		n, err := chunks(`DELETE FROM notifications WHERE id IN
			(SELECT id FROM notifications WHERE received_at < $1 ORDER BY received_at LIMIT $2)`, before)
		total = n
		if err != nil {
			return total, true, err
		}
		if _, err := chunks(`DELETE FROM order_claims WHERE (merchant, out_trade_no) IN
			(SELECT merchant, out_trade_no FROM order_claims WHERE claimed_at < $1 LIMIT $2)`, before); err != nil {
			return total, true, err
		}
	}
	if s.claims.TTL > 0 {
		if _, err := chunks(`DELETE FROM order_claims WHERE (merchant, out_trade_no) IN
			(SELECT c.merchant, c.out_trade_no FROM order_claims c WHERE c.claimed_at < now() - make_interval(secs => $1)
				AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.out_trade_no = c.out_trade_no AND n.merchant = c.merchant)
				LIMIT $2)`, s.claims.TTL.Seconds()); err != nil {
			return total, true, err
		}
		if _, err := conn.Exec(ctx, `DELETE FROM claim_quota WHERE hour <= $1`,
			claimHour(time.Now())-s.claims.hours()); err != nil {
			return total, true, fmt.Errorf("relay: database prune: %w", err)
		}
	}
	if _, err := conn.Exec(ctx, `INSERT INTO relay_jobs (name, last_run_at) VALUES ('prune', now())
		ON CONFLICT (name) DO UPDATE SET last_run_at = excluded.last_run_at`); err != nil {
		return total, true, fmt.Errorf("relay: database prune: %w", err)
	}
	return total, true, nil
}

func (s *pgStore) Ready(ctx context.Context, instance string) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO relay_instances (instance, seen_at) VALUES ($1, now())
		ON CONFLICT (instance) DO UPDATE SET seen_at = excluded.seen_at`, instance)
	if err != nil {
		return fmt.Errorf("relay: database not writable: %w", err)
	}
	return nil
}

func (s *pgStore) Probe(ctx context.Context) error {
	var id int64
	if err := s.pool.QueryRow(ctx, `INSERT INTO relay_probe (body) VALUES ($1) RETURNING id`, probeBody()).Scan(&id); err != nil {
		return fmt.Errorf("relay: database cannot take a notification: %w", err)
	}
	if _, err := s.pool.Exec(ctx, `DELETE FROM relay_probe WHERE id = $1`, id); err != nil {
		return fmt.Errorf("relay: database: %w", err)
	}
	return nil
}

func (s *pgStore) AddToken(ctx context.Context, t *Token) error {
	err := s.pool.QueryRow(ctx, `INSERT INTO kiosk_tokens (hash, merchant, udid, note) VALUES ($1, $2, $3, $4)
		RETURNING id, created_at`, t.Hash, t.Merchant, t.UDID, t.Note).Scan(&t.ID, &t.CreatedAt)
	if err != nil {
		return fmt.Errorf("relay: add token: %w", err)
	}
	return nil
}

const pgTokenColumns = `id, hash, merchant, udid, note, created_at, revoked_at`

func scanPGToken(row pgx.Row) (*Token, error) {
	t := new(Token)
	var revoked *time.Time
	if err := row.Scan(&t.ID, &t.Hash, &t.Merchant, &t.UDID, &t.Note, &t.CreatedAt, &revoked); err != nil {
		return nil, err
	}
	if revoked != nil {
		t.RevokedAt = *revoked
	}
	return t, nil
}

func (s *pgStore) TokenByHash(ctx context.Context, hash []byte) (*Token, error) {
	t, err := scanPGToken(s.pool.QueryRow(ctx, `SELECT `+pgTokenColumns+` FROM kiosk_tokens WHERE hash = $1`, hash))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrTokenNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("relay: token lookup: %w", err)
	}
	return t, nil
}

func (s *pgStore) ListTokens(ctx context.Context) ([]*Token, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+pgTokenColumns+` FROM kiosk_tokens ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("relay: list tokens: %w", err)
	}
	defer rows.Close()
	var out []*Token
	for rows.Next() {
		t, err := scanPGToken(rows)
		if err != nil {
			return nil, fmt.Errorf("relay: list tokens: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

func (s *pgStore) RevokeTokens(ctx context.Context, id int64, merchant, udid string) (int, error) {
	var err error
	var n int64
	if id != 0 {
		tag, e := s.pool.Exec(ctx, `UPDATE kiosk_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL`, id)
		n, err = tag.RowsAffected(), e
	} else {
		tag, e := s.pool.Exec(ctx, `UPDATE kiosk_tokens SET revoked_at = now()
			WHERE merchant = $1 AND udid = $2 AND revoked_at IS NULL`, merchant, udid)
		n, err = tag.RowsAffected(), e
	}
	if err != nil {
		return 0, fmt.Errorf("relay: revoke: %w", err)
	}
	return int(n), nil
}

func (s *pgStore) RevokedSince(ctx context.Context, since time.Time) ([]int64, time.Time, error) {
	var ids []int64
	var now time.Time
	err := s.pool.QueryRow(ctx, `SELECT now(), coalesce(array_agg(id), '{}') FROM kiosk_tokens
		WHERE revoked_at >= $1`, since).Scan(&now, &ids)
	if err != nil {
		return nil, since, fmt.Errorf("relay: revoked tokens: %w", err)
	}
	return ids, now, nil
}

func (s *pgStore) Close() error {
	s.b.close()
	s.stop()
	<-s.stopped
	s.pool.Close()
	return nil
}
