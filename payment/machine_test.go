package payment_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"qrkiosk/payment"
	"qrkiosk/payment/paymenttest"
	"qrkiosk/payment/qfpay"
)

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

type harness struct {
	t      *testing.T
	clock  *paymenttest.Clock
	gw     *paymenttest.Gateway
	order  *payment.Order
	mu     sync.Mutex
	events []payment.Event
	seen   chan payment.Event
	cancel context.CancelFunc
	// suspicious gets one value per record the machine refused as not
	// this order's.
	suspicious chan struct{}
}

// warnings is a log handler that signals each "suspicious record" warning.
type warnings struct {
	slog.Handler
	to chan<- struct{}
}

func (w warnings) Handle(ctx context.Context, r slog.Record) error {
	if strings.HasPrefix(r.Message, "suspicious record ignored") {
		w.to <- struct{}{}
	}
	return nil
}

func (w warnings) Enabled(context.Context, slog.Level) bool { return true }

func (w warnings) WithAttrs([]slog.Attr) slog.Handler { return w }

func hkd(t *testing.T, s string) payment.Amount {
	t.Helper()
	cur, _ := payment.LookupCurrency("HKD")
	a, err := payment.ParseAmount(s, cur)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func start(t *testing.T, gw *paymenttest.Gateway, pushUp bool) *harness {
	t.Helper()
	return startWith(t, gw, pushUp, nil)
}

// startWith starts an Alipay HK order of HK$12.34; edit changes the
// machine's configuration first.
func startWith(t *testing.T, gw *paymenttest.Gateway, pushUp bool, edit func(*payment.MachineConfig)) *harness {
	t.Helper()
	return startWallet(t, gw, pushUp, "alipayhk", edit)
}

// startWallet starts an order of HK$12.34 with the wallet given.
func startWallet(t *testing.T, gw *paymenttest.Gateway, pushUp bool, wallet string, edit func(*payment.MachineConfig)) *harness {
	t.Helper()
	h := &harness{t: t, clock: paymenttest.NewClock(t0), gw: gw, seen: make(chan payment.Event, 100), suspicious: make(chan struct{}, 100)}
	pt, _ := payment.LookupPayType(wallet)
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	t.Cleanup(func() { cancel(); <-h.order.Closed() })
	cfg := payment.MachineConfig{
		Gateway: gw, Clock: h.clock, PushUp: pushUp, Logger: slog.New(warnings{Handler: slog.DiscardHandler, to: h.suspicious}),
		PollFast: 2 * time.Second, PollSlow: 15 * time.Second, SettleRetry: 5 * time.Second,
	}
	if edit != nil {
		edit(&cfg)
	}
	h.order = payment.StartOrder(ctx, cfg, payment.CreateRequest{
		OutTradeNo: "OTN1", Amount: hkd(t, "12.34"), PayType: pt, Expiry: 5 * time.Minute, TxTime: t0,
	}, func(e payment.Event) {
		h.mu.Lock()
		h.events = append(h.events, e)
		h.mu.Unlock()
		h.seen <- e
	})
	return h
}

// until waits (in real time) for an event of the given kind.
func (h *harness) until(kind payment.EventKind) payment.Event {
	h.t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case e := <-h.seen:
			if e.Kind == kind {
				return e
			}
		case <-timeout:
			h.t.Fatalf("no %q event; got %v", kind, h.kinds())
			return payment.Event{}
		}
	}
}

func (h *harness) kinds() []payment.EventKind {
	h.mu.Lock()
	defer h.mu.Unlock()
	var k []payment.EventKind
	for _, e := range h.events {
		k = append(k, e.Kind)
	}
	return k
}

// tick waits until the machine waits on its deadline and its next poll,
// then advances the clock.
func (h *harness) tick(d time.Duration) {
	h.t.Helper()
	h.waitTimers(2)
	h.clock.Advance(d)
}

// waitTimers waits until the machine has armed n timers.
func (h *harness) waitTimers(n int) {
	h.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for h.clock.Pending() < n {
		if time.Now().After(deadline) {
			h.t.Fatalf("machine never waited on a timer: pending %d calls %v events %v", h.clock.Pending(), h.gw.Calls(), h.kinds())
		}
		time.Sleep(time.Millisecond)
	}
}

func (h *harness) final(want payment.State) payment.Snapshot {
	h.t.Helper()
	select {
	case <-h.order.Done():
	case <-time.After(5 * time.Second):
		h.t.Fatalf("order not final; events %v", h.kinds())
	}
	s := h.order.Snapshot()
	if s.State != want {
		h.t.Fatalf("state = %s, want %s (reason %q, events %v)", s.State, want, s.Reason, h.kinds())
	}
	return s
}

func paidNote(gw *paymenttest.Gateway) payment.Transaction {
	n := gw.Record("OTN1")
	n.Code, n.Status = qfpay.CodeSuccess, payment.OutcomePaid
	return n
}

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

func TestCreateRefusedFailsWithoutRetry(t *testing.T) {
	gw := paymenttest.NewGateway()
	gw.CreateErr = []error{&payment.Error{Op: "create", Code: "1243"}}
	h := start(t, gw, false)
	s := h.final(payment.StateFailed)
	if s.Code != "1243" || gw.Count("create") != 1 || gw.Count("query") != 0 {
		t.Fatalf("code %q, calls %v", s.Code, gw.Calls())
	}
}

// A create whose answer was lost is found at the gateway, but a query does
// not give its QR back: the order nobody can scan is withdrawn and a new
// one (new out_trade_no, recorded first) continues the same sale. Never
// two payable orders, never a second order before the first is settled.
func TestLostCreateAnswerReissues(t *testing.T) {
	gw := paymenttest.NewGateway()
	gw.CommitThenFail = errors.New("connection reset after sending")
	var recorded []string
	h := startWith(t, gw, false, func(c *payment.MachineConfig) {
		c.Reissue = func(next payment.CreateRequest, replaces string) error {
			recorded = append(recorded, replaces+">"+next.OutTradeNo)
			return nil
		}
	})
	r := h.until("reissued")
	if r.Replaces != "OTN1" || r.OutTradeNo == "OTN1" || len(recorded) != 1 || recorded[0] != "OTN1>"+r.OutTradeNo {
		t.Fatalf("reissued %+v, recorded %v", r.Snapshot, recorded)
	}
	if rec := gw.Record("OTN1"); rec.Outcome() != payment.OutcomeClosed {
		t.Fatalf("the order whose QR was lost is %v at the gateway, want withdrawn", rec.Outcome())
	}
	e := h.until("created")
	if e.OutTradeNo != r.OutTradeNo || e.QRCode == "" || e.SysSN == "" {
		t.Fatalf("new order %+v", e.Snapshot)
	}
	if strings.Join(gw.Calls(), " ") != "create query cancel query create" {
		t.Fatalf("calls %v", gw.Calls())
	}
	gw.Pay(e.OutTradeNo)
	h.tick(2 * time.Second)
	if s := h.final(payment.StatePaid); s.OutTradeNo != e.OutTradeNo {
		t.Fatalf("paid %+v", s)
	}
}

// A create whose answer was lost, and the customer paid before the query
// found it: Paid, with the gateway's syssn (a refund names it).
func TestLostCreateAnswerFoundPaidKeepsItsSysSN(t *testing.T) {
	gw := paymenttest.NewGateway()
	gw.CommitThenFail = errors.New("connection reset after sending")
	gw.BeforeCreateAnswer = func() { gw.Pay("OTN1") }
	h := start(t, gw, false)
	s := h.final(payment.StatePaid)
	if s.SysSN == "" || s.SysSN != gw.Record("OTN1").SysSN || gw.Count("create") != 1 {
		t.Fatalf("paid %+v after %v: the gateway's syssn %q", s, gw.Calls(), gw.Record("OTN1").SysSN)
	}
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

// A sale whose QR was lost and can no longer be offered (past its
// deadline, at a restart) is withdrawn and ends; nothing new is created.
func TestLostQRPastDeadlineIsNotReissued(t *testing.T) {
	gw := paymenttest.NewGateway()
	pt, _ := payment.LookupPayType("alipayhk")
	gw.CreateMPM(context.Background(), payment.CreateRequest{OutTradeNo: "OTN1", Amount: hkd(t, "12.34"), PayType: pt})
	h := startResumed(t, gw, nil, t0.Add(time.Hour))
	s := h.final(payment.StateExpired)
	if gw.Count("create") != 1 || !s.Withdrawn {
		t.Fatalf("calls %v, snapshot %+v", gw.Calls(), s)
	}
}

func TestUnknownCreateNothingThereFails(t *testing.T) {
	gw := paymenttest.NewGateway()
	gw.CreateErr = []error{errors.New("timeout")}
	h := start(t, gw, false)
	s := h.final(payment.StateFailed)
	if gw.Orders() != 0 || gw.Count("create") != 1 || s.Reason == "" {
		t.Fatalf("calls %v orders %d reason %q", gw.Calls(), gw.Orders(), s.Reason)
	}
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

func waitCount(t *testing.T, gw *paymenttest.Gateway, call string, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for gw.Count(call) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%s calls = %d, want %d (%v)", call, gw.Count(call), n, gw.Calls())
		}
		time.Sleep(time.Millisecond)
	}
}

func startResumed(t *testing.T, gw *paymenttest.Gateway, known *payment.Created, at time.Time) *harness {
	t.Helper()
	h := &harness{t: t, clock: paymenttest.NewClock(at), gw: gw, seen: make(chan payment.Event, 100)}
	pt, _ := payment.LookupPayType("alipayhk")
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); <-h.order.Closed() })
	h.order = payment.StartOrder(ctx, payment.MachineConfig{Gateway: gw, Clock: h.clock, Resume: true, Known: known},
		payment.CreateRequest{OutTradeNo: "OTN1", Amount: hkd(t, "12.34"), PayType: pt, Expiry: 5 * time.Minute, TxTime: t0},
		func(e payment.Event) { h.seen <- e })
	return h
}

func TestResumeNeverCreatesAgain(t *testing.T) {
	gw := paymenttest.NewGateway()
	pt, _ := payment.LookupPayType("alipayhk")
	c, _ := gw.CreateMPM(context.Background(), payment.CreateRequest{OutTradeNo: "OTN1", Amount: hkd(t, "12.34"), PayType: pt})
	gw.Pay("OTN1") // paid while the kiosk was down
	h := startResumed(t, gw, c, t0.Add(time.Minute))
	h.final(payment.StatePaid)
	if gw.Count("create") != 1 {
		t.Fatalf("calls %v: a resumed order must not be created again", gw.Calls())
	}
}

func TestResumeUnrecordedCreateFindsOrder(t *testing.T) {
	gw := paymenttest.NewGateway()
	pt, _ := payment.LookupPayType("alipayhk")
	gw.CreateMPM(context.Background(), payment.CreateRequest{OutTradeNo: "OTN1", Amount: hkd(t, "12.34"), PayType: pt})
	h := startResumed(t, gw, nil, t0.Add(time.Minute))
	h.until("created")
	if s := h.order.Snapshot(); s.QRCode == "" || s.State != payment.StateAwaitingPayment {
		t.Fatalf("resumed %+v", s)
	}
}

func TestResumePastDeadlineWithdraws(t *testing.T) {
	gw := paymenttest.NewGateway()
	pt, _ := payment.LookupPayType("alipayhk")
	c, _ := gw.CreateMPM(context.Background(), payment.CreateRequest{OutTradeNo: "OTN1", Amount: hkd(t, "12.34"), PayType: pt})
	h := startResumed(t, gw, c, t0.Add(time.Hour))
	h.final(payment.StateExpired)
	if rec := gw.Record("OTN1"); rec.Outcome() != payment.OutcomeClosed || gw.Count("create") != 1 {
		t.Fatalf("record %v calls %v: an order past its deadline is withdrawn, never re-created", rec.Outcome(), gw.Calls())
	}
}

func TestResumeNothingAtGatewayFails(t *testing.T) {
	gw := paymenttest.NewGateway()
	h := startResumed(t, gw, nil, t0.Add(time.Minute))
	s := h.final(payment.StateFailed)
	if gw.Count("create") != 0 || s.Reason == "" {
		t.Fatalf("calls %v reason %q", gw.Calls(), s.Reason)
	}
}

// closedWithin says whether the machine's goroutine stops within d (real
// time).
func closedWithin(o *payment.Order, d time.Duration) bool {
	select {
	case <-o.Closed():
		return true
	case <-time.After(d):
		return false
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

// A push that overtakes the create's answer: the order is shown with its
// syssn first ("created"), then confirmed with the gateway, then Paid.
func TestPaidBeforeTheCreateAnswer(t *testing.T) {
	gw := paymenttest.NewGateway()
	started := make(chan *payment.Order, 1)
	gw.BeforeCreateAnswer = func() {
		gw.Pay("OTN1")
		(<-started).Notify(paidNote(gw))
	}
	h := start(t, gw, true)
	started <- h.order
	s := h.final(payment.StatePaid)
	k := h.kinds()
	if fmt.Sprint(k) != "[creating created confirming_paid paid]" || s.SysSN == "" {
		t.Fatalf("events %v, snapshot %+v", k, s)
	}
}

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
