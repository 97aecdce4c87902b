package kiosk

import (
	"context"
	"errors"
	"fmt"
	"time"

	"qrkiosk/payment"
)

// ErrRefundDeclined: the cashier declined a refund the POS asked for, or
// nobody entered the manager PIN in time; nothing was refunded.
var ErrRefundDeclined = errors.New("refund not approved at the kiosk")

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

// refundState is a refund ask as the till keeps it until it is over.
type refundState struct {
	RefundAsk
	decided chan error // buffered; written once, when done is set
	done    bool       // decided (approved, declined, withdrawn or timed out), under t.mu
}

// decide settles r with err (nil: approved) unless it is settled already;
// it reports whether this was the decision.
func (t *Till) decide(r *refundState, err error) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.refund != r || r.done {
		return false
	}
	r.done = true
	r.decided <- err
	return true
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
		// Nobody in time, unless a decision came first: then it is
		// waiting in decided.
		t.decide(r, fmt.Errorf("%w: nobody entered the manager PIN in time", ErrRefundDeclined))
		err = <-r.decided
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
	t.decide(r, err)
}

// CancelRefund withdraws a refund ask not yet decided (the POS's
// cancel_request); it reports whether it did. A refund the manager already
// approved goes on: the POS is not told it was cancelled.
func (t *Till) CancelRefund(why string) bool {
	t.mu.Lock()
	r := t.refund
	t.mu.Unlock()
	return r != nil && t.decide(r, fmt.Errorf("%w: %s", ErrRefundDeclined, why))
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
