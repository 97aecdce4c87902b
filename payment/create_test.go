package payment_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"qrkiosk/payment"
	"qrkiosk/payment/paymenttest"
)

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
