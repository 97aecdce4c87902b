package store_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"qrkiosk/relay/internal/storetest"
	"qrkiosk/relay/pgtest"
	"qrkiosk/relay/sqlitestore"
	"qrkiosk/relay/store"
)

// forEachStoreDir runs f against both stores; dir is SQLite's directory,
// "" for PostgreSQL.
func forEachStoreDir(t *testing.T, f func(t *testing.T, st store.Store, dir string)) {
	t.Run("sqlite", func(t *testing.T) {
		dir := t.TempDir()
		f(t, openSQLite(t, dir), dir)
	})
	t.Run("postgres", func(t *testing.T) {
		f(t, openPG(t, pgtest.NewDatabase(t)), "")
	})
}

// One token cannot make the relay store claims without end: a device's
// new claims, and a merchant's, are bounded per TTL; a refused claim is
// not stored, and following an order it already owns costs nothing.
func TestClaimsAreBounded(t *testing.T) {
	limits := store.ClaimLimits{TTL: 24 * time.Hour, PerDevice: 3, PerMerchant: 5}
	forEachStoreDir(t, func(t *testing.T, st store.Store, _ string) {
		ctx := context.Background()
		claim := func(merchant, otn, udid string) (string, error) {
			t.Helper()
			return st.Claim(ctx, merchant, otn, udid, limits)
		}
		for i := range 3 {
			if o, err := claim("shop-a", fmt.Sprint("O-A", i), "K-A"); err != nil || o != "K-A" {
				t.Fatalf("claim %d: %q %v", i, o, err)
			}
		}
		if o, err := claim("shop-a", "O-A3", "K-A"); !errors.Is(err, store.ErrDeviceClaimLimit) {
			t.Fatalf("4th claim of a device with PerDevice 3: %q %v", o, err)
		}
		if o, err := claim("shop-a", "O-A0", "K-A"); err != nil || o != "K-A" {
			t.Fatalf("its own order again, past the limit: %q %v", o, err)
		}
		if o, err := claim("shop-a", "O-A3", "K-B"); err != nil || o != "K-B" {
			t.Fatalf("the refused claim was stored: another device got %q %v", o, err)
		}
		if _, err := claim("shop-a", "O-B1", "K-B"); err != nil {
			t.Fatal(err)
		}
		if o, err := claim("shop-a", "O-C0", "K-C"); !errors.Is(err, store.ErrMerchantClaimLimit) {
			t.Fatalf("6th claim of a merchant with PerMerchant 5: %q %v", o, err)
		}
		if o, err := claim("shop-b", "O-C0", "K-C"); err != nil || o != "K-C" {
			t.Fatalf("another merchant is not bounded by shop-a's claims: %q %v", o, err)
		}
	})
}

// A claim of an order that was never paid does not live as long as the
// notifications: it goes after the TTL, while a paid order's stays; and
// pruning leaves the SQLite WAL truncated, not at its high-water mark.
func TestUnpaidClaimsExpireAndTheWALShrinks(t *testing.T) {
	limits := store.ClaimLimits{TTL: time.Nanosecond}
	forEachStoreDir(t, func(t *testing.T, st store.Store, dir string) {
		ctx := context.Background()
		for _, otn := range []string{"O-PAID", "O-UNPAID"} {
			if o, err := st.Claim(ctx, "shop-a", otn, "K-A", limits); err != nil || o != "K-A" {
				t.Fatalf("claim %s: %q %v", otn, o, err)
			}
		}
		storetest.MustAppend(t, st, storetest.Record("shop-a", "S-PAID", "payment", "O-PAID", "", time.Now()))
		if dir != "" {
			if fi, err := os.Stat(filepath.Join(dir, sqlitestore.JournalFile+"-wal")); err != nil || fi.Size() == 0 {
				t.Fatalf("WAL before pruning: %v %v", fi, err)
			}
		}
		if _, _, err := st.Prune(ctx, time.Time{}, limits.TTL, time.Nanosecond); err != nil {
			t.Fatal(err)
		}
		if o, _ := st.Claim(ctx, "shop-a", "O-UNPAID", "K-B", limits); o != "K-B" {
			t.Errorf("the unpaid order's claim outlived its TTL: owner %q", o)
		}
		if o, _ := st.Claim(ctx, "shop-a", "O-PAID", "K-B", limits); o != "K-A" {
			t.Errorf("the paid order's claim went with the unpaid ones: owner %q", o)
		}
		if n, _ := st.Count(ctx); n != 1 {
			t.Errorf("a zero cut-off pruned notifications: %d left", n)
		}
		if dir != "" {
			if _, _, err := st.Prune(ctx, time.Time{}, limits.TTL, time.Nanosecond); err != nil {
				t.Fatal(err)
			}
			if fi, err := os.Stat(filepath.Join(dir, sqlitestore.JournalFile+"-wal")); err != nil || fi.Size() != 0 {
				t.Errorf("WAL after pruning: %d bytes (%v), want truncated", fi.Size(), err)
			}
		}
	})
}
