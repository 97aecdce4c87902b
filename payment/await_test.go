package payment_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"qrkiosk/payment"
	"qrkiosk/payment/paymenttest"
	"qrkiosk/payment/qfpay"
)

func TestPaidByPoll(t *testing.T) {
	gw := paymenttest.NewGateway()
	h := start(t, gw, false)
	e := h.until("created")
	if e.QRCode == "" || e.State != payment.StateAwaitingPayment {
		t.Fatalf("created event %+v", e.Snapshot)
	}
	h.tick(2 * time.Second) // a poll: still pending
	waitCount(t, gw, "query", 1)
	gw.Pay("OTN1")
	h.tick(2 * time.Second)
	h.final(payment.StatePaid)
	if n := gw.Count("create"); n != 1 {
		t.Fatalf("creates = %d, want 1", n)
	}
}

// statedGateway answers queries as a gateway without response codes does
// (ScanForPay): the outcome stated, no code.
type statedGateway struct{ *paymenttest.Gateway }

func (g statedGateway) QueryOrder(ctx context.Context, ref payment.OrderRef) (*payment.Transaction, error) {
	t, err := g.Gateway.QueryOrder(ctx, ref)
	if t != nil {
		t.Code, t.Text = "", ""
	}
	return t, err
}

// The machine decides by the outcome and keeps the paying record's own
// code: an order paid on a gateway without codes carries none, not
// QFPay's 0000.
func TestPaidKeepsTheGatewaysOwnCode(t *testing.T) {
	gw := paymenttest.NewGateway()
	h := startWith(t, gw, false, func(c *payment.MachineConfig) { c.Gateway = statedGateway{gw} })
	h.until("created")
	gw.Pay("OTN1")
	h.tick(2 * time.Second)
	if s := h.final(payment.StatePaid); s.Code != "" {
		t.Fatalf("paid with code %q; the gateway gave none", s.Code)
	}
}

func TestPaidByPushAtOnce(t *testing.T) {
	gw := paymenttest.NewGateway()
	h := start(t, gw, true)
	h.until("created")
	gw.Pay("OTN1")
	h.order.Notify(paidNote(gw))
	h.final(payment.StatePaid) // no clock moved: no poll was waited for
	if n := gw.Count("query"); n != 1 {
		t.Fatalf("queries = %d: a verified push is confirmed by one query at once, without waiting for a poll", n)
	}
}

func TestDuplicatePushIsOneTransition(t *testing.T) {
	gw := paymenttest.NewGateway()
	h := start(t, gw, true)
	h.until("created")
	gw.Pay("OTN1")
	for i := 0; i < 3; i++ {
		h.order.Notify(paidNote(gw))
	}
	h.final(payment.StatePaid)
	h.order.Notify(paidNote(gw)) // and one after the order is final
	// A Paid machine stops: no event can follow once it has.
	select {
	case <-h.order.Closed():
	case <-time.After(5 * time.Second):
		t.Fatal("the machine of a paid order still runs")
	}
	n := 0
	for _, k := range h.kinds() {
		if k == "paid" || k == "paid_late" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("paid events = %d, want 1 (%v)", n, h.kinds())
	}
}

func TestMismatchedPushChangesNothing(t *testing.T) {
	gw := paymenttest.NewGateway()
	h := start(t, gw, true)
	h.until("created")
	other := paidNote(gw)
	other.OutTradeNo = "SOMEONE-ELSE"
	h.order.Notify(other)
	cheap := paidNote(gw)
	cheap.TxAmt = 1
	h.order.Notify(cheap)
	foreign := paidNote(gw)
	foreign.Currency = "USD"
	h.order.Notify(foreign)
	// Each is refused with a warning, in the order sent.
	for range 3 {
		select {
		case <-h.suspicious:
		case <-time.After(5 * time.Second):
			t.Fatalf("not every mismatched notification was looked at; events %v", h.kinds())
		}
	}
	if s := h.order.Snapshot(); s.State != payment.StateAwaitingPayment {
		t.Fatalf("state = %s after mismatched notifications, want awaiting_payment", s.State)
	}
	// The real payment still lands.
	gw.Pay("OTN1")
	h.order.Notify(paidNote(gw))
	h.final(payment.StatePaid)
}

func TestDeclined(t *testing.T) {
	gw := paymenttest.NewGateway()
	h := start(t, gw, false)
	h.until("created")
	gw.Decline("OTN1", qfpay.CodeInsufficientBalance)
	h.tick(2 * time.Second)
	s := h.final(payment.StateFailed)
	if s.Code != qfpay.CodeInsufficientBalance || s.Reason == "" {
		t.Fatalf("failed with code %q reason %q", s.Code, s.Reason)
	}
}

func TestGatewayExpiredAnswerIsFinal(t *testing.T) {
	gw := paymenttest.NewGateway()
	h := start(t, gw, false)
	h.until("created")
	gw.Expire("OTN1")
	h.tick(2 * time.Second)
	// The gateway itself ran the QR out: nobody can pay it any more, and
	// the customer screen must not warn "do not pay this QR code".
	if s := h.final(payment.StateExpired); !s.Withdrawn {
		t.Fatalf("expired at the gateway %+v: its QR can no longer be paid (Withdrawn)", s)
	}
}

func TestFailingPollStreakKeepsOrderAlive(t *testing.T) {
	gw := paymenttest.NewGateway()
	h := start(t, gw, false)
	h.until("created")
	down := errors.New("connection refused")
	gw.QueryErr = []error{down, down, down, down}
	for i := 0; i < 4; i++ {
		h.tick(2 * time.Second)
	}
	h.until("gateway_unreachable")
	if s := h.order.Snapshot(); s.State != payment.StateAwaitingPayment || !s.GatewayUnreachable {
		t.Fatalf("after failing polls: %+v", s)
	}
	gw.Pay("OTN1")
	h.tick(2 * time.Second)
	h.final(payment.StatePaid)
}

// 1161 ("unknown result, query again") is pending, like 1143/1145: the
// order waits on, and is paid when the gateway says so.
func TestUnknownResultIsPending(t *testing.T) {
	gw := paymenttest.NewGateway()
	h := start(t, gw, false)
	h.until("created")
	gw.Decline("OTN1", qfpay.CodeUnknownResult)
	h.tick(2 * time.Second)
	waitCount(t, gw, "query", 1)
	if s := h.order.Snapshot(); s.State != payment.StateAwaitingPayment {
		t.Fatalf("after a 1161 answer the order is %v, want still awaiting payment", s.State)
	}
	gw.Pay("OTN1")
	h.tick(2 * time.Second)
	h.final(payment.StatePaid)
}

func TestPushLinkAdaptsPolling(t *testing.T) {
	gw := paymenttest.NewGateway()
	h := start(t, gw, true)
	h.until("created")
	h.waitTimers(2)
	if next, _ := h.clock.NextTimer(); next != 15*time.Second || gw.Count("query") != 0 {
		t.Fatalf("next poll in %v after %d queries while push is up, want a safety poll in 15 s", next, gw.Count("query"))
	}
	h.order.PushLink(false)
	h.until("push_down")
	h.tick(2 * time.Second)
	waitCount(t, gw, "query", 1)
	h.order.PushLink(true)
	h.until("push_up")
	waitCount(t, gw, "query", 2) // one query at once on reconnect
}

// Without push an order is asked every 2 s for the first minute its QR
// shows, then every 5 s: ten kiosks of one merchant stay inside QFPay's 400
// requests a minute.
func TestPollingSlowsAfterTheFirstMinute(t *testing.T) {
	gw := paymenttest.NewGateway()
	h := start(t, gw, false)
	h.until("created")
	h.waitTimers(2)
	if next, _ := h.clock.NextTimer(); next != 2*time.Second {
		t.Fatalf("first poll in %v, want 2 s", next)
	}
	for i := 1; i <= 30; i++ {
		h.tick(2 * time.Second)
		waitCount(t, gw, "query", i)
	}
	h.waitTimers(2)
	if next, _ := h.clock.NextTimer(); next != 5*time.Second {
		t.Fatalf("after a minute the next poll is in %v, want 5 s", next)
	}
}

// Told 429 (too many requests), an order asks less often until the gateway
// answers again, and the order stays live.
func TestRateLimitedPollsBackOff(t *testing.T) {
	gw := paymenttest.NewGateway()
	h := start(t, gw, false)
	h.until("created")
	limited := fmt.Errorf("query: %w", payment.ErrRateLimited)
	gw.QueryErr = []error{limited, limited}
	for i, want := range []time.Duration{4 * time.Second, 8 * time.Second, 2 * time.Second} {
		h.waitTimers(2)
		next, _ := h.clock.NextTimer()
		h.clock.Advance(next)
		waitCount(t, gw, "query", i+1)
		h.waitTimers(2)
		if got, _ := h.clock.NextTimer(); got != want {
			t.Fatalf("after %d answers (%d limited) the next poll is in %v, want %v", i+1, min(i+1, 2), got, want)
		}
	}
	if s := h.order.Snapshot(); s.State != payment.StateAwaitingPayment || s.GatewayUnreachable {
		t.Fatalf("a rate limit made the order %+v", s)
	}
}
