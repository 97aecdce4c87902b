package terminal

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"qrkiosk/internal/ecr"
	"qrkiosk/internal/ecr/posclient"
	"qrkiosk/internal/kiosk"
	"qrkiosk/payment"
)

// paidSale is a POS sale of amount, paid; it returns the answer's data.
func (r *rig) paidSale(amount float64) map[string]string {
	r.t.Helper()
	answer := r.sendAsync("trade", trade(amount, "alipay", tradeNo))
	s := r.live()
	if err := r.k.Demo.Pay(s.Order.Snapshot()); err != nil {
		r.t.Fatal(err)
	}
	a := r.answer(answer)
	if !a.OK() {
		r.t.Fatalf("trade %+v", a)
	}
	return data(r.t, a)
}

// manager decides the next refund the POS asks for, as the cashier pane
// would after the manager PIN; it returns the ask.
func (r *rig) manager(approve bool) <-chan kiosk.RefundAsk {
	asks := make(chan kiosk.RefundAsk, 1)
	var stop func()
	stop = r.k.Till.Observe(func(ev kiosk.TillEvent) {
		if ev.Kind != kiosk.TillRefundAsked {
			return
		}
		go func() {
			stop()
			r.k.Till.DecideRefund(ev.Refund.ID, approve, "declined at the kiosk")
			asks <- ev.Refund
		}()
	})
	return asks
}

// Odoo's refund (1002: the payment's syssn, the amount as toFixed(2))
// moves money only once the manager approves it at the kiosk; it is then
// answered 6000 with the refund's data, and the webhook gets a refund
// notice Odoo matches to the refunded payment line (orig_out_trade_no,
// notify_type "cancel"). The same request replayed shows on the pane
// again: declined, nothing more is refunded.
func TestRefundNeedsTheManager(t *testing.T) {
	r := newRig(t, rigOpt{})
	paid := r.paidSale(12.34)

	asks := r.manager(true)
	a := r.send("cancel", posclient.Refund(paid["syssn"], "2.00"))
	ask := <-asks
	if ask.Amount.Minor != 200 || ask.SysSN != paid["syssn"] || ask.POSRef != tradeNo {
		t.Fatalf("the pane was asked %+v", ask)
	}
	if !a.OK() {
		t.Fatalf("refund %+v: %s", a, a.Message())
	}
	d := data(t, a)
	if d["respcd"] != "0000" || d["orig_syssn"] != paid["syssn"] || d["txamt"] != "200" || d["originTxamt"] != "1234" || d["syssn"] == "" {
		t.Fatalf("data %v", d)
	}
	n := r.notices(2)[1]
	if !n.Paid() || !n.Refund() || n.TradeNo != tradeNo || n.SysSN != d["syssn"] || n.Fields["orig_syssn"] != paid["syssn"] || n.Fields["txamt"] != "200" {
		t.Fatalf("refund notice %+v", n)
	}

	// Replayed: the pane asks again, the cashier declines, nothing moves.
	asks = r.manager(false)
	replay := r.send("cancel", posclient.Refund(paid["syssn"], "2.00"))
	<-asks
	if replay.OK() || !strings.Contains(replay.Resperr, "declined at the kiosk; nothing was refunded") {
		t.Fatalf("a replayed refund was accepted: %+v", replay)
	}
	refunds, err := r.k.Journal.Refunds(context.Background(), tradeNo)
	if err != nil || len(refunds) != 1 {
		t.Fatalf("refunds %+v, %v", refunds, err)
	}
	// The rest, approved; after it the journal refuses any more before
	// the pane is even asked.
	r.manager(true)
	if rest := r.send("cancel", posclient.Refund(paid["syssn"], "")); !rest.OK() || data(t, rest)["txamt"] != "1034" {
		t.Fatalf("the rest: %+v", rest)
	}
	asks = r.manager(true)
	if again := r.send("cancel", posclient.Refund(paid["syssn"], "12.34")); again.OK() || !strings.Contains(again.Resperr, "already fully refunded") {
		t.Fatalf("refund of a refunded payment: %+v", again)
	}
	select {
	case <-asks:
		t.Fatal("the pane was asked for a refund the journal refuses")
	default:
	}
	r.notices(3)
}

// Nobody at the counter: the refund is refused once RefundWait passes,
// and nothing is refunded.
func TestRefundNobodyAtTheCounter(t *testing.T) {
	r := newRig(t, rigOpt{opts: Options{RefundWait: 300 * time.Millisecond}})
	paid := r.paidSale(12.34)
	a := r.send("cancel", posclient.Refund(paid["syssn"], "5.00"))
	if a.Respcd != "6002" || !strings.Contains(a.Resperr, "nobody entered the manager PIN within 300ms; nothing was refunded") {
		t.Fatalf("answer %+v", a)
	}
	if refunds, _ := r.k.Journal.Refunds(context.Background(), tradeNo); len(refunds) != 0 {
		t.Fatalf("refunds %+v", refunds)
	}
	// The till is free again.
	if _, err := r.k.Till.AskForCode(kiosk.Wait{Amount: payment.Amount{Minor: 100, Currency: r.k.Config.Currency}}); err != nil {
		t.Fatal(err)
	}
}

// A partial refund, then a refund of an unknown payment, and one over what
// remains: each answered with its reason.
func TestRefundChecks(t *testing.T) {
	r := newRig(t, rigOpt{})
	paid := r.paidSale(12.34)
	r.manager(true)
	if a := r.send("cancel", posclient.Refund(paid["syssn"], "2.34")); !a.OK() || data(t, a)["txamt"] != "234" {
		t.Fatalf("partial %+v", a)
	}
	if a := r.send("cancel", posclient.Refund("20250826155400087645770447", "1.00")); a.Respcd != "6002" || !strings.Contains(a.Resperr, "no payment 20250826155400087645770447 on this kiosk") {
		t.Fatalf("unknown %+v", a)
	}
	if a := r.send("cancel", posclient.Refund(paid["syssn"], "10.01")); a.Respcd != "6002" || !strings.Contains(a.Resperr, "has 10.00 left to refund") {
		t.Fatalf("too much %+v", a)
	}
}

// The manager approves just as the POS drops its request: nothing is
// refunded (the POS would not know of it) and the till is free again. It
// stayed busy with "a refund waits for the manager PIN" until a restart.
func TestRefundApprovedAsThePOSLeaves(t *testing.T) {
	r := newRig(t, rigOpt{})
	paid := r.paidSale(12.34)
	for i := range 20 {
		ctx, cancel := context.WithCancel(context.Background())
		stop := r.k.Till.Observe(func(ev kiosk.TillEvent) {
			if ev.Kind == kiosk.TillRefundAsked {
				r.k.Till.DecideRefund(ev.Refund.ID, true, "")
				cancel() // Odoo's fetch is dropped at the same moment
			}
		})
		req := httptest.NewRequest("POST", "/api/pos/cancel", nil).WithContext(ctx)
		r.term.refund(httptest.NewRecorder(), req, &ecr.Refund{OrderID: paid["syssn"], Amount: &payment.Amount{Minor: 100, Currency: payment.Currency{Code: "HKD", Exponent: 2}}})
		stop()
		cancel()
		if _, err := r.k.Till.Start(payment.CreateRequest{}, "", false); errors.Is(err, kiosk.ErrBusy) {
			t.Fatalf("try %d: the till refuses every sale: %v", i, err)
		}
	}
	if rfs, err := r.k.Journal.Refunds(context.Background(), paid["out_trade_no"]); err != nil || len(rfs) != 0 {
		t.Fatalf("refunds recorded: %v %v", rfs, err)
	}
}
