package payment

// Customer-presented payments: the scanned code is charged once, then
// followed like an order while the customer confirms on the phone.

import (
	"context"
	"errors"
)

// Reasons a customer-presented payment fails, for the cashier.
const (
	cpmNotConfirmed     = "The customer did not confirm the payment on the phone within 2 minutes; it was withdrawn and nothing was charged. Please charge again."
	cpmNotConfirmedOpen = "The customer did not confirm the payment on the phone within 2 minutes and the gateway cannot withdraw it: if the customer confirms it now, it shows as paid late. Please charge again."
	cpmNotSent          = "The payment never reached the gateway; nothing was charged. Please scan the code again."
)

// liveCPM takes a customer-presented payment to a final state. The code is
// charged once and never again (it may already be spent); a "confirming"
// (pending) answer is followed by a query every PollCPM; an unknown
// outcome is settled by query; one still unconfirmed after
// CPMConfirmWindow is withdrawn (reversal for Alipay, close for WeChat)
// and fails, so the cashier charges again. A restart resumes it the same
// way, without charging.
func (o *Order) liveCPM(ctx context.Context) error {
	if !o.cfg.Resume {
		g, ok := o.cfg.Gateway.(CPMGateway)
		if !ok {
			o.fail("This gateway cannot charge a scanned payment code.", "")
			return nil
		}
		var txn *Transaction
		err := o.call(ctx, func(cctx context.Context) error {
			var err error
			txn, err = g.ChargeCPM(cctx, o.req)
			return err
		})
		var fe *FieldError
		var ge *Error
		switch {
		case ctx.Err() != nil:
			return err
		case err == nil:
			if done, err := o.apply(txn, "charge"); done || err != nil {
				return err
			}
		case o.earlyPaid:
			// A push said paid: the gateway's record decides, not this
			// answer (an error can come after the payment went through).
			o.log.Warn("charge answered an error after a push said paid; asking the gateway", "err", err)
		case errors.As(err, &fe):
			o.fail(err.Error(), "")
			return nil
		case errors.As(err, &ge):
			o.fail(failureReason(&Transaction{Code: ge.Code, Text: ge.Text, ErrMsg: ge.Message}), ge.Code)
			return nil
		case errors.Is(err, ErrNotSent):
			o.fail(cpmNotSent, "")
			return nil
		default:
			o.log.Warn("outcome of the scanned code unknown; asking the gateway (never charging it again)", "err", err)
			o.update(EventChecking, func(s *Snapshot) { s.Reason = "Checking the payment with the gateway…" })
		}
	}
	if o.earlyPaid {
		o.claim(OutcomePaid)
	}
	if o.cancelAsked {
		return o.finish(ctx, StateCancelled, "", "")
	}
	if o.cfg.Resume || o.earlyPaid || o.state() == StateCreating {
		if done, err := o.poll(ctx); done || err != nil {
			return err
		}
	}
	return o.await(ctx)
}

// accepted shows a customer-presented payment the gateway holds.
func (o *Order) accepted(t *Transaction) {
	o.shownAt = o.cfg.Clock.Now()
	o.update(EventCreated, func(s *Snapshot) {
		s.SysSN, s.State, s.Reason = t.SysSN, StateAwaitingPayment, ""
	})
}
