package kiosk

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"qrkiosk/payment"
)

// ErrBusy: the till has a sale live, waits for a customer's code, holds for
// the start-up recovery or waits for the manager on a refund: never two at
// once. The error's text says which, for the cashier or the POS.
var ErrBusy = errors.New("the kiosk is busy")

// StartFunc records an order and starts its machine (Kiosk.Start); observe
// gets every event of the order on the machine's goroutine.
type StartFunc func(req payment.CreateRequest, observe func(payment.Event)) (*payment.Order, error)

// Sale is a sale the till started: its order, and the POS's reference when
// the POS drove it.
type Sale struct {
	Order *payment.Order
	// POSRef is the POS's out_trade_no as it sent it ("" for the
	// cashier's own sale, or a POS sale that sent none).
	POSRef string
	// FromPOS: the POS drove this sale.
	FromPOS bool
}

// TillEventKind names a change of the till.
type TillEventKind int

const (
	// TillSaleStarted: a sale started (Sale); it is the live sale.
	TillSaleStarted TillEventKind = iota + 1
	// TillOrderEvent: an order the till started changed (Sale, Event):
	// the live one, or an earlier one paid late.
	TillOrderEvent
	// TillWaiting: the till waits for a customer's code (Wait).
	TillWaiting
	// TillWaitEnded: the wait ended without a sale (Wait, Why).
	TillWaitEnded
	// TillRefundAsked: the POS asks for a refund (Refund); the cashier
	// pane asks for the manager PIN and calls DecideRefund.
	TillRefundAsked
	// TillRefundEnded: the ask was declined, timed out or withdrawn, or
	// the refund it approved is over (Refund, Why: what became of it).
	TillRefundEnded
	// TillHeld and TillReleased: charging waits for the start-up
	// recovery (Why), and no longer does.
	TillHeld
	TillReleased
)

// TillEvent is one change of the till, delivered to observers in order.
type TillEvent struct {
	Kind   TillEventKind
	Sale   Sale
	Event  payment.Event
	Wait   Wait
	Refund RefundAsk
	Why    string
}

// Till is the kiosk's one till: at most one live sale, whether the cashier
// rang it up (keypad, scanner) or the POS sent it, and the waits that stand
// for one — a customer's code to be scanned, a refund the POS asked for
// that needs the manager PIN. The cashier pane observes it and shows what
// it reports; the POS endpoint drives it. Its methods are safe from any
// goroutine; observers are called in order, on the goroutine of the
// change, and must not call the till themselves (hand the event off).
type Till struct {
	start StartFunc
	log   *slog.Logger

	emit      sync.Mutex // observers see events in the order they happened
	mu        sync.Mutex
	live      *Sale
	wait      *codeWait
	refund    *refundState
	holding   string
	nextID    uint64
	observers map[uint64]func(TillEvent)
}

// NewTill is a till that starts its orders with start.
func NewTill(start StartFunc, log *slog.Logger) *Till {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Till{start: start, log: log, observers: map[uint64]func(TillEvent){}}
}

// Observe registers fn for every later event; stop unregisters it.
func (t *Till) Observe(fn func(TillEvent)) (stop func()) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.nextID++
	id := t.nextID
	t.observers[id] = fn
	return func() {
		t.mu.Lock()
		defer t.mu.Unlock()
		delete(t.observers, id)
	}
}

// send delivers ev to the observers. Called without t.mu held.
func (t *Till) send(ev TillEvent) {
	t.emit.Lock()
	defer t.emit.Unlock()
	t.mu.Lock()
	fns := make([]func(TillEvent), 0, len(t.observers))
	for _, fn := range t.observers {
		fns = append(fns, fn)
	}
	t.mu.Unlock()
	for _, fn := range fns {
		fn(ev)
	}
}

// busyLocked says why the till cannot take a new sale now ("" = it can).
func (t *Till) busyLocked() error {
	switch {
	case t.holding != "":
		return fmt.Errorf("%w: %s", ErrBusy, t.holding)
	case t.live != nil && t.live.Order == nil:
		return fmt.Errorf("%w: a sale is being started", ErrBusy)
	case t.live != nil:
		s := t.live.Order.Snapshot()
		return fmt.Errorf("%w: a sale of %s is in progress (%s)", ErrBusy, s.Amount.Display(), s.OutTradeNo)
	case t.wait != nil:
		return fmt.Errorf("%w: the kiosk is waiting for the customer's payment code for %s", ErrBusy, t.wait.Amount.Display())
	case t.refund != nil:
		return fmt.Errorf("%w: a refund waits for the manager PIN at the kiosk", ErrBusy)
	}
	return nil
}

// Live is the live sale, if there is one.
func (t *Till) Live() (Sale, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.live == nil || t.live.Order == nil { // nil: still being recorded
		return Sale{}, false
	}
	return *t.live, true
}

// Waiting is the wait for a customer's code, if there is one.
func (t *Till) Waiting() (Wait, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.wait == nil {
		return Wait{}, false
	}
	return t.wait.Wait, true
}

// Hold stops new sales (the start-up recovery runs; reason says so) until
// Release or Resume.
func (t *Till) Hold(reason string) {
	t.mu.Lock()
	t.holding = reason
	t.mu.Unlock()
	t.send(TillEvent{Kind: TillHeld, Why: reason})
}

// Release lets sales start again after Hold.
func (t *Till) Release() {
	t.mu.Lock()
	was := t.holding
	t.holding = ""
	t.mu.Unlock()
	if was != "" {
		t.send(TillEvent{Kind: TillReleased})
	}
}

// Start rings up a sale: records it and starts its order, unless the till
// is busy (ErrBusy: nothing was recorded or sent). pos is the POS's
// reference when the POS drives the sale (fromPOS). A scanned code
// (req.AuthCode) while the till waits for one ends the wait: the sale
// takes the wait's amount and, for the POS's wait, its out_trade_no and
// reference.
func (t *Till) Start(req payment.CreateRequest, posRef string, fromPOS bool) (Sale, error) {
	t.mu.Lock()
	var w *codeWait
	if req.AuthCode != "" && t.wait != nil && t.live == nil && t.holding == "" {
		w = t.wait
		w.claimed = true // no Cancel or EndWait ends it from here on
		req.Amount = w.Amount
		if w.PayType.Code != "" {
			req.PayType = w.PayType
		}
		if w.FromPOS {
			posRef, fromPOS = w.POSRef, true
			if w.OutTradeNo != "" {
				req.OutTradeNo = w.OutTradeNo
			}
		}
	} else if err := t.busyLocked(); err != nil {
		t.mu.Unlock()
		return Sale{}, err
	}
	// Claimed before the order starts (the lock cannot be held across the
	// journal write): another Start sees the till busy.
	sale := &Sale{POSRef: posRef, FromPOS: fromPOS}
	t.live = sale
	t.wait = nil
	t.mu.Unlock()

	var events []payment.Event
	var ready bool
	var mu sync.Mutex
	o, err := t.start(req, func(ev payment.Event) {
		// Events before the sale is announced are replayed after it.
		mu.Lock()
		if !ready {
			events = append(events, ev)
			mu.Unlock()
			return
		}
		mu.Unlock()
		t.onOrderEvent(sale, ev)
	})
	if err != nil {
		t.mu.Lock()
		if t.live == sale {
			t.live = nil
		}
		t.mu.Unlock()
		if w != nil {
			t.closeWait(w, fmt.Errorf("the sale could not be recorded, so nothing was charged: %w", err), true)
		}
		return Sale{}, err
	}
	t.mu.Lock()
	sale.Order = o
	t.mu.Unlock()
	if w != nil {
		t.finishWait(w, *sale)
	}
	t.send(TillEvent{Kind: TillSaleStarted, Sale: *sale})
	mu.Lock()
	early := events
	ready = true
	mu.Unlock()
	for _, ev := range early {
		t.onOrderEvent(sale, ev)
	}
	t.log.Info("till: sale started", "out_trade_no", o.Snapshot().OutTradeNo, "from_pos", fromPOS, "pos_ref", posRef)
	return *sale, nil
}

// Resume makes an order the start-up recovery resumed the live sale again
// (its QR back on the screens) and releases the hold.
func (t *Till) Resume(o *payment.Order, posRef string, fromPOS bool) Sale {
	sale := &Sale{Order: o, POSRef: posRef, FromPOS: fromPOS}
	t.mu.Lock()
	t.live = sale
	t.holding = ""
	t.mu.Unlock()
	o.Observe(func(ev payment.Event) { t.onOrderEvent(sale, ev) })
	t.send(TillEvent{Kind: TillSaleStarted, Sale: *sale})
	// The order may have ended before it was observed.
	if s := o.Snapshot(); s.State.Final() {
		t.onOrderEvent(sale, payment.Event{Snapshot: s, Kind: "resumed"})
	}
	return *sale
}

// onOrderEvent passes an order's event on; a final state frees the till.
func (t *Till) onOrderEvent(sale *Sale, ev payment.Event) {
	if ev.State.Final() {
		t.mu.Lock()
		if t.live == sale {
			t.live = nil
		}
		t.mu.Unlock()
	}
	t.send(TillEvent{Kind: TillOrderEvent, Sale: *sale, Event: ev})
}

// Cancel withdraws the live sale, or ends the wait for a code; it reports
// whether there was either. fromPOS restricts it to what the POS started
// (the POS's cancel_request never stops the cashier's own sale).
func (t *Till) Cancel(why string, fromPOS bool) bool {
	t.mu.Lock()
	live, w := t.live, t.wait
	t.mu.Unlock()
	switch {
	case live != nil && live.Order != nil && (!fromPOS || live.FromPOS):
		live.Order.Cancel()
		return true
	case w != nil && (!fromPOS || w.FromPOS):
		// false when a scanned code took the wait meanwhile: its sale
		// goes on, and whoever waited learns its outcome.
		return t.endWait(w, errors.New(why))
	}
	return false
}
