package payment_test

import (
	"slices"
	"testing"
	"time"

	"qrkiosk/payment"
	"qrkiosk/payment/paymenttest"
	"qrkiosk/payment/qfpay"
)

func TestDeadlineWithdrawsAndExpires(t *testing.T) {
	gw := paymenttest.NewGateway()
	h := start(t, gw, true)
	h.until("created")
	h.tick(5 * time.Minute)
	h.final(payment.StateExpired)
	if gw.Count("cancel") != 1 {
		t.Fatalf("calls %v: want one withdrawal at the deadline", gw.Calls())
	}
	if rec := gw.Record("OTN1"); rec.Outcome() != payment.OutcomeClosed {
		t.Fatalf("gateway record %v: the expired order must be withdrawn", rec.Outcome())
	}
}

func TestPaidAfterDeadlineEndsPaid(t *testing.T) {
	gw := paymenttest.NewGateway()
	h := start(t, gw, true)
	h.until("created")
	gw.Pay("OTN1") // paid at the last second; no push yet
	h.tick(5 * time.Minute)
	h.final(payment.StatePaid)
}

func TestCancel(t *testing.T) {
	gw := paymenttest.NewGateway()
	h := start(t, gw, true)
	h.until("created")
	h.order.Cancel()
	h.final(payment.StateCancelled)
	if rec := gw.Record("OTN1"); rec.Outcome() != payment.OutcomeClosed {
		t.Fatalf("gateway record %v after cancel, want closed", rec.Outcome())
	}
}

func TestPaidDuringCancelEndsPaid(t *testing.T) {
	gw := paymenttest.NewGateway()
	gw.BeforeCancel = func() { gw.Pay("OTN1") }
	h := start(t, gw, true)
	h.until("created")
	h.order.Cancel()
	h.final(payment.StatePaid)
}

func TestCancelWalletWithoutCancel(t *testing.T) {
	gw := paymenttest.NewGateway()
	gw.NoCancel = true
	h := startWith(t, gw, true, func(c *payment.MachineConfig) { c.GatewayExpiry = 30 * time.Minute })
	h.until("created")
	h.order.Cancel()
	// The screens must not say "withdrawn": the QR stays payable at the
	// gateway until it expires there — this wallet honours the kiosk's
	// 5 minutes (the others the gateway's own 30).
	if s := h.final(payment.StateCancelled); s.Withdrawn || !s.PayableUntil.Equal(t0.Add(5*time.Minute)) {
		t.Fatalf("cancelled %+v: want not withdrawn, payable until %v", s, t0.Add(5*time.Minute))
	}
	// The customer pays the still-open order later: the gateway's word wins.
	gw.Pay("OTN1")
	h.order.Notify(paidNote(gw))
	e := h.until("paid_late")
	if !e.Late || e.State != payment.StatePaid {
		t.Fatalf("late payment snapshot %+v", e.Snapshot)
	}
}

// pastLatePolls runs the clock, poll by poll, through the LatePoll window
// of an order final on the kiosk but still payable at the gateway.
func (h *harness) pastLatePolls() {
	h.t.Helper()
	for elapsed := time.Duration(0); elapsed < payment.DefaultLatePoll; elapsed += 15 * time.Second {
		h.waitTimers(2) // the late-payment watch and the next late poll
		h.clock.Advance(15 * time.Second)
	}
}

// Without push, a customer who pays a QR the gateway could not withdraw,
// just after the kiosk stopped offering it, is still seen: the order is
// queried every PollSlow for LatePoll, and turns Paid (late).
func TestLatePaymentFoundByQueryWithoutPush(t *testing.T) {
	gw := paymenttest.NewGateway()
	gw.NoCancel = true
	h := startWallet(t, gw, false, "payme", nil) // no cancel, and the gateway's own expiry
	h.until("created")
	h.order.Cancel()
	h.final(payment.StateCancelled)
	gw.Pay("OTN1")
	h.waitTimers(2)
	h.clock.Advance(15 * time.Second)
	if e := h.until("paid_late"); !e.Late || e.State != payment.StatePaid {
		t.Fatalf("late payment %+v", e.Snapshot)
	}
}

// The late queries stop after LatePoll, and never start for an order the
// gateway withdrew.
func TestLatePollsAreBounded(t *testing.T) {
	gw := paymenttest.NewGateway()
	gw.NoCancel = true
	h := startWallet(t, gw, false, "payme", nil)
	h.until("created")
	h.order.Cancel()
	h.final(payment.StateCancelled)
	before := gw.Count("query")
	h.pastLatePolls()
	want := int(payment.DefaultLatePoll / (15 * time.Second))
	paymenttest.Eventually(t, "the last late query", 5*time.Second, func() bool { return gw.Count("query")-before == want })
	for deadline := time.Now().Add(5 * time.Second); h.clock.Pending() != 1; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("pending timers %d after LatePoll", h.clock.Pending())
		}
	}
	// No poll timer is armed any more: time passing asks nothing.
	h.clock.Advance(time.Hour)
	if n := gw.Count("query") - before; n != want {
		t.Fatalf("%d late queries, want one every 15 s for %v", n, payment.DefaultLatePoll)
	}

	gw = paymenttest.NewGateway() // withdraws orders
	h = start(t, gw, false)
	h.until("created")
	h.order.Cancel()
	h.final(payment.StateCancelled)
	for deadline := time.Now().Add(5 * time.Second); h.clock.Pending() != 1; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("pending timers %d for a withdrawn order; want the late-payment watch alone", h.clock.Pending())
		}
	}
}

// A kiosk runs for weeks: a finished order's machine does not live on. A
// Paid order stops at once; a Cancelled one listens for a late payment for
// LateWatch (a day), then stops, and a payment after that is reconcile's
// to find, not this machine's.
func TestMachineStopsAfterFinal(t *testing.T) {
	gw := paymenttest.NewGateway()
	h := start(t, gw, true)
	h.until("created")
	gw.Pay("OTN1")
	h.order.Notify(paidNote(gw))
	h.final(payment.StatePaid)
	if !closedWithin(h.order, 5*time.Second) {
		t.Fatal("a Paid order's machine is still running")
	}

	gw = paymenttest.NewGateway()
	gw.NoCancel = true
	h = startWallet(t, gw, true, "payme", nil)
	h.until("created")
	h.order.Cancel()
	h.final(payment.StateCancelled)
	if closedWithin(h.order, 50*time.Millisecond) {
		t.Fatal("a Cancelled order stopped listening for a late payment at once")
	}
	// Still payable at the gateway (no cancel): queried for LatePoll, then
	// the late-payment watch is the one timer left.
	h.pastLatePolls()
	for deadline := time.Now().Add(5 * time.Second); h.clock.Pending() != 1; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("pending timers %d, want the late-payment watch alone", h.clock.Pending())
		}
	}
	h.clock.Advance(payment.DefaultLateWatch - payment.DefaultLatePoll - time.Minute)
	if closedWithin(h.order, 50*time.Millisecond) {
		t.Fatal("stopped before LateWatch")
	}
	h.clock.Advance(time.Minute)
	if !closedWithin(h.order, 5*time.Second) {
		t.Fatal("still running after LateWatch")
	}
	gw.Pay("OTN1")
	h.order.Notify(paidNote(gw))
	if s := h.order.Snapshot(); s.State != payment.StateCancelled {
		t.Fatalf("a stopped machine changed state to %s", s.State)
	}
}

// Reversing a paid Alipay order refunds it: once a withdrawal was sent, a
// push saying "paid" is believed only when a query confirms it.
func TestPushAfterWithdrawalNeedsTheGatewaysWord(t *testing.T) {
	gw := paymenttest.NewGateway()
	h := start(t, gw, true)
	h.until("created")
	h.tick(5 * time.Minute)
	s := h.final(payment.StateExpired)
	if !s.Withdrawn {
		t.Fatalf("expired %+v: the reversal went through, the QR is withdrawn", s)
	}
	queries := gw.Count("query")
	note := paidNote(gw)
	note.Code, note.Cancel, note.Status = qfpay.CodeSuccess, qfpay.CancelFlagNone, payment.OutcomePaid
	h.order.Notify(note) // the gateway's record says withdrawn
	waitCount(t, gw, "query", queries+1)
	h.order.PushLink(false) // handled after the push: a point to look from
	h.until("push_down")
	if k := h.kinds(); slices.Contains(k, "paid_late") || h.order.Snapshot().State != payment.StateExpired {
		t.Fatalf("a push the gateway's record contradicts made the order %v (%v)", h.order.Snapshot().State, k)
	}

	// Where the withdrawal did not take and the gateway's record says
	// paid, the push is confirmed and the order is paid late.
	gw2 := paymenttest.NewGateway()
	gw2.NoCancel = true // the reversal is sent, and refused
	h2 := start(t, gw2, true)
	h2.until("created")
	h2.tick(5 * time.Minute)
	h2.final(payment.StateExpired)
	queries = gw2.Count("query")
	gw2.Pay("OTN1")
	h2.order.Notify(paidNote(gw2))
	if e := h2.until("paid_late"); !e.Late || gw2.Count("query") != queries+1 {
		t.Fatalf("late payment %+v after %v", e.Snapshot, gw2.Calls())
	}
}
