package payment_test

import (
	"context"
	"log/slog"
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
