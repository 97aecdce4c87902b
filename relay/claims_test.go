package relay

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"qrkiosk/relay/pgtest"
)

// forEachStoreWith runs f against both stores, opened with cfg's Claims.
func forEachStoreWith(t *testing.T, claims ClaimLimits, f func(t *testing.T, st Store, dir string)) {
	t.Run("sqlite", func(t *testing.T) {
		dir := t.TempDir()
		f(t, mustOpen(t, StoreConfig{DataDir: dir, Claims: claims}), dir)
	})
	t.Run("postgres", func(t *testing.T) {
		f(t, mustOpen(t, StoreConfig{Database: pgtest.NewDatabase(t), Claims: claims}), "")
	})
}

// One token cannot make the relay store claims without end: a device's
// new claims, and a merchant's, are bounded per TTL; a refused claim is
// not stored, and following an order it already owns costs nothing.
func TestClaimsAreBounded(t *testing.T) {
	forEachStoreWith(t, ClaimLimits{TTL: 24 * time.Hour, PerDevice: 3, PerMerchant: 5}, func(t *testing.T, st Store, _ string) {
		ctx := context.Background()
		claim := func(merchant, otn, udid string) (string, error) {
			t.Helper()
			return st.Claim(ctx, merchant, otn, udid)
		}
		for i := range 3 {
			if o, err := claim("shop-a", fmt.Sprint("O-A", i), "K-A"); err != nil || o != "K-A" {
				t.Fatalf("claim %d: %q %v", i, o, err)
			}
		}
		if o, err := claim("shop-a", "O-A3", "K-A"); !errors.Is(err, ErrDeviceClaimLimit) {
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
		if o, err := claim("shop-a", "O-C0", "K-C"); !errors.Is(err, ErrMerchantClaimLimit) {
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
	forEachStoreWith(t, ClaimLimits{TTL: time.Nanosecond}, func(t *testing.T, st Store, dir string) {
		ctx := context.Background()
		for _, otn := range []string{"O-PAID", "O-UNPAID"} {
			if o, err := st.Claim(ctx, "shop-a", otn, "K-A"); err != nil || o != "K-A" {
				t.Fatalf("claim %s: %q %v", otn, o, err)
			}
		}
		mustAppend(t, st, rec("shop-a", "S-PAID", "payment", "O-PAID", "", time.Now()))
		if dir != "" {
			if fi, err := os.Stat(filepath.Join(dir, JournalFile+"-wal")); err != nil || fi.Size() == 0 {
				t.Fatalf("WAL before pruning: %v %v", fi, err)
			}
		}
		if _, _, err := st.Prune(ctx, time.Time{}, time.Nanosecond); err != nil {
			t.Fatal(err)
		}
		if o, _ := st.Claim(ctx, "shop-a", "O-UNPAID", "K-B"); o != "K-B" {
			t.Errorf("the unpaid order's claim outlived its TTL: owner %q", o)
		}
		if o, _ := st.Claim(ctx, "shop-a", "O-PAID", "K-B"); o != "K-A" {
			t.Errorf("the paid order's claim went with the unpaid ones: owner %q", o)
		}
		if n, _ := st.Count(ctx); n != 1 {
			t.Errorf("a zero cut-off pruned notifications: %d left", n)
		}
		if dir != "" {
			if _, _, err := st.Prune(ctx, time.Time{}, time.Nanosecond); err != nil {
				t.Fatal(err)
			}
			if fi, err := os.Stat(filepath.Join(dir, JournalFile+"-wal")); err != nil || fi.Size() != 0 {
				t.Errorf("WAL after pruning: %d bytes (%v), want truncated", fi.Size(), err)
			}
		}
	})
}

// Between pruning passes the WAL is truncated once it passes a size.
func TestSQLiteWALIsCheckpointedWhenLarge(t *testing.T) {
	every, above := walCheckpointEvery, walCheckpointAbove
	t.Cleanup(func() { walCheckpointEvery, walCheckpointAbove = every, above })
	walCheckpointEvery, walCheckpointAbove = 20*time.Millisecond, 64<<10
	dir := t.TempDir()
	st := mustOpen(t, StoreConfig{DataDir: dir})
	for i := range 200 {
		mustAppend(t, st, rec("m", fmt.Sprint("S-", i), "payment", fmt.Sprint("O-", i), "", time.Now()))
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
