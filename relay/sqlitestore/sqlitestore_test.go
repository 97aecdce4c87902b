package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"qrkiosk/relay/internal/storetest"
	"qrkiosk/relay/store"
)

// defaultMerchant is relay.DefaultMerchant: migration 2 gives it the
// notifications of a journal from before there were several merchants.
const defaultMerchant = "default"

func mustOpen(t *testing.T, dir string, opts Options) *Store {
	t.Helper()
	st, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// A journal written before schema versioning keeps its notifications
// (they become the one-shop merchant's), is private, and is locked.
func TestSQLiteMigratesOldJournalLocksAndIsPrivate(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, JournalFile)
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	body := storetest.NotifBody("payment", "S-OLD", "O-OLD", "K-OLD")
	if _, err := db.Exec(sqliteMigrations[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO notifications (syssn, notify_type, out_trade_no, udid, body, sign, sign_type, received_at)
		VALUES ('S-OLD', 'payment', 'O-OLD', 'K-OLD', ?, ?, 'MD5', ?)`, body, storetest.MD5Sign(body, storetest.Key), time.Now().UnixNano()); err != nil {
		t.Fatal(err)
	}
	db.Close()
	os.Chmod(path, 0o644)

	st := mustOpen(t, dir, Options{Lock: true})
	got, err := st.Replay(context.Background(), store.ReplayQuery{Scope: store.Scope{Merchant: defaultMerchant}, OutTradeNo: "O-OLD"}, 0, 10)
	if err != nil || len(got) != 1 || got[0].Gateway != "qfpay" || string(got[0].Body) != string(body) {
		t.Fatalf("old notification after migration: %+v %v", got, err)
	}
	if storetest.MustAppend(t, st, storetest.Record(defaultMerchant, "S-OLD", "payment", "O-OLD", "K-OLD", time.Now())) {
		t.Fatal("the old notification's duplicate was inserted")
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("journal mode %v, want 0600", fi.Mode().Perm())
	}
	_, err = Open(dir, Options{Lock: true})
	if err == nil || !strings.Contains(err.Error(), "in use by another qrkiosk-relay") {
		t.Fatalf("second relay on the same directory: %v", err)
	}
	// The token commands open it beside the relay.
	side := mustOpen(t, dir, Options{})
	if n, err := side.Count(context.Background()); err != nil || n != 1 {
		t.Fatalf("side open: %d %v", n, err)
	}

	fresh := t.TempDir()
	mustOpen(t, fresh, Options{})
	if fi, err := os.Stat(filepath.Join(fresh, JournalFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("new journal: %v %v, want mode 0600", fi, err)
	}
}

// Between pruning passes the WAL is truncated once it passes a size.
func TestSQLiteWALIsCheckpointedWhenLarge(t *testing.T) {
	every, above := walCheckpointEvery, walCheckpointAbove
	t.Cleanup(func() { walCheckpointEvery, walCheckpointAbove = every, above })
	walCheckpointEvery, walCheckpointAbove = 20*time.Millisecond, 64<<10
	dir := t.TempDir()
	st := mustOpen(t, dir, Options{})
	for i := range 200 {
		storetest.MustAppend(t, st, storetest.Record("m", fmt.Sprint("S-", i), "payment", fmt.Sprint("O-", i), "", time.Now()))
	}
	wal := filepath.Join(dir, JournalFile+"-wal")
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		fi, err := os.Stat(wal)
		if err == nil && fi.Size() <= walCheckpointAbove {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("WAL still %d bytes (%v), want at most %d", fi.Size(), err, walCheckpointAbove)
		}
	}
}
