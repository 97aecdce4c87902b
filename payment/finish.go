package payment

// Finishing: withdrawing an unpaid order and deciding by a final query,
// the final states, and the watch for a late payment afterwards.

import (
	"context"
	"errors"
	"time"
)

// finish ends an order that is not paid: ask once more, withdraw it where
// the wallet allows, and decide by a final query. If the customer paid in
// the meantime, the order ends Paid whatever was asked.
func (o *Order) finish(ctx context.Context, want State, code Code, reason string) error {
	o.update(EventCancelling, func(s *Snapshot) { s.Cancelling = true })
	if done, err := o.poll(ctx); done || err != nil {
		return err
	}
	ref := o.ref()
	err := o.call(ctx, func(cctx context.Context) error { return o.cfg.Gateway.CancelOrder(cctx, ref) })
	withdrawn := err == nil
	switch {
	case ctx.Err() != nil:
		return err
	case errors.Is(err, ErrCancelUnsupported):
		o.payableUntil = o.gatewayExpiry()
		o.log.Info("wallet has no cancel; the QR stays payable at the gateway until it expires there", "pay_type", o.req.PayType.Code, "payable_until", o.payableUntil)
	case err != nil:
		o.log.Warn("withdrawing the order failed; the final query decides", "err", err)
	}
	var txn *Transaction
	for attempt := 1; ; attempt++ {
		err = o.call(ctx, func(cctx context.Context) error {
			var err error
			txn, err = o.cfg.Gateway.QueryOrder(cctx, o.ref())
			return err
		})
		if ctx.Err() != nil {
			return err
		}
		if err == nil || errors.Is(err, ErrNotFound) || attempt == 3 {
			break
		}
		if err := o.wait(ctx, o.cfg.SettleRetry); err != nil {
			return err
		}
	}
	switch {
	case err == nil && o.matches(txn, "final query"):
		switch txn.Outcome() {
		case OutcomePaid:
			o.paid(txn, "final query")
			return errPaid
		case OutcomeFailed:
			o.fail(failureReason(txn), txn.Code)
			return nil
		case OutcomeExpired:
			withdrawn = true // run out at the gateway: nobody can pay it now
			if !o.cpm() {
				want = StateExpired
			}
		case OutcomeClosed:
			withdrawn = true // by our withdrawal or on the gateway's own
		case OutcomePending:
			withdrawn = false // the withdrawal is still in progress
			o.stillOpen()
		}
		// Closed by our own withdrawal, or still pending on a wallet without
		// cancel: the kiosk stops offering it, and a late payment still
		// turns it Paid.
	case err == nil:
	case errors.Is(err, ErrNotFound):
		// Nothing at the gateway: nothing to charge.
	default:
		o.log.Warn("could not confirm the final state with the gateway; will keep checking", "err", err)
		o.unconfirmed = true
	}
	o.withdrawn = withdrawn
	if reason == cpmNotConfirmed && !withdrawn {
		reason = cpmNotConfirmedOpen
	}
	o.final(want, code, reason)
	return nil
}

// gatewayExpiry is when the gateway stops taking payment for the QR of a
// wallet without cancel: the kiosk's expiry where the gateway honours it,
// else the gateway's own (zero when not known).
func (o *Order) gatewayExpiry() time.Time {
	switch {
	case o.req.PayType.HonoursExpiry:
		return o.req.TxTime.Add(o.req.Expiry)
	case o.cfg.GatewayExpiry > 0:
		return o.req.TxTime.Add(o.cfg.GatewayExpiry)
	}
	return time.Time{}
}

// stillOpen notes that the gateway still holds the order payable although
// the kiosk stopped offering it: it is queried for LatePoll more (never
// past the time the gateway stops taking payment for it, when known).
func (o *Order) stillOpen() {
	if o.openUntil.IsZero() {
		o.openUntil = o.cfg.Clock.Now().Add(o.cfg.LatePoll)
		if !o.payableUntil.IsZero() && o.payableUntil.Before(o.openUntil) {
			o.openUntil = o.payableUntil
		}
		o.log.Info("the order stays payable at the gateway; watching for a late payment", "until", o.openUntil)
	}
}

func (o *Order) final(st State, code Code, reason string) {
	if o.state().Final() {
		return
	}
	o.update(finalKind(st), func(s *Snapshot) {
		s.State, s.Code, s.Reason, s.Cancelling, s.ConfirmingPaid = st, code, reason, false, false
		s.Withdrawn, s.PayableUntil = o.withdrawn, o.payableUntil
		s.NotConfirmed = reason == cpmNotConfirmed || reason == cpmNotConfirmedOpen
	})
	close(o.done)
	o.log.Info("order final", "state", st, "respcd", code)
}

func (o *Order) fail(reason string, code Code) { o.final(StateFailed, code, reason) }

// paid ends the order Paid on the gateway's record t, whose code the
// order keeps.
func (o *Order) paid(t *Transaction, source string) {
	if o.state().Final() {
		o.paidLate(t, source)
		return
	}
	o.final(StatePaid, t.Code, "")
	o.log.Info("order paid", "source", source)
}

// paidLate turns an Expired or Cancelled order into Paid: the gateway's
// record wins over what the screen showed, and the cashier must be told.
func (o *Order) paidLate(t *Transaction, source string) {
	if o.state() == StatePaid {
		return
	}
	o.update(EventPaidLate, func(s *Snapshot) {
		s.State, s.Code, s.Reason, s.Late, s.Cancelling = StatePaid, t.Code, "", true, false
	})
	o.log.Warn("order paid after the kiosk stopped offering it", "source", source)
}

// afterFinal keeps listening once the order is final: a late push proves a
// late payment, an unconfirmed result is checked until the gateway
// answers, and an order still payable at the gateway is queried for
// LatePoll. It ends when ctx does, once the order is Paid, or after
// LateWatch once the result is confirmed: a kiosk that runs for weeks does
// not keep a goroutine and a relay subscription for every sale.
func (o *Order) afterFinal(ctx context.Context) {
	watch := o.cfg.Clock.NewTimer(o.cfg.LateWatch)
	defer watch.Stop()
	watching := watch.C()
	for {
		if o.state() == StatePaid || (watching == nil && !o.unconfirmed) {
			return
		}
		var retry <-chan time.Time
		var t Timer
		switch {
		case o.unconfirmed:
			t = o.cfg.Clock.NewTimer(o.cfg.SettleRetry)
		case o.cfg.Clock.Now().Before(o.openUntil):
			t = o.cfg.Clock.NewTimer(o.cfg.PollSlow)
		}
		if t != nil {
			retry = t.C()
		}
		select {
		case <-ctx.Done():
			if t != nil {
				t.Stop()
			}
			return
		case <-watching:
			watching = nil
		case <-o.cancel:
		case up := <-o.link:
			o.onLink(up)
		case p := <-o.push:
			if o.state() != StatePaid && p.Outcome() == OutcomePaid && o.matches(&p, "push") {
				o.confirmPaid(ctx, "push")
			}
		case <-retry:
			cctx, cancel := context.WithTimeout(ctx, o.cfg.CallTimeout)
			txn, err := o.cfg.Gateway.QueryOrder(cctx, o.ref())
			cancel()
			if err == nil || errors.Is(err, ErrNotFound) {
				o.unconfirmed = false
			}
			if err == nil && o.matches(txn, "settle") {
				switch txn.Outcome() {
				case OutcomePaid:
					o.paidLate(txn, "late query")
				case OutcomePending:
					o.stillOpen()
				default: // closed or expired at the gateway now: nothing more to watch for
					o.openUntil = time.Time{}
				}
			}
		}
		if t != nil {
			t.Stop()
		}
	}
}
