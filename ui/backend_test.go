package ui

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"qrkiosk/config"
	"qrkiosk/journal"
	"qrkiosk/payment"
)

// A kiosk takes thousands of sales between restarts: the backend keeps an
// order only while its machine runs (a Paid one stops at once), so neither
// the order nor its relay subscription lives on for the rest of the run.
func TestBackendForgetsFinishedOrders(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log := slog.New(slog.DiscardHandler)
	b, err := newDemoBackend(ctx, config.Config{Expiry: 5 * time.Minute}, log)
	if err != nil {
		t.Fatal(err)
	}
	defer b.close()
	j, err := journal.Open(journal.Options{Dir: t.TempDir(), UDID: "test-kiosk", Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	start := b.start(ctx, j)
	pt, _ := payment.LookupPayType("alipayhk")
	cur, _ := payment.LookupCurrency("HKD")
	for i := range 3 {
		amount, err := payment.ParseAmount("12.34", cur)
		if err != nil {
			t.Fatal(err)
		}
		created := make(chan payment.Snapshot, 1)
		o, err := start(payment.CreateRequest{OutTradeNo: payment.NewOutTradeNo("QK", time.Now()), Amount: amount,
			PayType: pt, Expiry: 5 * time.Minute, TxTime: time.Now()}, func(e payment.Event) {
			if e.Kind == "created" {
				created <- e.Snapshot
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		if n := b.running(); n != 1 {
			t.Fatalf("sale %d: %d machines running, want 1", i, n)
		}
		select {
		case s := <-created:
			if err := b.demo.Pay(s); err != nil {
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
		for b.running() != 0 {
			if time.Now().After(deadline) {
				t.Fatalf("sale %d: backend still holds %d orders after their machines stopped", i, b.running())
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}
