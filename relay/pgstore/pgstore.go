// Package pgstore keeps the relay's notifications, kiosk tokens and order
// claims in PostgreSQL, shared by several relay instances.
package pgstore

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

	"qrkiosk/relay/internal/storesql"
	"qrkiosk/relay/store"
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

// its poll, after a reconnect) can never skip a row committed late.
type Store struct {
	pool    *pgxpool.Pool
	listenC *pgx.ConnConfig
	log     *slog.Logger
	b       *storesql.Batcher

	changed   chan struct{}
	listening atomic.Bool
	stop      context.CancelFunc
	stopped   chan struct{}
}

// defaultPoolConns is the pool size unless the URL sets pool_max_conns:
// one writer, a few replays and token look-ups at a time.
const defaultPoolConns = 10

// Options tune a Store.
type Options struct {
	Logger *slog.Logger
}

// Open connects to the database of url (postgres:// or postgresql://),
// migrates it, and starts listening for the other instances' appends.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	if !strings.HasPrefix(url, "postgres://") && !strings.HasPrefix(url, "postgresql://") {
		return nil, errors.New("relay: --database: must be a postgres:// URL (leave it empty for SQLite in --data)")
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
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
	s := &Store{pool: pool, listenC: listenC, log: log, changed: make(chan struct{}, 1),
		stopped: make(chan struct{})}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	s.b = storesql.NewBatcher(s.commit)
	lctx, cancel := context.WithCancel(context.Background())
	s.stop = cancel
	go s.listen(lctx)
	return s, nil
}

func (s *Store) Append(ctx context.Context, rec *store.Record) (bool, error) {
	return s.b.Append(ctx, rec)
}

// commitTimeout bounds one group commit: past it the notifications are
// answered 503 and the gateway retries (the unique key makes that safe
// even if the commit did land).
const commitTimeout = 10 * time.Second

// commit stores a batch in one transaction. A connection that died while
// idle in the pool (a database restart, a failover) fails the first
// attempt: it is retried, which is safe whatever the first attempt did,
// since every insert is ON CONFLICT DO NOTHING.
func (s *Store) commit(batch []*storesql.AppendReq) error {
	ctx, cancel := context.WithTimeout(context.Background(), commitTimeout)
	defer cancel()
	var err error
	for attempt, wait := 0, 50*time.Millisecond; ; attempt, wait = attempt+1, wait*4 {
		for _, req := range batch {
			req.Inserted, req.Rec.ID = false, 0
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
func (s *Store) commitOnce(ctx context.Context, batch []*storesql.AppendReq) error {
	b := &pgx.Batch{}
	b.Queue(`SELECT pg_advisory_xact_lock($1)`, lockAppend)
	for _, req := range batch {
		r := req.Rec
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
			req.Inserted = false
		case err != nil:
			br.Close()
			return fmt.Errorf("relay: database insert: %w", err)
		default:
			req.Inserted, req.Rec.ID = true, id
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

const pgColumns = `id, merchant, gateway, syssn, notify_type, out_trade_no, udid, body, sign, sign_type, received_at`

// query stops reading once the records' bodies hold maxBytes (0 = no
// bound).
func (s *Store) query(ctx context.Context, maxBytes int, where string, args ...any) ([]*store.Record, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+pgColumns+` FROM notifications `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("relay: database query: %w", err)
	}
	defer rows.Close()
	var out []*store.Record
	size := 0
	for (maxBytes == 0 || size < maxBytes) && rows.Next() {
		r := new(store.Record)
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

func (s *Store) After(ctx context.Context, after int64, limit int) ([]*store.Record, error) {
	return s.query(ctx, 0, `WHERE id > $1 ORDER BY id LIMIT $2`, after, limit)
}

func (s *Store) LastID(ctx context.Context) (int64, error) {
	var id int64
	err := s.pool.QueryRow(ctx, `SELECT coalesce(max(id), 0) FROM notifications`).Scan(&id)
	return id, err
}

func (s *Store) Replay(ctx context.Context, q store.ReplayQuery, after int64, limit int) ([]*store.Record, error) {
	where, args := storesql.ReplayWhere(q, "$", after, limit, func(t time.Time) any { return t })
	return s.query(ctx, store.ReplayPageBytes, where, args...)
}

func (s *Store) Foreign(ctx context.Context, outTradeNo string, scope store.Scope) (bool, error) {
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
func (s *Store) Claim(ctx context.Context, merchant, outTradeNo, udid string, limits store.ClaimLimits) (string, error) {
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
	err = storesql.CountClaim(limits, func(args ...any) (n int, err error) {
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

// pgQuotaSQL is storesql.ClaimQuotaSQL with PostgreSQL's placeholders.
var pgQuotaSQL = strings.ReplaceAll(storesql.ClaimQuotaSQL, "?", "$")

func (s *Store) Count(ctx context.Context) (int64, error) {
	var n int64
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM notifications`).Scan(&n)
	return n, err
}

// Prune runs on one instance at a time (a session advisory lock), and not
// again within 90 % of period of the last run by any instance.
func (s *Store) Prune(ctx context.Context, before time.Time, claimTTL, period time.Duration) (int64, bool, error) {
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
			tag, err := conn.Exec(ctx, query, append(args, storesql.PruneChunk)...)
			if err != nil {
				return deleted, fmt.Errorf("relay: database prune: %w", err)
			}
			deleted += tag.RowsAffected()
			if tag.RowsAffected() < storesql.PruneChunk {
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
	if claimTTL > 0 {
		if _, err := chunks(`DELETE FROM order_claims WHERE (merchant, out_trade_no) IN
			(SELECT c.merchant, c.out_trade_no FROM order_claims c WHERE c.claimed_at < now() - make_interval(secs => $1)
				AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.out_trade_no = c.out_trade_no AND n.merchant = c.merchant)
				LIMIT $2)`, claimTTL.Seconds()); err != nil {
			return total, true, err
		}
		if _, err := conn.Exec(ctx, `DELETE FROM claim_quota WHERE hour <= $1`,
			storesql.ClaimHour(time.Now())-storesql.ClaimHours(claimTTL)); err != nil {
			return total, true, fmt.Errorf("relay: database prune: %w", err)
		}
	}
	if _, err := conn.Exec(ctx, `INSERT INTO relay_jobs (name, last_run_at) VALUES ('prune', now())
		ON CONFLICT (name) DO UPDATE SET last_run_at = excluded.last_run_at`); err != nil {
		return total, true, fmt.Errorf("relay: database prune: %w", err)
	}
	return total, true, nil
}

func (s *Store) Ready(ctx context.Context, instance string) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO relay_instances (instance, seen_at) VALUES ($1, now())
		ON CONFLICT (instance) DO UPDATE SET seen_at = excluded.seen_at`, instance)
	if err != nil {
		return fmt.Errorf("relay: database not writable: %w", err)
	}
	return nil
}

func (s *Store) Probe(ctx context.Context) error {
	var id int64
	if err := s.pool.QueryRow(ctx, `INSERT INTO relay_probe (body) VALUES ($1) RETURNING id`, storesql.ProbeBody()).Scan(&id); err != nil {
		return fmt.Errorf("relay: database cannot take a notification: %w", err)
	}
	if _, err := s.pool.Exec(ctx, `DELETE FROM relay_probe WHERE id = $1`, id); err != nil {
		return fmt.Errorf("relay: database: %w", err)
	}
	return nil
}

func (s *Store) Close() error {
	s.b.Close()
	s.stop()
	<-s.stopped
	s.pool.Close()
	return nil
}
