package payment

// Pushes: a verified notification never ends an order by itself; it makes
// the machine ask the gateway, whose record decides.

import (
	"context"
)

// onPush notes a verified notification of a live order; ask reports that
// the gateway should be asked now. A push never ends an order by itself:
// the relay holds the merchant's key too, so a forged "paid" would hand
// over goods unpaid and a forged "failed" would have the cashier charge
// again. A final outcome is confirmed by query at once; a pending one
// changes nothing.
func (o *Order) onPush(t Transaction) (ask bool) {
	if !t.Outcome().Final() || !o.matches(&t, "push") {
		return false
	}
	return o.claim(t.Outcome())
}

// claim notes a final outcome a push reported, showing "confirming" for a
// payment; fresh reports a new claim (a repeat waits for the next poll, so
// a stream of pushes is not a stream of queries).
func (o *Order) claim(out Outcome) (fresh bool) {
	if out == o.pushSaid {
		return false
	}
	o.pushSaid, o.pushDoubted = out, false
	if out == OutcomePaid && o.state() == StateAwaitingPayment {
		o.update(EventConfirmingPaid, func(s *Snapshot) { s.ConfirmingPaid = true })
	}
	return true
}

// answered compares the gateway's record with what a push said, and
// returns the source to log: "push+query" when the record confirms the
// push. Once it disagrees the order waits on (the gateway's word is the
// truth), still asked every PollFast in case its records were only behind
// the push.
func (o *Order) answered(t *Transaction, source string) string {
	switch {
	case o.pushSaid == OutcomeUnknown:
		return source
	case t.Outcome() == o.pushSaid:
		return "push+query"
	case o.pushDoubted:
		return source
	}
	o.pushDoubted = true
	o.log.Warn("a push disagreed with the gateway; the gateway's record decides", "push_said", o.pushSaid, "gateway_says", t.Outcome(), "respcd", t.Code)
	if !t.Outcome().Final() && o.Snapshot().ConfirmingPaid {
		o.update(EventPushDisputed, func(s *Snapshot) { s.ConfirmingPaid = false })
	}
	return source
}

// pushDuringCall notes a push that comes while a gateway call is out; the
// call goes on, and a query (this one's, the next poll's, the late
// watch's) decides.
func (o *Order) pushDuringCall(t Transaction) {
	switch st := o.state(); {
	case st == StatePaid:
	case st.Final():
		if t.Outcome() == OutcomePaid && o.matches(&t, "push") {
			o.unconfirmed = true // the late watch confirms it by query
		}
	case st == StateCreating:
		if t.Outcome() == OutcomePaid && o.matches(&t, "push") {
			// Said paid before the create's answer is in: the order is
			// shown first (the journal and the CLI's "created" line need
			// its syssn), then the gateway is asked at once.
			o.earlyPaid = true
		}
	default:
		o.onPush(t)
	}
}

// confirmPaid asks the gateway whether an order shown final that a push
// says is paid really is; a paid record turns it Paid late.
func (o *Order) confirmPaid(ctx context.Context, source string) {
	cctx, cancel := context.WithTimeout(ctx, o.cfg.CallTimeout)
	defer cancel()
	txn, err := o.cfg.Gateway.QueryOrder(cctx, o.ref())
	if err != nil {
		o.log.Warn("could not confirm a push that says paid; the late watch asks again", "source", source, "err", err)
		o.unconfirmed = true
		return
	}
	if !o.matches(txn, source) || txn.Outcome() != OutcomePaid {
		o.log.Warn("a push said paid but the gateway's record does not", "source", source, "outcome", txn.Outcome(), "cancel", txn.Cancel)
		return
	}
	o.paid(txn, source)
}
