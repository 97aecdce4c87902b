package payment

// Creating an order: the create call, settling a create whose outcome is
// unknown by query, and replacing an order whose QR was lost.

import (
	"context"
	"errors"
)

// live takes the order from creation to a final state.
func (o *Order) live(ctx context.Context) error {
	if o.cpm() {
		return o.liveCPM(ctx)
	}
	var created *Created
	var err error
	switch {
	case o.cfg.Resume && o.cfg.Known != nil:
		created = o.cfg.Known
		o.log.Info("resuming order after a restart", "syssn", created.SysSN)
	case o.cfg.Resume:
		o.log.Info("resuming order whose create outcome was not recorded; asking the gateway")
		created, err = o.resolveCreate(ctx)
	default:
		created, err = o.createOrder(ctx)
	}
	if err != nil {
		return err
	}
	if created == nil {
		return nil // already final
	}
	for created.QRCode == "" {
		// Found at the gateway after a lost create answer, but a query
		// does not give a QR back: the customer could never scan it.
		if created.Existing != nil {
			if done, err := o.apply(created.Existing, "create"); done || err != nil {
				return err
			}
		}
		if created, err = o.reissue(ctx, created); created == nil || err != nil {
			return err
		}
	}
	o.shown(created)
	if created.Existing != nil {
		if done, err := o.apply(created.Existing, "create"); done || err != nil {
			return err
		}
	}
	if o.earlyPaid {
		o.claim(OutcomePaid)
	}
	if o.cfg.Resume || o.earlyPaid {
		// Whatever happened while the kiosk was down, or what a push said
		// during the create: one query now.
		if done, err := o.poll(ctx); done || err != nil {
			return err
		}
	}
	return o.await(ctx)
}

// shown puts a created order's QR on the screens.
func (o *Order) shown(c *Created) {
	o.shownAt = o.cfg.Clock.Now()
	o.update(EventCreated, func(s *Snapshot) {
		s.SysSN, s.QRCode, s.State, s.Reason = c.SysSN, c.QRCode, StateAwaitingPayment, ""
	})
}

// maxReissues bounds how often one sale replaces a lost QR: a gateway
// that keeps losing answers gets no endless stream of orders.
const maxReissues = 2

// reissue deals with an order found at the gateway without its QR (its
// create answer was lost; a query does not give the QR back). While the
// sale is live it withdraws the order where the wallet allows — nobody
// has its QR, so nobody can pay it either way — and creates a new one for
// the same sale with a new out_trade_no, recorded first (cfg.Reissue). It
// returns the new order's creation, or nil when the sale ended.
func (o *Order) reissue(ctx context.Context, lost *Created) (*Created, error) {
	if o.cancelAsked || !o.cfg.Clock.Now().Before(o.Snapshot().Deadline) || o.reissues >= maxReissues {
		st, reason := StateExpired, ""
		switch {
		case o.cancelAsked:
			st = StateCancelled
		case o.reissues >= maxReissues:
			st, reason = StateFailed, "The gateway keeps losing its answers, so no QR code can be shown; nothing was charged. Please try again later."
		}
		o.setSysSN(lost.SysSN) // what the withdrawal and the final query name
		return nil, o.finish(ctx, st, "", reason)
	}
	o.reissues++
	old := o.req.OutTradeNo
	o.log.Warn("order found at the gateway without its QR (its create answer was lost); withdrawing it and creating a new one", "syssn", lost.SysSN)
	ref := o.ref()
	ref.SysSN = lost.SysSN
	if o.req.PayType.Cancel != CancelNone {
		err := o.call(ctx, func(cctx context.Context) error { return o.cfg.Gateway.CancelOrder(cctx, ref) })
		switch {
		case ctx.Err() != nil:
			return nil, err
		case err != nil:
			o.log.Warn("withdrawing the order whose QR was lost failed; nobody has its QR", "err", err)
		}
	}
	// The gateway's word on it before a second order: paid ends the sale.
	var txn *Transaction
	err := o.call(ctx, func(cctx context.Context) error {
		var err error
		txn, err = o.cfg.Gateway.QueryOrder(cctx, ref)
		return err
	})
	switch {
	case ctx.Err() != nil:
		return nil, err
	case err == nil && o.matches(txn, "reissue") && txn.Outcome() == OutcomePaid:
		o.setSysSN(lost.SysSN)
		o.paid(txn, "query")
		return nil, errPaid
	}
	now := o.cfg.Clock.Now()
	next := o.req
	next.OutTradeNo = NewOutTradeNo(outTradeNoPrefix(old), now)
	next.TxTime = now
	if o.cfg.Reissue != nil {
		if err := o.cfg.Reissue(next, old); err != nil {
			o.log.Error("the order replacing a lost QR could not be recorded; nothing more is sent", "err", err)
			o.fail("The QR code was lost in a network error and a new one could not be recorded; nothing was charged.", "")
			return nil, nil
		}
	}
	// What a push said of the lost order is no word on the new one.
	o.req, o.earlyPaid, o.pushSaid, o.pushDoubted = next, false, OutcomeUnknown, false
	o.log = o.cfg.Logger.With("out_trade_no", next.OutTradeNo)
	o.log.Info("new order replaces one whose QR was lost", "replaces", old)
	o.update(EventReissued, func(s *Snapshot) {
		s.Replaces, s.OutTradeNo, s.SysSN, s.QRCode, s.State, s.Reason = old, next.OutTradeNo, "", "", StateCreating, ""
		s.Created, s.Deadline = now, now.Add(next.Expiry)
	})
	return o.createOrder(ctx)
}

// setSysSN notes the gateway's id of an order that was never shown.
func (o *Order) setSysSN(syssn string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.snap.SysSN = syssn
}

// outTradeNoPrefix is the letters NewOutTradeNo put before an out_trade_no's
// time and random part ("QK").
func outTradeNoPrefix(otn string) string {
	const tail = 14 + 16 // yyyymmddhhmmss + 16 hex digits
	if len(otn) > tail {
		return otn[:len(otn)-tail]
	}
	return "QK"
}

// createOrder calls the gateway. It returns nil, nil when the order ended
// during creation (failed, or found already final).
func (o *Order) createOrder(ctx context.Context) (*Created, error) {
	var created *Created
	err := o.call(ctx, func(cctx context.Context) error {
		var err error
		created, err = o.cfg.Gateway.CreateMPM(cctx, o.req)
		return err
	})
	if ctx.Err() != nil {
		return nil, err
	}
	var fe *FieldError
	var ge *Error
	switch {
	case err == nil:
		if o.cancelAsked && created.QRCode != "" {
			// finish asks the gateway first: a customer who paid ends Paid.
			o.shown(created)
			return nil, o.finish(ctx, StateCancelled, "", "")
		}
		return created, nil
	case o.earlyPaid:
		// A push said paid, so the order may exist whatever the create
		// call says: ask the gateway.
		o.log.Warn("create failed after a push said paid; asking the gateway", "err", err)
		return o.resolveCreate(ctx)
	case errors.As(err, &fe):
		o.fail(err.Error(), "")
		return nil, nil
	case errors.As(err, &ge):
		o.fail(ge.Reason(), ge.Code)
		return nil, nil
	}
	// The create's outcome is unknown: only the gateway can say whether the
	// order exists. Ask until it answers; never create again.
	o.log.Warn("create outcome unknown; resolving by query", "err", err)
	return o.resolveCreate(ctx)
}

func (o *Order) resolveCreate(ctx context.Context) (*Created, error) {
	for {
		var txn *Transaction
		err := o.call(ctx, func(cctx context.Context) error {
			var err error
			txn, err = o.cfg.Gateway.QueryOrder(cctx, o.ref())
			return err
		})
		switch {
		case ctx.Err() != nil:
			return nil, err
		case err == nil:
			o.log.Info("order found at the gateway after an unknown create", "syssn", txn.SysSN)
			return &Created{SysSN: txn.SysSN, OutTradeNo: txn.OutTradeNo, QRCode: txn.QRCode, Code: txn.Code, Adopted: true, Existing: txn}, nil
		case errors.Is(err, ErrNotFound):
			o.fail("The order never reached the payment gateway; nothing was charged. Please try again.", "")
			return nil, nil
		}
		if o.cancelAsked || !o.cfg.Clock.Now().Before(o.Snapshot().Deadline) {
			// Withdraw by out_trade_no whatever the gateway holds, then
			// settle by query.
			st := StateExpired
			if o.cancelAsked {
				st = StateCancelled
			}
			return nil, o.finish(ctx, st, "", "")
		}
		o.update(EventChecking, func(s *Snapshot) { s.Reason = "Checking the payment with the gateway…" })
		if err := o.wait(ctx, o.cfg.SettleRetry); err != nil {
			return nil, err
		}
	}
}
