package payment_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"qrkiosk/payment"
	"qrkiosk/payment/paymenttest"
	"qrkiosk/payment/qfpay"
)

// startCPM starts a customer-presented payment of HK$12.34 on the
// all-in-one pay type.
func startCPM(t *testing.T, gw *paymenttest.Gateway) *harness {
	t.Helper()
	h := &harness{t: t, clock: paymenttest.NewClock(t0), gw: gw, seen: make(chan payment.Event, 100), suspicious: make(chan struct{}, 100)}
	pt, _ := payment.LookupCPMPayType("")
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	t.Cleanup(func() { cancel(); <-h.order.Closed() })
	h.order = payment.StartOrder(ctx, payment.MachineConfig{Gateway: gw, Clock: h.clock, SettleRetry: 5 * time.Second},
		payment.CreateRequest{OutTradeNo: "OTN1", Amount: hkd(t, "12.34"), PayType: pt, AuthCode: "287654321098765432", TxTime: t0},
		func(e payment.Event) {
			h.mu.Lock()
			h.events = append(h.events, e)
			h.mu.Unlock()
			h.seen <- e
		})
	return h
}

// The customer confirms on the phone (1145), then pays: the kiosk asks
// every 2.5 s and ends Paid; the code was charged once.
func TestCPMConfirmedOnThePhone(t *testing.T) {
	gw := paymenttest.NewGateway()
	h := startCPM(t, gw)
	e := h.until("created")
	if e.SysSN == "" || e.QRCode != "" || e.Deadline != t0.Add(payment.CPMConfirmWindow) {
		t.Fatalf("created %+v: a scanned code has a syssn, no QR, and 2 minutes to be confirmed", e.Snapshot)
	}
	if e := h.until("confirming"); !e.Confirming {
		t.Fatalf("confirming %+v", e.Snapshot)
	}
	h.waitTimers(2)
	if next, _ := h.clock.NextTimer(); next != 2500*time.Millisecond {
		t.Fatalf("next query in %v, want 2.5 s", next)
	}
	h.tick(2500 * time.Millisecond)
	waitCount(t, gw, "query", 1)
	gw.Pay("OTN1")
	h.tick(2500 * time.Millisecond)
	h.final(payment.StatePaid)
	if gw.Count("cpm") != 1 {
		t.Fatalf("calls %v: a scanned code is charged once", gw.Calls())
	}
}

// Still unconfirmed after 2 minutes: withdrawn, and Failed with a reason
// that tells the cashier to charge again.
func TestCPMNotConfirmedWithinTwoMinutes(t *testing.T) {
	gw := paymenttest.NewGateway()
	h := startCPM(t, gw)
	h.until("confirming")
	for i := 0; i < 48; i++ {
		h.tick(2500 * time.Millisecond)
	}
	s := h.final(payment.StateFailed)
	if !strings.Contains(s.Reason, "did not confirm") || !strings.Contains(s.Reason, "charge again") {
		t.Fatalf("reason %q", s.Reason)
	}
	// The screens tell the customer it was not confirmed, and that it was
	// taken back (nothing more to do on the phone).
	if !s.NotConfirmed || !s.Withdrawn {
		t.Fatalf("snapshot %+v: NotConfirmed and Withdrawn", s)
	}
	if rec := gw.Record("OTN1"); rec.Outcome() != payment.OutcomeClosed || gw.Count("cancel") != 1 || gw.Count("cpm") != 1 {
		t.Fatalf("gateway %v after %v: the unconfirmed payment must be withdrawn, the code never charged again", rec.Outcome(), gw.Calls())
	}
}

// A push proved the scanned payment paid while the charge call was out;
// an error answer after it does not make the sale Failed (the cashier
// would charge the customer again).
func TestCPMPushPaidBeatsAnErrorAnswer(t *testing.T) {
	gw := paymenttest.NewGateway()
	gw.CPMCode = qfpay.CodeSuccess
	gw.CommitThenFail = &payment.Error{Op: "cpm", Code: qfpay.CodeBankBusy}
	started := make(chan *payment.Order, 1)
	gw.BeforeCreateAnswer = func() { (<-started).Notify(paidNote(gw)) }
	h := startCPM(t, gw)
	started <- h.order
	if s := h.final(payment.StatePaid); s.SysSN == "" || gw.Count("cpm") != 1 {
		t.Fatalf("paid %+v after %v", s, gw.Calls())
	}
}

// The answer to the scan is lost: the payment is settled by query, and the
// code is never sent again.
func TestCPMLostAnswerSettledByQuery(t *testing.T) {
	gw := paymenttest.NewGateway()
	gw.CommitThenFail = fmt.Errorf("charge: %w (connection reset)", payment.ErrOutcomeUnknown)
	h := startCPM(t, gw)
	h.until("checking")
	e := h.until("created")
	if e.SysSN == "" {
		t.Fatalf("found %+v", e.Snapshot)
	}
	gw.Pay("OTN1")
	h.tick(2500 * time.Millisecond)
	h.final(payment.StatePaid)
	if gw.Count("cpm") != 1 {
		t.Fatalf("calls %v: the code must never be charged twice", gw.Calls())
	}
}

// A wrong or expired code fails at once, telling the cashier what to ask.
func TestCPMBadCode(t *testing.T) {
	gw := paymenttest.NewGateway()
	gw.CPMCode = qfpay.CodeBadPaymentCode
	h := startCPM(t, gw)
	s := h.final(payment.StateFailed)
	if s.Code != qfpay.CodeBadPaymentCode || !strings.Contains(s.Reason, "refresh the code") || s.NotConfirmed || gw.Count("query") != 0 {
		t.Fatalf("failed %+v after %v", s, gw.Calls())
	}
}

// Paid at once (0000): created with its syssn, then Paid; no query.
func TestCPMPaidAtOnce(t *testing.T) {
	gw := paymenttest.NewGateway()
	gw.CPMCode = qfpay.CodeSuccess
	h := startCPM(t, gw)
	s := h.final(payment.StatePaid)
	if k := h.kinds(); len(k) != 3 || k[1] != "created" || s.SysSN == "" || gw.Count("query") != 0 {
		t.Fatalf("events %v snapshot %+v calls %v", k, s, gw.Calls())
	}
}

// A restart during the customer's confirmation resumes the payment without
// charging the code again; past the 2 minutes it is withdrawn and fails.
func TestCPMResumedAfterACrash(t *testing.T) {
	pt, _ := payment.LookupCPMPayType("alipay")
	for _, c := range []struct {
		name  string
		after time.Duration
		pay   bool
		want  payment.State
	}{
		{"confirmed while down", 30 * time.Second, true, payment.StatePaid},
		{"still confirming", 30 * time.Second, false, payment.StateAwaitingPayment},
		{"past the 2 minutes", 3 * time.Minute, false, payment.StateFailed},
	} {
		t.Run(c.name, func(t *testing.T) {
			gw := paymenttest.NewGateway()
			req := payment.CreateRequest{OutTradeNo: "OTN1", Amount: hkd(t, "12.34"), PayType: pt, AuthCode: "287654321098765432", TxTime: t0}
			gw.ChargeCPM(context.Background(), req)
			if c.pay {
				gw.Pay("OTN1")
			}
			clock := paymenttest.NewClock(t0.Add(c.after))
			ctx, cancel := context.WithCancel(context.Background())
			req.AuthCode = "" // never stored: a restart has no code to send
			o := payment.StartOrder(ctx, payment.MachineConfig{Gateway: gw, Clock: clock, Resume: true}, req)
			defer func() { cancel(); <-o.Closed() }()
			paymenttest.Eventually(t, "the resumed payment to settle", 5*time.Second, func() bool { return o.Snapshot().State == c.want })
			if gw.Count("cpm") != 1 {
				t.Fatalf("calls %v: a resumed payment is never charged again", gw.Calls())
			}
			if c.want == payment.StateFailed && gw.Count("cancel") != 1 {
				t.Fatalf("calls %v: an unconfirmed payment past its 2 minutes is withdrawn", gw.Calls())
			}
		})
	}
}
