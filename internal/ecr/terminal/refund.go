package terminal

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"qrkiosk/internal/ecr"
	"qrkiosk/internal/journal"
	"qrkiosk/internal/kiosk"
	"qrkiosk/internal/settle"
	"qrkiosk/payment"
)

// refundTime bounds an approved refund, its checks included: once the
// manager approved it, it goes through whatever the POS does meanwhile.
const refundTime = 2 * time.Minute

// refund carries out a refund (1002) of a payment this kiosk took: checked
// against the journal, then shown on the cashier pane, and sent only after
// the manager PIN is entered there — the request carries no nonce, so a
// replayed one must never move money without a person at the counter. It
// is answered once the gateway has settled it (or said it is processing).
func (t *Terminal) refund(w http.ResponseWriter, r *http.Request, req *ecr.Refund) ecr.Answer {
	ctx := r.Context()
	o, err := t.findOrder(ctx, req.OrderID)
	if errors.Is(err, journal.ErrNotFound) {
		return t.refuse(r.RemoteAddr, "cancel", ecr.Refused(ecr.CodeRequestError, "no payment "+req.OrderID+" on this kiosk: orderId must be the syssn of a payment it took"))
	}
	if err != nil {
		t.log.Error("ecr: reading the journal", "err", err)
		return ecr.Refused(ecr.CodeOther, "the kiosk cannot read its journal: nothing was refunded")
	}
	var minor int64 // 0: all that remains
	if req.Amount != nil {
		if req.Amount.Currency.Code != o.Amount.Currency.Code {
			return ecr.Refused(ecr.CodeBadParams, "refund_amount is in "+req.Amount.Currency.Code+", the payment in "+o.Amount.Currency.Code)
		}
		minor = req.Amount.Minor
	}
	amt, err := settle.CheckRefund(o, minor)
	if err != nil {
		return ecr.Refused(ecr.CodeRequestError, err.Error())
	}
	if t.k.Config.ManagerPINHash == "" {
		return ecr.Refused(ecr.CodeRequestError, "a refund from the POS needs the manager PIN at the kiosk, and none is configured (manager_pin_hash): nothing was refunded")
	}
	ref, err := t.k.Journal.POSRef(ctx, o.OutTradeNo)
	if err != nil {
		t.log.Warn("ecr: reading the POS's reference", "out_trade_no", o.OutTradeNo, "err", err)
	}
	hold(w, t.opts.RefundWait+refundTime+settleMargin)
	actx, cancel := context.WithTimeout(ctx, t.opts.RefundWait)
	ask, err := t.k.Till.AskRefund(actx, kiosk.RefundAsk{Order: o.OutTradeNo, SysSN: o.SysSN, Amount: payment.Amount{Minor: amt, Currency: o.Amount.Currency},
		PaidAt: o.TxTime, POSRef: ref})
	nobody := errors.Is(actx.Err(), context.DeadlineExceeded)
	cancel()
	switch {
	case ctx.Err() != nil:
		// The POS went away: nothing moves, even if the manager approved
		// at that moment, and the till is free again.
		if err == nil {
			t.k.Till.RefundDone(ask, "not refunded: the POS withdrew its request before the refund was sent")
		}
		return ecr.Answer{}
	case errors.Is(err, kiosk.ErrRefundDeclined) && strings.Contains(err.Error(), "cancelled by the POS"):
		return ecr.Cancelled(err.Error())
	case errors.Is(err, kiosk.ErrRefundDeclined) && nobody:
		return ecr.Refused(ecr.CodeRequestError, "refund not approved at the kiosk: nobody entered the manager PIN within "+t.opts.RefundWait.String()+"; nothing was refunded")
	case err != nil:
		return ecr.Refused(ecr.CodeRequestError, err.Error()+"; nothing was refunded")
	}
	t.log.Info("ecr: refund approved at the kiosk", "out_trade_no", o.OutTradeNo, "amount", payment.FormatMinor(amt, o.Amount.Currency))
	rctx, cancel := context.WithTimeout(t.ctx, refundTime)
	defer cancel()
	rf, err := t.k.RefundForPOS(rctx, o.OutTradeNo, amt)
	if errors.Is(err, settle.ErrRefundProcessing) {
		rf, err = t.k.FollowRefund(rctx, rf)
	}
	a := t.refundAnswer(ctx, o, rf, err)
	t.k.Till.RefundDone(ask, refundOutcome(rf, err))
	return a
}

// refundAnswer is the POS's answer for a refund sent to the gateway.
func (t *Terminal) refundAnswer(ctx context.Context, o journal.Order, rf journal.Refund, err error) ecr.Answer {
	data := ecr.RefundData{
		Respcd: string(rf.Code), TxDtm: rf.TxTime.In(t.k.Journal.Location()).Format(payment.LocalTimeLayout), TxCurrCd: rf.Amount.Currency.Code,
		OrigSysSN: rf.OrigSysSN, SysSN: rf.SysSN, OutTradeNo: rf.OutTradeNo, TxAmt: rf.Amount.TxAmt(), OriginTxAmt: o.Amount.TxAmt(),
	}
	data.SysDtm = data.TxDtm
	switch {
	case rf.OutTradeNo == "":
		// Refused before anything was sent.
		return ecr.Refused(ecr.CodeRequestError, err.Error())
	case rf.State == journal.RefundDone:
		if data.Respcd == "" {
			data.Respcd = "0000"
		}
		if nerr := t.refundNotice(ctx, rf); nerr != nil {
			t.log.Warn("ecr: the refund's notice; the sweep tries again", "out_trade_no", rf.OutTradeNo, "err", nerr)
		}
		a, _ := ecr.Accepted(data)
		return a
	case rf.State == journal.RefundPending:
		a, _ := ecr.Accepted(data)
		a.Resperr = "the refund is processing at the gateway: the POS is notified when it is done"
		return a
	}
	return ecr.Refused(ecr.CodeRequestError, "the gateway refused the refund: "+rf.Reason)
}

// refundOutcome is what the cashier pane says of an approved refund.
func refundOutcome(rf journal.Refund, err error) string {
	switch {
	case rf.State == journal.RefundDone:
		return "refunded"
	case rf.State == journal.RefundPending:
		return "processing at the gateway (never sent twice; settled by query)"
	case err != nil:
		return "not refunded: " + err.Error()
	}
	return "not refunded: " + rf.Reason
}
