package payment_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"qrkiosk/payment"
	"qrkiosk/payment/paymenttest"
	"qrkiosk/payment/qfpay"
)

// A push is signed with the merchant's key, and the relay holds that key
// too: a relay that is broken into (or a leaked merchants file) can sign a
// "paid" the gateway never said. These tests play such a push against a
// gateway that still holds the order unpaid.

// countKind counts the events of one kind so far.
func (h *harness) countKind(kind payment.EventKind) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, e := range h.events {
		if e.Kind == kind {
			n++
		}
	}
	return n
}

// nextPoll waits for the machine to arm its deadline and next poll and
// returns how far away the poll is.
func (h *harness) nextPoll() time.Duration {
	h.t.Helper()
	h.waitTimers(2)
	d, _ := h.clock.NextTimer()
	return d
}

// A push says paid, the gateway says pending: the order is not Paid, it is
// asked every 2 s (not the 15 s of a healthy push link), and it turns Paid,
// once, when the gateway says so.
func TestPushPaidIsNotBelievedWithoutTheGateway(t *testing.T) {
	gw := paymenttest.NewGateway()
	h := start(t, gw, true)
	h.until("created")
	h.order.Notify(paidNote(gw)) // the gateway still holds it pending
	if e := h.until("confirming_paid"); !e.ConfirmingPaid || e.State != payment.StateAwaitingPayment {
		t.Fatalf("confirming %+v", e.Snapshot)
	}
	if e := h.until("push_disputed"); e.ConfirmingPaid || e.State != payment.StateAwaitingPayment {
		t.Fatalf("after the gateway's answer %+v", e.Snapshot)
	}
	if n := gw.Count("query"); n != 1 {
		t.Fatalf("queries = %d, want one at once to confirm the push", n)
	}
	if next := h.nextPoll(); next != 2*time.Second {
		t.Fatalf("next poll in %v: the gateway must be asked every 2 s until it says paid", next)
	}
	if s := h.order.Snapshot(); s.State != payment.StateAwaitingPayment {
		t.Fatalf("a push the gateway does not confirm made the order %s", s.State)
	}
	h.order.Notify(paidNote(gw)) // replayed: no query of its own
	h.order.PushLink(false)      // handled after the push: a point to look from
	h.until("push_down")
	if next := h.nextPoll(); next != 2*time.Second || gw.Count("query") != 1 || h.order.Snapshot().State != payment.StateAwaitingPayment {
		t.Fatalf("after a replay: next poll %v, %d queries, %s", next, gw.Count("query"), h.order.Snapshot().State)
	}

	gw.Pay("OTN1")
	h.clock.Advance(2 * time.Second)
	h.final(payment.StatePaid)
	if !closedWithin(h.order, 5*time.Second) {
		t.Fatal("the paid order's machine still runs")
	}
	if n := h.countKind("paid") + h.countKind("paid_late"); n != 1 {
		t.Fatalf("paid events = %d (%v)", n, h.kinds())
	}
}

// The gateway cannot be reached while a push says paid: the order shows
// "confirming", never Paid, and is asked on the fast schedule until the
// gateway answers.
func TestPushPaidWaitsForAnUnreachableGateway(t *testing.T) {
	gw := paymenttest.NewGateway()
	h := start(t, gw, true)
	h.until("created")
	gw.Pay("OTN1")
	down := errors.New("connection refused")
	gw.QueryErr = []error{down, down, down, down}
	h.order.Notify(paidNote(gw))
	h.until("confirming_paid")
	waitCount(t, gw, "query", 1)
	for i := 2; i <= 4; i++ {
		if next := h.nextPoll(); next != 2*time.Second {
			t.Fatalf("poll %d in %v, want 2 s while the push is unconfirmed", i, next)
		}
		if s := h.order.Snapshot(); s.State != payment.StateAwaitingPayment || !s.ConfirmingPaid {
			t.Fatalf("gateway unreachable: %+v", s)
		}
		h.clock.Advance(2 * time.Second)
		waitCount(t, gw, "query", i)
	}
	h.until("gateway_unreachable")
	h.tick(2 * time.Second) // the gateway answers again: paid
	h.final(payment.StatePaid)
}

// A push saying the payment failed does not end the order either: the
// cashier would charge again while the customer may have paid. The gateway
// is asked at once.
func TestPushFailedIsNotBelievedWithoutTheGateway(t *testing.T) {
	gw := paymenttest.NewGateway()
	h := start(t, gw, true)
	h.until("created")
	note := gw.Record("OTN1")
	note.Code, note.Status = qfpay.CodeInsufficientBalance, payment.OutcomeFailed
	h.order.Notify(note)
	waitCount(t, gw, "query", 1)
	if next := h.nextPoll(); next != 2*time.Second {
		t.Fatalf("next poll in %v after a disputed push, want 2 s", next)
	}
	if s := h.order.Snapshot(); s.State != payment.StateAwaitingPayment {
		t.Fatalf("a push of failure the gateway does not confirm made the order %s", s.State)
	}
	gw.Pay("OTN1")
	h.clock.Advance(2 * time.Second)
	h.final(payment.StatePaid)

	// Where the gateway agrees, the order fails at once, with its reason.
	gw = paymenttest.NewGateway()
	h = start(t, gw, true)
	h.until("created")
	gw.Decline("OTN1", qfpay.CodeInsufficientBalance)
	h.order.Notify(gw.Record("OTN1"))
	if s := h.final(payment.StateFailed); s.Code != qfpay.CodeInsufficientBalance || gw.Count("query") != 1 {
		t.Fatalf("failed %+v after %v", s, gw.Calls())
	}
}

// A push that overtakes the create's answer but that the gateway does not
// confirm: the QR is shown and the order waits on.
func TestPushPaidBeforeTheCreateAnswerNeedsTheGateway(t *testing.T) {
	gw := paymenttest.NewGateway()
	started := make(chan *payment.Order, 1)
	gw.BeforeCreateAnswer = func() { (<-started).Notify(paidNote(gw)) } // not paid at the gateway
	h := start(t, gw, true)
	started <- h.order
	h.until("push_disputed")
	if s := h.order.Snapshot(); s.State != payment.StateAwaitingPayment || s.QRCode == "" {
		t.Fatalf("snapshot %+v: the QR stays on offer", s)
	}
	gw.Pay("OTN1")
	h.tick(2 * time.Second)
	h.final(payment.StatePaid)
}

// An order that ended unpaid but stays payable (a wallet without cancel):
// a late push saying paid is confirmed before the cashier is told "paid
// late".
func TestLatePushNeedsTheGateway(t *testing.T) {
	gw := paymenttest.NewGateway()
	gw.NoCancel = true
	h := startWallet(t, gw, true, "payme", nil)
	h.until("created")
	h.order.Cancel()
	h.final(payment.StateCancelled)
	queries := gw.Count("query")
	h.order.Notify(paidNote(gw)) // the gateway still holds it pending
	waitCount(t, gw, "query", queries+1)
	h.order.PushLink(false) // handled after the push: a point to look from
	h.until("push_down")
	if k := h.kinds(); slices.Contains(k, "paid_late") || h.order.Snapshot().State != payment.StateCancelled {
		t.Fatalf("a push the gateway does not confirm made the order %v (%v)", h.order.Snapshot().State, k)
	}
	gw.Pay("OTN1")
	h.order.Notify(paidNote(gw))
	if e := h.until("paid_late"); !e.Late || gw.Count("query") != queries+2 {
		t.Fatalf("late payment %+v after %v", e.Snapshot, gw.Calls())
	}
}

// A scanned code the customer is still confirming on the phone: a push
// saying paid is checked with the gateway first.
func TestCPMPushPaidNeedsTheGateway(t *testing.T) {
	gw := paymenttest.NewGateway()
	h := startCPM(t, gw)
	h.until("confirming")
	h.order.Notify(paidNote(gw)) // still 1145 at the gateway
	h.until("push_disputed")
	if s := h.order.Snapshot(); s.State != payment.StateAwaitingPayment || !s.Confirming {
		t.Fatalf("snapshot %+v: still waiting for the customer", s)
	}
	gw.Pay("OTN1")
	h.tick(2500 * time.Millisecond)
	h.final(payment.StatePaid)
}
