package kiosk

import (
	"errors"

	"qrkiosk/payment"
)

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
	// PayType is the scanned-code pay type the POS's channel names (zero:
	// the pane's own, the gateway's all-in-one).
	PayType payment.PayType
}

// codeWait is a wait as the till keeps it, with how it ended.
type codeWait struct {
	Wait
	done   chan struct{}
	sale   Sale
	err    error
	closed bool
	// claimed: a scanned code took the wait (Start); only Start may end
	// it now, with its sale or its failure. Under t.mu.
	claimed bool
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

// endWait ends w without a sale, unless it has ended or a scanned code
// has taken it; it reports whether it ended it.
func (t *Till) endWait(w *codeWait, err error) bool {
	return t.closeWait(w, err, false)
}

// closeWait ends w with err; byStart is Start's own failure, which may
// end a wait it claimed.
func (t *Till) closeWait(w *codeWait, err error, byStart bool) bool {
	t.mu.Lock()
	if w.closed || (w.claimed && !byStart) {
		t.mu.Unlock()
		return false
	}
	w.closed, w.err = true, err
	if t.wait == w {
		t.wait = nil
	}
	close(w.done)
	t.mu.Unlock()
	t.send(TillEvent{Kind: TillWaitEnded, Wait: w.Wait, Why: err.Error()})
	return true
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
