package kiosk

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"qrkiosk/payment"
	"qrkiosk/payment/paymenttest"
)

// tillRig is a till on the in-memory gateway, recording what its observers
// see.
type tillRig struct {
	t      *testing.T
	gw     *paymenttest.Gateway
	till   *Till
	mu     sync.Mutex
	events []TillEvent
	starts int
}

func newTillRig(t *testing.T) *tillRig {
	r := &tillRig{t: t, gw: paymenttest.NewGateway()}
	ctx, cancel := context.WithCancel(context.Background())
	var orders []*payment.Order
	t.Cleanup(func() {
		cancel()
		for _, o := range orders {
			<-o.Closed()
		}
	})
	r.till = NewTill(func(req payment.CreateRequest, observe func(payment.Event)) (*payment.Order, error) {
		r.mu.Lock()
		r.starts++
		r.mu.Unlock()
		if req.OutTradeNo == "UNRECORDABLE" {
			return nil, errors.New("journal: disk full")
		}
		o := payment.StartOrder(ctx, payment.MachineConfig{Gateway: r.gw, PollFast: 20 * time.Millisecond, PollSlow: 20 * time.Millisecond}, req, observe)
		orders = append(orders, o)
		return o, nil
	}, nil)
	r.till.Observe(func(ev TillEvent) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.events = append(r.events, ev)
	})
	return r
}

func (r *tillRig) kinds() []TillEventKind {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []TillEventKind
	for _, e := range r.events {
		if e.Kind != TillOrderEvent {
			out = append(out, e.Kind)
		}
	}
	return out
}

func hkd(t *testing.T, s string) payment.Amount {
	t.Helper()
	cur, _ := payment.LookupCurrency("HKD")
	a, err := payment.ParseAmount(s, cur)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func saleReq(t *testing.T, otn, amount string) payment.CreateRequest {
	pt, _ := payment.LookupPayType("alipayhk")
	return payment.CreateRequest{OutTradeNo: otn, Amount: hkd(t, amount), PayType: pt, Expiry: 5 * time.Minute, TxTime: time.Now()}
}

// Never two: while a sale is live, a second one (the cashier's or the
// POS's) is refused with the reason and never reaches the journal; once
// the first is final the till takes the next.
func TestTillTakesOneSaleAtATime(t *testing.T) {
	r := newTillRig(t)
	first, err := r.till.Start(saleReq(t, "POS-1", "12.34"), "POS-1", true)
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.till.Start(saleReq(t, "QK-2", "5.00"), "", false)
	if !errors.Is(err, ErrBusy) || !strings.Contains(err.Error(), "HK$12.34") {
		t.Fatalf("second sale: %v; want busy naming the live sale", err)
	}
	if _, err := r.till.AskForCode(Wait{Amount: hkd(t, "1.00")}); !errors.Is(err, ErrBusy) {
		t.Fatalf("a wait for a code during a sale: %v", err)
	}
	if r.starts != 1 {
		t.Fatalf("%d orders started; want 1", r.starts)
	}
	live, ok := r.till.Live()
	if !ok || live.POSRef != "POS-1" || !live.FromPOS || live.Order != first.Order {
		t.Fatalf("live %+v %v", live, ok)
	}
	paymenttest.Eventually(t, "the QR", 5*time.Second, func() bool { return first.Order.Snapshot().State == payment.StateAwaitingPayment })
	if err := r.gw.Pay("POS-1"); err != nil {
		t.Fatal(err)
	}
	paymenttest.Eventually(t, "the till free", 5*time.Second, func() bool { _, live := r.till.Live(); return !live })
	if _, err := r.till.Start(saleReq(t, "QK-3", "5.00"), "", false); err != nil {
		t.Fatalf("after the sale: %v", err)
	}
	if got := r.kinds(); len(got) != 2 || got[0] != TillSaleStarted || got[1] != TillSaleStarted {
		t.Fatalf("events %v", got)
	}
}

// A sale whose order cannot be recorded leaves the till free and says why.
func TestTillSaleNotRecorded(t *testing.T) {
	r := newTillRig(t)
	if _, err := r.till.Start(saleReq(t, "UNRECORDABLE", "1.00"), "", false); err == nil || errors.Is(err, ErrBusy) {
		t.Fatalf("err %v", err)
	}
	if _, ok := r.till.Live(); ok {
		t.Fatal("a sale is live after it failed to start")
	}
	if _, err := r.till.Start(saleReq(t, "QK-1", "1.00"), "", false); err != nil {
		t.Fatal(err)
	}
}

// Every event of the live order reaches the observers after the sale was
// announced, through to its final state, and the observers see the POS's
// reference on each.
func TestTillPassesOrderEvents(t *testing.T) {
	r := newTillRig(t)
	s, err := r.till.Start(saleReq(t, "POS-9", "9.90"), "POS-9", true)
	if err != nil {
		t.Fatal(err)
	}
	paymenttest.Eventually(t, "the QR", 5*time.Second, func() bool { return s.Order.Snapshot().State == payment.StateAwaitingPayment })
	r.till.Cancel("cancelled by the POS", true)
	paymenttest.Eventually(t, "cancelled", 5*time.Second, func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		last := r.events[len(r.events)-1]
		return last.Kind == TillOrderEvent && last.Event.State == payment.StateCancelled
	})
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.events[0].Kind != TillSaleStarted {
		t.Fatalf("first event %v; the sale must be announced before its order's events", r.events[0].Kind)
	}
	var kinds []string
	for _, e := range r.events[1:] {
		if e.Kind != TillOrderEvent || e.Sale.POSRef != "POS-9" {
			t.Fatalf("event %+v", e)
		}
		kinds = append(kinds, string(e.Event.Kind))
	}
	if kinds[0] != string(payment.EventCreating) {
		t.Fatalf("order events %v; the first (creating) must not be lost", kinds)
	}
}

// The POS's cancel_request withdraws only what the POS started: the
// cashier's own sale goes on.
func TestTillPOSCancelLeavesTheCashiersSale(t *testing.T) {
	r := newTillRig(t)
	s, err := r.till.Start(saleReq(t, "QK-1", "3.00"), "", false)
	if err != nil {
		t.Fatal(err)
	}
	if r.till.Cancel("cancelled by the POS", true) {
		t.Fatal("the POS cancelled the cashier's sale")
	}
	if !r.till.Cancel("Esc", false) {
		t.Fatal("the cashier could not cancel the sale")
	}
	paymenttest.Eventually(t, "cancelled", 5*time.Second, func() bool { return s.Order.Snapshot().State.Final() })
}

// A POS SCAN_PAY sale waits for the scanner: the code the cashier scans is
// charged for the POS's amount under the POS's out_trade_no, whatever the
// pane typed, and the POS's ticket learns the sale.
func TestTillScanForThePOS(t *testing.T) {
	r := newTillRig(t)
	tk, err := r.till.AskForCode(Wait{Amount: hkd(t, "8.80"), POSRef: "u--1--2", OutTradeNo: "u--1--2", FromPOS: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.till.Start(saleReq(t, "QK-typed", "1.00"), "", false); !errors.Is(err, ErrBusy) {
		t.Fatalf("a QR sale while waiting for a code: %v", err)
	}
	cpm, _ := payment.LookupCPMPayType(payment.AllInOneCPM)
	req := payment.CreateRequest{OutTradeNo: "QK-typed", Amount: hkd(t, "1.00"), PayType: cpm, TxTime: time.Now(), AuthCode: "287654321098765432"}
	s, err := r.till.Start(req, "", false)
	if err != nil {
		t.Fatal(err)
	}
	snap := s.Order.Snapshot()
	if snap.OutTradeNo != "u--1--2" || snap.Amount.Minor != 880 || !s.FromPOS || s.POSRef != "u--1--2" {
		t.Fatalf("sale %+v snapshot %s %v", s, snap.OutTradeNo, snap.Amount)
	}
	select {
	case <-tk.Done():
	default:
		t.Fatal("the ticket did not end with the sale")
	}
	if got, err := tk.Result(); err != nil || got.Order != s.Order {
		t.Fatalf("ticket %+v %v", got, err)
	}
	if got := r.kinds(); fmt.Sprint(got) != fmt.Sprint([]TillEventKind{TillWaiting, TillSaleStarted}) {
		t.Fatalf("events %v", got)
	}
}

// A wait ended by the cashier (or the POS's cancel) tells its ticket why
// and frees the till.
func TestTillWaitEnded(t *testing.T) {
	r := newTillRig(t)
	tk, err := r.till.AskForCode(Wait{Amount: hkd(t, "8.80"), POSRef: "u--1--2", FromPOS: true})
	if err != nil {
		t.Fatal(err)
	}
	r.till.EndWait(tk.ID(), "cancelled at the kiosk")
	if _, err := tk.Result(); err == nil || err.Error() != "cancelled at the kiosk" {
		t.Fatalf("ticket: %v", err)
	}
	if _, ok := r.till.Waiting(); ok {
		t.Fatal("still waiting")
	}
	if got := r.kinds(); fmt.Sprint(got) != fmt.Sprint([]TillEventKind{TillWaiting, TillWaitEnded}) {
		t.Fatalf("events %v", got)
	}
}

// A refund the POS asks for moves nothing until the cashier decides; a
// decline, a withdrawal or nobody at the counter each refuse it, and the
// till takes no sale meanwhile.
func TestTillRefundAsk(t *testing.T) {
	for _, c := range []struct {
		name   string
		decide func(r *tillRig, id uint64, cancel context.CancelFunc)
		ok     bool
		says   string
	}{
		{"approved", func(r *tillRig, id uint64, _ context.CancelFunc) { r.till.DecideRefund(id, true, "") }, true, ""},
		{"declined", func(r *tillRig, id uint64, _ context.CancelFunc) {
			r.till.DecideRefund(id, false, "declined by the cashier")
		}, false, "declined by the cashier"},
		{"withdrawn by the POS", func(r *tillRig, id uint64, _ context.CancelFunc) { r.till.CancelRefund("cancelled by the POS") }, false, "cancelled by the POS"},
		{"nobody at the counter", func(r *tillRig, id uint64, cancel context.CancelFunc) { cancel() }, false, "nobody entered the manager PIN"},
		{"another ask's decision", func(r *tillRig, id uint64, cancel context.CancelFunc) {
			r.till.DecideRefund(id+1, true, "")
			cancel()
		}, false, "nobody entered"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newTillRig(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			asked := make(chan RefundAsk, 1)
			r.till.Observe(func(ev TillEvent) {
				if ev.Kind == TillRefundAsked {
					asked <- ev.Refund
				}
			})
			type result struct {
				ask RefundAsk
				err error
			}
			done := make(chan result, 1)
			go func() {
				a, err := r.till.AskRefund(ctx, RefundAsk{Order: "QK-1", SysSN: "2025", Amount: hkd(t, "12.50"), POSRef: "u--1--2"})
				done <- result{a, err}
			}()
			ask := <-asked
			if _, err := r.till.Start(saleReq(t, "QK-2", "1.00"), "", false); !errors.Is(err, ErrBusy) {
				t.Fatalf("a sale during the refund ask: %v", err)
			}
			c.decide(r, ask.ID, cancel)
			res := <-done
			switch {
			case c.ok && res.err != nil:
				t.Fatalf("approved ask: %v", res.err)
			case !c.ok && (!errors.Is(res.err, ErrRefundDeclined) || !strings.Contains(res.err.Error(), c.says)):
				t.Fatalf("err %v; want declined saying %q", res.err, c.says)
			}
			if c.ok {
				if _, err := r.till.Start(saleReq(t, "QK-3", "1.00"), "", false); !errors.Is(err, ErrBusy) {
					t.Fatalf("a sale while the approved refund runs: %v", err)
				}
				r.till.RefundDone(res.ask, "refunded")
			}
			if _, err := r.till.Start(saleReq(t, "QK-4", "1.00"), "", false); err != nil {
				t.Fatalf("after the refund: %v", err)
			}
		})
	}
}

// Held for the start-up recovery, the till refuses sales saying why.
func TestTillHold(t *testing.T) {
	r := newTillRig(t)
	r.till.Hold("checking what the last run left unfinished")
	if _, err := r.till.Start(saleReq(t, "QK-1", "1.00"), "", false); !errors.Is(err, ErrBusy) || !strings.Contains(err.Error(), "last run") {
		t.Fatalf("err %v", err)
	}
	r.till.Release()
	if _, err := r.till.Start(saleReq(t, "QK-1", "1.00"), "", false); err != nil {
		t.Fatal(err)
	}
}

// A scanned code that takes the POS's wait for a code is the sale from
// then on: the POS's cancel_request or its payment_timeout arriving while
// the sale is being recorded ends nothing, so the POS is never told
// "cancelled" for a sale that goes on (and may be paid).
func TestClaimedWaitIsNotEnded(t *testing.T) {
	started, block := make(chan struct{}), make(chan struct{})
	till := NewTill(func(req payment.CreateRequest, observe func(payment.Event)) (*payment.Order, error) {
		close(started)
		<-block
		return nil, errors.New("the disk is full")
	}, nil)
	tk, err := till.AskForCode(Wait{Amount: payment.Amount{Minor: 1234}, FromPOS: true, POSRef: "pos-1"})
	if err != nil {
		t.Fatal(err)
	}
	// Cancel and EndWait read the wait, then end it: here one read it just
	// before the scanned code took it.
	till.mu.Lock()
	readBefore := till.wait
	till.mu.Unlock()
	go till.Start(payment.CreateRequest{AuthCode: "287654321098765432"}, "", false)
	<-started
	if till.endWait(readBefore, errors.New("cancelled by the POS")) {
		t.Error("a cancel that read the wait before the scan ended the sale's wait")
	}
	if till.Cancel("cancelled by the POS", true) {
		t.Error("the POS's cancel_request said it cancelled a sale being recorded")
	}
	till.EndWait(tk.ID(), "payment_timeout")
	select {
	case <-tk.Done():
		t.Fatal("the wait ended while its sale was being recorded")
	default:
	}
	close(block)
	if _, err := tk.Result(); err == nil || !strings.Contains(err.Error(), "could not be recorded") {
		t.Fatalf("the wait ended with %v, want the sale's own failure", err)
	}
}

// A refund the manager approved goes on: the POS's cancel_request does
// not say it was cancelled. One still waiting for the PIN is withdrawn.
func TestCancelRefundOnlyBeforeTheDecision(t *testing.T) {
	till := NewTill(func(payment.CreateRequest, func(payment.Event)) (*payment.Order, error) {
		return nil, errors.New("not recorded")
	}, nil)
	asks := make(chan RefundAsk, 2)
	stop := till.Observe(func(ev TillEvent) {
		if ev.Kind == TillRefundAsked {
			asks <- ev.Refund
		}
	})
	defer stop()
	done := make(chan error, 1)
	go func() {
		_, err := till.AskRefund(t.Context(), RefundAsk{Order: "A"})
		done <- err
	}()
	ask := <-asks
	till.DecideRefund(ask.ID, true, "")
	if err := <-done; err != nil {
		t.Fatalf("approved: %v", err)
	}
	if till.CancelRefund("cancelled by the POS") {
		t.Error("an approved refund was said to be cancelled")
	}
	till.RefundDone(ask, "refunded")

	go func() {
		_, err := till.AskRefund(t.Context(), RefundAsk{Order: "B"})
		done <- err
	}()
	<-asks
	if !till.CancelRefund("cancelled by the POS") {
		t.Error("a refund waiting for the PIN was not withdrawn")
	}
	if err := <-done; !errors.Is(err, ErrRefundDeclined) {
		t.Errorf("withdrawn: %v", err)
	}
	if _, err := till.Start(payment.CreateRequest{}, "", false); errors.Is(err, ErrBusy) {
		t.Error("the till stays busy after the refunds")
	}
}
