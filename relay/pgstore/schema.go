package pgstore

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

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
	// ''), for store.ClaimLimits; and the readiness probe's scratch rows.
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

	// 4: e-receipts under their secret ids, one per device and key, and
	// the receipts each device and merchant stored, by the hour, for
	// store.ReceiptLimits.
	`CREATE TABLE receipts (
		id         text        PRIMARY KEY,
		merchant   text        NOT NULL,
		udid       text        NOT NULL,
		rkey       text        NOT NULL,
		data       bytea       NOT NULL,
		created_at timestamptz NOT NULL DEFAULT now(),
		UNIQUE (merchant, udid, rkey)
	);
	CREATE INDEX receipts_created_at ON receipts (created_at);
	CREATE TABLE receipt_quota (
		merchant text    NOT NULL,
		udid     text    NOT NULL,
		hour     bigint  NOT NULL,
		claims   integer NOT NULL,
		PRIMARY KEY (merchant, udid, hour)
	);`,
}

// Store keeps everything in PostgreSQL, shared by every relay instance.
// Appends are group-committed like SQLite's, each transaction holding an
// advisory lock until its commit so that ids become visible in order
// across instances: an instance that reads the table by id (on LISTEN, on
func (s *Store) migrate(ctx context.Context) error {
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
