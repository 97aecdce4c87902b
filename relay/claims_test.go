package relay

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"qrkiosk/relay/pgtest"
	"qrkiosk/relay/wire"
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

func subsRefused(t *testing.T, s *Server, reason string) float64 {
	t.Helper()
	var m dto.Metric
	if err := s.m.subsRefused.WithLabelValues(reason).Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

// Every refusal of a subscription to an out_trade_no reads the same,
// whatever the reason, so that no answer tells whether an order exists
// at this or another merchant; the reason is in the log and the metric.
func TestSubscriptionRefusalsRevealNothing(t *testing.T) {
	tr, logs := twoMerchants(t, func(c *Config) {
		c.MaxSubscriptions = 3
		c.Claims = ClaimLimits{PerDevice: 3}
	})
	secretA, _ := issue(t, tr, DefaultMerchant, "KIOSK-A")
	secretB, _ := issue(t, tr, DefaultMerchant, "KIOSK-B")
	postTo(t, tr, "/notify/qfpay/shop-b", notifBody("payment", "S-X", "O-SHOP-B", ""), keyB)
	postTo(t, tr, "/notify/qfpay", notifBody("payment", "S-N", "O-NAMED-B", "KIOSK-B"), testKey)
	b := mustDial(t, tr, secretB, "KIOSK-B")
	b.subscribe("O-CLAIMED-B", "")

	a := mustDial(t, tr, secretA, "KIOSK-A")
	cases := []struct{ otn, reason string }{
		{"O-CLAIMED-B", reasonForeignOrder}, // a same-merchant kiosk claimed it first
		{"O-NAMED-B", reasonForeignOrder},   // a notification names another device
		{"O-SHOP-B", reasonForeignOrder},    // another merchant's order (A's claim 1 of 3, in its own merchant)
		{"O-NOWHERE", ""},                   // nobody's: A claims it (2 of 3)
		{"O-NOWHERE-2", ""},                 // 3 of 3
		{"O-OVER", reasonDeviceClaimLimit},  // past the device's claims
	}
	for _, c := range cases {
		if c.reason == "" {
			a.subscribe(c.otn, "")
			continue
		}
		if m := a.sendExpectError(t, c.otn, ""); m.Error != subscriptionRefused || m.OutTradeNo != c.otn {
			t.Errorf("%s (%s): %+v, want %q", c.otn, c.reason, m, subscriptionRefused)
		}
		logs.waitLog(t, "subscription refused", "reason="+c.reason, "out_trade_no="+c.otn)
	}
	a.subscribe("", "KIOSK-A") // 3 of 3 subscriptions
	if m := a.sendExpectError(t, "O-NOWHERE-3", ""); m.Error != subscriptionRefused {
		t.Errorf("past the subscriptions: %+v", m)
	}
	if subsRefused(t, tr.s, reasonForeignOrder) != 3 || subsRefused(t, tr.s, reasonDeviceClaimLimit) != 1 ||
		subsRefused(t, tr.s, reasonTooManySubs) != 1 {
		t.Error("the metric does not count each reason")
	}
	// A udid subscription's refusal concerns the token's own device: it
	// says why.
	if m := a.sendExpectError(t, "", "KIOSK-B"); m.Error == subscriptionRefused || m.UDID != "KIOSK-B" {
		t.Errorf("another device's udid: %+v", m)
	}
}

// A kiosk token flooding subscriptions to made-up orders is stopped at
// its claim limit: the claims stored stay bounded, and its own orders
// still work.
func TestClaimFloodIsRefused(t *testing.T) {
	tr, _ := twoMerchants(t, func(c *Config) { c.Claims = ClaimLimits{PerDevice: 5} })
	secret, _ := issue(t, tr, DefaultMerchant, "KIOSK-A")
	k := mustDial(t, tr, secret, "KIOSK-A")
	refused := 0
	for i := range 50 {
		otn := fmt.Sprint("O-FLOOD-", i)
		k.send(wire.TypeSubscribe, otn, "")
		m, err := k.next(5 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if m.Type == wire.TypeError {
			refused++
		}
		k.send(wire.TypeUnsubscribe, otn, "")
	}
	if refused != 45 || subsRefused(t, tr.s, reasonDeviceClaimLimit) != 45 {
		t.Fatalf("%d of 50 refused (metric %v), want 45", refused, subsRefused(t, tr.s, reasonDeviceClaimLimit))
	}
	if o, _ := tr.s.st.Claim(context.Background(), DefaultMerchant, "O-FLOOD-5", "KIOSK-Z"); o != "KIOSK-Z" {
		t.Fatalf("a refused subscription's claim was stored (owner %s)", o)
	}
	if r := k.subscribe("O-FLOOD-0", ""); len(r) != 0 {
		t.Fatalf("own order again: %+v", r)
	}
}
