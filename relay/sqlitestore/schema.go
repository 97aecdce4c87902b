package sqlitestore

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
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
	// ''), for store.ClaimLimits; and the readiness probe's scratch row.
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

	// 5: e-receipts under their secret ids, one per device and key, and
	// the receipts each device and merchant stored, by the hour, for
	// store.ReceiptLimits.
	`CREATE TABLE receipts (
		id         TEXT    PRIMARY KEY,
		merchant   TEXT    NOT NULL,
		udid       TEXT    NOT NULL,
		rkey       TEXT    NOT NULL,
		data       BLOB    NOT NULL,
		created_at INTEGER NOT NULL,
		UNIQUE (merchant, udid, rkey)
	);
	CREATE INDEX receipts_created_at ON receipts (created_at);
	CREATE TABLE receipt_quota (
		merchant TEXT    NOT NULL,
		udid     TEXT    NOT NULL,
		hour     INTEGER NOT NULL,
		claims   INTEGER NOT NULL,
		PRIMARY KEY (merchant, udid, hour)
	);`,
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

func (s *Store) migrate() error {
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
