package payment

// Awaiting payment: the QR shows while the gateway is polled (fast, slow
// or backed off) and each of its records is applied.

import (
	"context"
	"errors"
	"time"
)

// await follows an order whose QR is showing until it is final.
func (o *Order) await(ctx context.Context) error {
	deadline := o.cfg.Clock.NewTimer(o.Snapshot().Deadline.Sub(o.cfg.Clock.Now()))
	defer deadline.Stop()
	for {
		poll := o.cfg.Clock.NewTimer(o.pollInterval())
		select {
		case <-ctx.Done():
			poll.Stop()
			return ctx.Err()
		case <-deadline.C():
			poll.Stop()
			if o.cpm() {
				return o.finish(ctx, StateFailed, "", cpmNotConfirmed)
			}
			return o.finish(ctx, StateExpired, "", "")
		case <-o.cancel:
			poll.Stop()
			return o.finish(ctx, StateCancelled, "", "")
		case t := <-o.push:
			poll.Stop()
			if !o.onPush(t) {
				continue
			}
		case up := <-o.link:
			poll.Stop()
			if !o.onLink(up) {
				continue
			}
			// Reconnected: anything missed while down is found by one
			// query at once.
		case <-poll.C():
		}
		if done, err := o.poll(ctx); done || err != nil {
			return err
		}
		if o.cancelAsked {
			return o.finish(ctx, StateCancelled, "", "")
		}
	}
}

// pollInterval is the wait before the next query: a safety poll while push
// is healthy, else fast for the QR's first minute and steady after; never
// closer than the gateway's rate limit allows.
func (o *Order) pollInterval() time.Duration {
	o.mu.Lock()
	up := o.snap.PushUp
	o.mu.Unlock()
	d := o.cfg.PollSteady
	switch {
	case o.cpm():
		d = o.cfg.PollCPM
	case o.pushSaid != OutcomeUnknown:
		d = o.cfg.PollFast // until the gateway confirms what a push said
	case up && o.pollFails == 0:
		d = o.cfg.PollSlow
	case o.cfg.Clock.Now().Sub(o.shownAt) < o.cfg.PollFastFor:
		d = o.cfg.PollFast
	}
	return max(d, o.rateBackoff)
}

// maxRateBackoff caps how far apart polls go while the gateway answers 429.
const maxRateBackoff = time.Minute

// onLink records a push link change; it reports a reconnect.
func (o *Order) onLink(up bool) (reconnected bool) {
	o.mu.Lock()
	was := o.snap.PushUp
	o.mu.Unlock()
	if up == was {
		return false
	}
	kind := EventPushDown
	if up {
		kind = EventPushUp
	}
	o.update(kind, func(s *Snapshot) { s.PushUp = up })
	return up
}

// poll queries the gateway once; done reports a final state.
func (o *Order) poll(ctx context.Context) (done bool, err error) {
	var txn *Transaction
	err = o.call(ctx, func(cctx context.Context) error {
		var err error
		txn, err = o.cfg.Gateway.QueryOrder(cctx, o.ref())
		return err
	})
	if ctx.Err() != nil {
		return true, err
	}
	if errors.Is(err, ErrRateLimited) {
		// The gateway answers, but the merchant's kiosks ask too often:
		// ask less often until it answers again.
		o.rateBackoff = min(max(2*o.rateBackoff, 2*o.cfg.PollFast), maxRateBackoff)
		o.log.Warn("gateway rate limit reached; polling less often", "next_poll_in", o.rateBackoff)
		return false, nil
	}
	o.rateBackoff = 0
	if errors.Is(err, ErrNotFound) {
		// The gateway answered: it has no such order (yet). Only the
		// final query and the create's resolution act on that.
		o.log.Info("poll: the gateway has no such order", "err", err)
		return false, nil
	}
	if err != nil {
		o.pollFails++
		o.log.Warn("poll failed", "attempt", o.pollFails, "err", err)
		if o.pollFails == failingPollStreak {
			o.update(EventGatewayUnreachable, func(s *Snapshot) { s.GatewayUnreachable = true })
		}
		return false, nil
	}
	if o.pollFails >= failingPollStreak {
		o.update(EventGatewayReachable, func(s *Snapshot) { s.GatewayUnreachable = false })
	}
	o.pollFails = 0
	return o.apply(txn, "poll")
}

// apply acts on a gateway record of this order; done reports a final state.
func (o *Order) apply(t *Transaction, source string) (done bool, err error) {
	if !o.matches(t, source) {
		return false, nil
	}
	source = o.answered(t, source)
	if o.Snapshot().SysSN == "" {
		// Found by a query or a push before any answer named it (a lost
		// create or charge answer): a refund needs it.
		o.setSysSN(t.SysSN)
	}
	if o.cpm() && o.state() == StateCreating {
		o.accepted(t) // found after an unknown outcome or a restart
	}
	if o.cpm() && t.Outcome() == OutcomePending && !o.Snapshot().Confirming {
		o.update(EventConfirming, func(s *Snapshot) { s.Confirming = true })
	}
	switch t.Outcome() {
	case OutcomePaid:
		o.paid(t, source)
		return true, errPaid
	case OutcomeFailed:
		o.fail(failureReason(t), t.Code)
		return true, nil
	case OutcomeExpired:
		// Run out or closed at the gateway: its QR (or the payment on the
		// customer's phone) can no longer be paid.
		o.withdrawn = true
		if o.cpm() {
			o.fail(cpmNotConfirmed, t.Code)
			return true, nil
		}
		o.final(StateExpired, "", "")
		return true, nil
	case OutcomeClosed:
		o.withdrawn = true
		o.final(StateCancelled, t.Code, "The order was withdrawn at the gateway.")
		return true, nil
	}
	return false, nil
}

// failureReason is the cashier's sentence for a failed record: the
// gateway's words for its code, else its message.
func failureReason(t *Transaction) string {
	if t.Text != "" {
		return t.Text
	}
	if t.ErrMsg != "" {
		return t.ErrMsg
	}
	return "The payment did not go through (" + string(t.Code) + ")."
}

// matches checks that a record is for this order and this amount. One that
// is not changes nothing and is logged as suspicious.
func (o *Order) matches(t *Transaction, source string) bool {
	if t.Kind != "" && t.Kind != TxnPayment {
		return false
	}
	switch {
	case t.OutTradeNo != o.req.OutTradeNo:
		o.log.Warn("suspicious record ignored: out_trade_no does not match", "source", source, "got_out_trade_no", t.OutTradeNo, "syssn", t.SysSN)
		return false
	case t.TxAmt != o.req.Amount.Minor:
		o.log.Warn("suspicious record ignored: amount does not match", "source", source, "got_txamt", t.TxAmt, "want_txamt", o.req.Amount.Minor, "syssn", t.SysSN)
		return false
	case t.Currency != "" && t.Currency != o.req.Amount.Currency.Code:
		o.log.Warn("suspicious record ignored: currency does not match", "source", source, "got_txcurrcd", t.Currency, "syssn", t.SysSN)
		return false
	}
	if sys := o.Snapshot().SysSN; sys != "" && t.SysSN != "" && t.SysSN != sys {
		o.log.Warn("suspicious record ignored: syssn does not match", "source", source, "got_syssn", t.SysSN, "syssn", sys)
		return false
	}
	return true
}
