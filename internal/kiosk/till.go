package kiosk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"qrkiosk/payment"
)

// ErrBusy: the till has a sale live, waits for a customer's code, holds for
// the start-up recovery or waits for the manager on a refund: never two at
// once. The error's text says which, for the cashier or the POS.
var ErrBusy = errors.New("the kiosk is busy")

// ErrRefundDeclined: the cashier declined a refund the POS asked for, or
// nobody entered the manager PIN in time; nothing was refunded.
var ErrRefundDeclined = errors.New("refund not approved at the kiosk")

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

// Wait is the till waiting for the customer's payment code, for an amount:
// the cashier pressed "Scan customer code", or the POS sent a SCAN_PAY
// sale. A code scanned meanwhile is charged for this amount.
type Wait struct {
	ID     uint64
	Amount payment.Amount
	// POSRef, OutTradeNo and FromPOS come from the POS: the sale it
	// becomes carries its out_trade_no.
	POSRef     string
	OutTradeNo string
	FromPOS    bool
}

// RefundAsk is a refund the POS asks for, waiting for the manager PIN at
// the kiosk before any money moves.
type RefundAsk struct {
	ID     uint64
	Order  string         // the payment's out_trade_no in the journal
	SysSN  string         // the payment's syssn (the POS's orderId)
	Amount payment.Amount // what is to be given back
	PaidAt time.Time
	// POSRef is the POS's reference of the payment ("" when the kiosk
	// rang it up itself).
	POSRef string
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

type codeWait struct {
	Wait
	done   chan struct{}
	sale   Sale
	err    error
	closed bool
}

type refundState struct {
	RefundAsk
	decided chan error // buffered: the first decision wins
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
		req.Amount = w.Amount
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
			t.endWait(w, fmt.Errorf("the sale could not be recorded, so nothing was charged: %w", err))
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
		t.endWait(w, errors.New(why))
		return true
	}
	return false
}

// AskForCode makes the till wait for the customer's payment code for w's
// amount, unless it is busy. The ticket tells the caller how the wait
// ended: a sale (the code was scanned) or why not.
func (t *Till) AskForCode(w Wait) (*WaitTicket, error) {
	t.mu.Lock()
	if err := t.busyLocked(); err != nil {
		t.mu.Unlock()
		return nil, err
	}
	t.nextID++
	w.ID = t.nextID
	ws := &codeWait{Wait: w, done: make(chan struct{})}
	t.wait = ws
	t.mu.Unlock()
	t.send(TillEvent{Kind: TillWaiting, Wait: w})
	return &WaitTicket{w: ws}, nil
}

// EndWait stops waiting for a code (the cashier's Cancel, the POS's
// cancel_request, the POS's timeout); why is told to whoever asked.
func (t *Till) EndWait(id uint64, why string) {
	t.mu.Lock()
	w := t.wait
	t.mu.Unlock()
	if w != nil && w.ID == id {
		t.endWait(w, errors.New(why))
	}
}

func (t *Till) endWait(w *codeWait, err error) {
	t.mu.Lock()
	if w.closed {
		t.mu.Unlock()
		return
	}
	w.closed, w.err = true, err
	if t.wait == w {
		t.wait = nil
	}
	close(w.done)
	t.mu.Unlock()
	t.send(TillEvent{Kind: TillWaitEnded, Wait: w.Wait, Why: err.Error()})
}

func (t *Till) finishWait(w *codeWait, s Sale) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !w.closed {
		w.closed, w.sale = true, s
		close(w.done)
	}
}

// WaitTicket is how a wait for a customer's code ended.
type WaitTicket struct{ w *codeWait }

// ID names the wait (Till.EndWait).
func (tk *WaitTicket) ID() uint64 { return tk.w.ID }

// Done is closed when the wait has ended.
func (tk *WaitTicket) Done() <-chan struct{} { return tk.w.done }

// Result is the sale the scanned code started, or why there was none; only
// after Done.
func (tk *WaitTicket) Result() (Sale, error) {
	<-tk.w.done
	return tk.w.sale, tk.w.err
}

// AskRefund shows the POS's refund on the cashier pane and waits until the
// cashier approves it with the manager PIN (nil), declines it
// (ErrRefundDeclined), or ctx ends (nobody at the counter: declined too).
// Nothing is refunded here: the caller refunds after an approval and then
// calls RefundDone. The till takes no sale meanwhile.
func (t *Till) AskRefund(ctx context.Context, ask RefundAsk) (RefundAsk, error) {
	t.mu.Lock()
	if err := t.busyLocked(); err != nil {
		t.mu.Unlock()
		return ask, err
	}
	t.nextID++
	ask.ID = t.nextID
	r := &refundState{RefundAsk: ask, decided: make(chan error, 1)}
	t.refund = r
	t.mu.Unlock()
	t.send(TillEvent{Kind: TillRefundAsked, Refund: ask})
	var err error
	select {
	case err = <-r.decided:
	case <-ctx.Done():
		err = fmt.Errorf("%w: nobody entered the manager PIN in time", ErrRefundDeclined)
	}
	if err != nil {
		t.endRefund(r, err.Error())
	}
	return ask, err
}

// DecideRefund is the cashier's answer to a refund ask: approved after the
// manager PIN was checked, or declined (why says so).
func (t *Till) DecideRefund(id uint64, approved bool, why string) {
	t.mu.Lock()
	r := t.refund
	t.mu.Unlock()
	if r == nil || r.ID != id {
		return
	}
	var err error
	if !approved {
		err = fmt.Errorf("%w: %s", ErrRefundDeclined, why)
	}
	select {
	case r.decided <- err:
	default:
	}
}

// CancelRefund withdraws a refund ask not yet decided (the POS's
// cancel_request); it reports whether there was one.
func (t *Till) CancelRefund(why string) bool {
	t.mu.Lock()
	r := t.refund
	t.mu.Unlock()
	if r == nil {
		return false
	}
	select {
	case r.decided <- fmt.Errorf("%w: %s", ErrRefundDeclined, why):
	default:
	}
	return true
}

// RefundDone frees the till after an approved refund, telling the pane what
// became of it.
func (t *Till) RefundDone(ask RefundAsk, outcome string) {
	t.mu.Lock()
	r := t.refund
	t.mu.Unlock()
	if r != nil && r.ID == ask.ID {
		t.endRefund(r, outcome)
	}
}

func (t *Till) endRefund(r *refundState, why string) {
	t.mu.Lock()
	if t.refund != r {
		t.mu.Unlock()
		return
	}
	t.refund = nil
	t.mu.Unlock()
	t.send(TillEvent{Kind: TillRefundEnded, Refund: r.RefundAsk, Why: why})
}
