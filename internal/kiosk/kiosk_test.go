package kiosk

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"qrkiosk/payment"
)

// env is a process environment with only the given variables, and a
// config file of its own (empty unless body says otherwise), so no
// setting of the machine running the test leaks in.
func env(t testing.TB, body string, vars ...string) func(string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	m := map[string]string{"QRKIOSK_CONFIG": p}
	for i := 0; i+1 < len(vars); i += 2 {
		m[vars[i]] = vars[i+1]
	}
	return func(k string) string { return m[k] }
}

// openDemo assembles a demo kiosk on loopback.
func openDemo(t *testing.T) *Kiosk {
	t.Helper()
	k, err := Open(Options{DataDir: t.TempDir(), Getenv: env(t, "expiry_minutes = 5\n"), DemoIfUnconfigured: true, DemoHost: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(k.Close)
	return k
}

// A kiosk takes thousands of sales between restarts: it keeps an order
// only while its machine runs (a Paid one stops at once), so neither the
// order nor its relay subscription lives on for the rest of the run.
func TestKioskForgetsFinishedOrders(t *testing.T) {
	k := openDemo(t)
	pt, _ := payment.LookupPayType("alipayhk")
	cur, _ := payment.LookupCurrency("HKD")
	for i := range 3 {
		amount, err := payment.ParseAmount("12.34", cur)
		if err != nil {
			t.Fatal(err)
		}
		created := make(chan payment.Snapshot, 1)
		o, err := k.Start(payment.CreateRequest{OutTradeNo: payment.NewOutTradeNo("QK", time.Now()), Amount: amount,
			PayType: pt, Expiry: 5 * time.Minute, TxTime: time.Now()}, func(e payment.Event) {
			if e.Kind == payment.EventCreated {
				created <- e.Snapshot
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		if n := k.Running(); n != 1 {
			t.Fatalf("sale %d: %d machines running, want 1", i, n)
		}
		select {
		case s := <-created:
			if err := k.Demo.Pay(s); err != nil {
				t.Fatal(err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("sale %d: no QR", i)
		}
		select {
		case <-o.Closed():
		case <-time.After(10 * time.Second):
			t.Fatalf("sale %d: state %s, machine still running", i, o.Snapshot().State)
		}
		if s := o.Snapshot(); s.State != payment.StatePaid {
			t.Fatalf("sale %d ended %s", i, s.State)
		}
		deadline := time.Now().Add(5 * time.Second)
		for k.Running() != 0 {
			if time.Now().After(deadline) {
				t.Fatalf("sale %d: kiosk still holds %d orders after their machines stopped", i, k.Running())
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}
