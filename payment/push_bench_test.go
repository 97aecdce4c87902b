package payment_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"qrkiosk/payment"
	"qrkiosk/payment/qfpay"
	"qrkiosk/sim/qfpaysim"
)

// BenchmarkPushToPaid is the time from a verified push saying "paid" to the
// order's Paid, against qfpay-sim on loopback through the real QFPay client
// (signed request, signed answer): what the push path costs a customer who
// has just paid. Creating each order and paying it at the simulator are
// outside the timing. Run it with a fixed -benchtime (e.g. 300x): the
// untimed part is far longer than the timed one.
func BenchmarkPushToPaid(b *testing.B) {
	const app, key = "BENCHAPPCODE00000000000000000001", "BENCHKEY000000000000000000000001"
	sim := qfpaysim.New(qfpaysim.Config{AppCode: app, Key: key})
	srv := httptest.NewServer(sim)
	sim.SetBaseURL(srv.URL)
	defer func() { srv.Close(); sim.Close() }()
	gw, err := qfpay.NewClient(app, key, qfpay.WithBaseURL(srv.URL))
	if err != nil {
		b.Fatal(err)
	}
	pt, _ := payment.LookupPayType("alipayhk")
	cur, _ := payment.LookupCurrency("HKD")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b.StopTimer()
	for i := 0; i < b.N; i++ {
		created := make(chan payment.Snapshot, 1)
		now := time.Now()
		req := payment.CreateRequest{OutTradeNo: payment.NewOutTradeNo("QB", now), Amount: payment.Amount{Minor: 1234, Currency: cur},
			PayType: pt, Expiry: 5 * time.Minute, TxTime: now}
		o := payment.StartOrder(ctx, payment.MachineConfig{Gateway: gw, PushUp: true}, req, func(e payment.Event) {
			if e.Kind == payment.EventCreated {
				created <- e.Snapshot
			}
		})
		s := <-created
		if err := sim.Pay(s.SysSN); err != nil {
			b.Fatal(err)
		}
		note := payment.Transaction{Kind: payment.TxnPayment, SysSN: s.SysSN, OutTradeNo: s.OutTradeNo, PayType: pt.Code,
			TxAmt: 1234, Currency: "HKD", Code: qfpay.CodeSuccess, Status: payment.OutcomePaid}
		b.StartTimer()
		o.Notify(note)
		<-o.Done()
		b.StopTimer()
		if st := o.Snapshot().State; st != payment.StatePaid {
			b.Fatalf("order ended %s", st)
		}
		<-o.Closed()
	}
}
