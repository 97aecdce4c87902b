package journal

import (
	"context"
	"testing"
	"time"

	"qrkiosk/payment"
)

// BenchmarkBeginAndTransition is the journal's cost on a sale's path: the
// order written before its create, then one transition, each a durable
// (fsynced) commit.
func BenchmarkBeginAndTransition(b *testing.B) {
	j, err := Open(Options{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	obs := j.Observer()
	ctx := context.Background()
	now := time.Now()
	for i := 0; b.Loop(); i++ {
		otn := payment.NewOutTradeNo("QK", now)
		if err := j.Begin(ctx, request(otn, int64(100+i), alipay, now)); err != nil {
			b.Fatal(err)
		}
		obs(payment.Event{Kind: "created", Snapshot: payment.Snapshot{OutTradeNo: otn, SysSN: "S", QRCode: "q", State: payment.StateAwaitingPayment}})
	}
}

// BenchmarkToday is the history view's read of a busy day (500 orders).
func BenchmarkToday(b *testing.B) {
	j, err := Open(Options{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	ctx := context.Background()
	now := time.Now()
	for i := range 500 {
		otn := payment.NewOutTradeNo("QK", now)
		if err := j.Begin(ctx, request(otn, int64(100+i), alipay, now)); err != nil {
			b.Fatal(err)
		}
		j.Observer()(payment.Event{Kind: "paid", Snapshot: payment.Snapshot{OutTradeNo: otn, SysSN: "S" + otn, State: payment.StatePaid}})
	}
	for b.Loop() {
		if d, err := j.Today(ctx); err != nil || len(d.Orders) != 500 {
			b.Fatal(len(d.Orders), err)
		}
	}
}
