package settle

import (
	"context"
	"errors"
	"fmt"
	"time"

	"qrkiosk/internal/journal"
	"qrkiosk/payment"
)

// Reasons a refund is refused before anything is sent.
var (
	ErrNotRefundable  = errors.New("this wallet's payments cannot be refunded")
	ErrNotPaid        = errors.New("only a paid order can be refunded")
	ErrFullyRefunded  = errors.New("the order is already fully refunded")
	ErrRefundTooLarge = errors.New("the refund is more than what is left to refund")
	ErrRefundPending  = errors.New("an earlier refund of this order is still processing")
)

// RefusedError is a refund refused locally: nothing was sent.
type RefusedError struct {
	Err error // one of the ErrXxx above, or journal.ErrNotFound
	Msg string
}

func (e *RefusedError) Error() string { return e.Msg }
func (e *RefusedError) Unwrap() error { return e.Err }

// ErrRefundProcessing: the refund was sent and the gateway has not said
// how it ended — it answered "processing" (a pending outcome), or its
// answer was lost. It stays pending in the journal, counts nowhere as
// refunded, blocks another refund of the order, and is settled by query
// (FollowRefund now, ResolveRefunds at every start), never by refunding
// again.
var ErrRefundProcessing = errors.New("refund processing: the gateway has not confirmed it yet; it is settled by query, never by refunding again")

// CheckRefund says whether amount (minor units; 0 = all that remains) can be
// refunded from the order, and returns the amount to refund.
func CheckRefund(o journal.Order, amount int64) (int64, error) {
	cur := o.Amount.Currency
	refuse := func(err error, format string, a ...any) (int64, error) {
		return 0, &RefusedError{Err: err, Msg: fmt.Sprintf(format, a...)}
	}
	switch {
	case !o.PayType.Refundable:
		return refuse(ErrNotRefundable, "order %s was paid with %s, which cannot be refunded through the gateway: give the money back another way", o.OutTradeNo, o.PayType.Name.En)
	case o.State != payment.StatePaid:
		return refuse(ErrNotPaid, "order %s is %s, not paid: there is nothing to refund", o.OutTradeNo, o.State)
	case o.RefundPending > 0:
		return refuse(ErrRefundPending, "order %s has a refund of %s still processing at the gateway: another refund waits until the gateway has settled it", o.OutTradeNo, payment.FormatMinor(o.RefundPending, cur))
	case o.Remaining() <= 0:
		return refuse(ErrFullyRefunded, "order %s (%s) is already fully refunded", o.OutTradeNo, o.Amount.Display())
	case amount < 0:
		return refuse(ErrRefundTooLarge, "a refund amount must be positive")
	case amount > o.Remaining():
		return refuse(ErrRefundTooLarge, "order %s has %s left to refund (paid %s, refunded %s); %s is too much",
			o.OutTradeNo, payment.FormatMinor(o.Remaining(), cur), o.Amount.String(), payment.FormatMinor(o.Refunded, cur), payment.FormatMinor(amount, cur))
	}
	if amount == 0 {
		amount = o.Remaining()
	}
	return amount, nil
}

// Refund gives back amount (minor units; 0 = all that remains) of a paid
// order. The refund, with a new unique out_trade_no, is journaled before
// the call. A refusal before anything is sent is a *RefusedError; a lost
// answer or a "processing" one leaves the refund pending (ErrRefundProcessing).
func Refund(ctx context.Context, j *journal.Journal, gw payment.Refunder, outTradeNo string, amount int64) (journal.Refund, error) {
	return refund(ctx, j, gw, outTradeNo, amount, j.AddRefund)
}

// RefundForPOS is Refund for a refund the shop's POS asked for (approved
// at the kiosk with the manager PIN): journaled as the POS's, so that its
// result is notified to the POS.
func RefundForPOS(ctx context.Context, j *journal.Journal, gw payment.Refunder, outTradeNo string, amount int64) (journal.Refund, error) {
	return refund(ctx, j, gw, outTradeNo, amount, j.AddPOSRefund)
}

type addRefund func(ctx context.Context, outTradeNo string, at time.Time, allow func(journal.Order) (int64, error)) (journal.Refund, error)

func refund(ctx context.Context, j *journal.Journal, gw payment.Refunder, outTradeNo string, amount int64, add addRefund) (journal.Refund, error) {
	r, err := add(ctx, outTradeNo, j.Now(), func(o journal.Order) (int64, error) {
		amt, err := CheckRefund(o, amount)
		if err == nil && o.SysSN == "" {
			return 0, &RefusedError{Err: ErrNotPaid, Msg: fmt.Sprintf("order %s has no gateway transaction number recorded; refund it from the merchant portal", outTradeNo)}
		}
		return amt, err
	})
	if errors.Is(err, journal.ErrNotFound) {
		return journal.Refund{}, &RefusedError{Err: journal.ErrNotFound, Msg: fmt.Sprintf("order %s is not in this kiosk's journal", outTradeNo)}
	}
	if err != nil {
		return journal.Refund{}, err
	}
	t, err := gw.Refund(ctx, r.Request())
	var ge *payment.Error
	var fe *payment.FieldError
	switch {
	case err == nil && t.Outcome() == payment.OutcomePaid:
		r.State, r.SysSN, r.Code = journal.RefundDone, t.SysSN, t.Code
	case err == nil && t.Outcome() == payment.OutcomePending:
		// Accepted and in progress at the gateway: never sent again;
		// settled by query.
		r.SysSN, r.Code = t.SysSN, t.Code
		if err := j.RecordRefundPending(r); err != nil {
			return r, err
		}
		return r, fmt.Errorf("refund %s of order %s: %w (respcd %s)", r.OutTradeNo, outTradeNo, ErrRefundProcessing, t.Code)
	case err == nil:
		r.State, r.SysSN, r.Code, r.Reason = journal.RefundFailed, t.SysSN, t.Code, refundReason(t.Code, t.Text, t.ErrMsg)
	case errors.As(err, &ge):
		r.State, r.Code, r.Reason = journal.RefundFailed, ge.Code, refundReason(ge.Code, ge.Text, ge.Message)
	case errors.As(err, &fe):
		r.State, r.Reason = journal.RefundFailed, fe.Error()
	case errors.Is(err, payment.ErrNotSent):
		r.State, r.Reason = journal.RefundFailed, "the gateway could not be reached; nothing was refunded ("+err.Error()+")"
	default:
		j.RecordGatewayAnswer(r.OutTradeNo, "refund", "", "", string(journal.RefundPending), err)
		return r, fmt.Errorf("refund %s of order %s: %w (%v)", r.OutTradeNo, outTradeNo, ErrRefundProcessing, err)
	}
	if err := j.RecordRefund(r, detail(r, err)); err != nil {
		return r, err
	}
	if r.State == journal.RefundFailed {
		return r, fmt.Errorf("refund of order %s refused by the gateway: %s", outTradeNo, r.Reason)
	}
	return r, nil
}

// detail is what the journal keeps of a refund's answer: the call's error,
// else the reason.
func detail(r journal.Refund, callErr error) string {
	if callErr != nil {
		return callErr.Error()
	}
	return r.Reason
}

// refundReason is a refused refund's reason: the gateway's words for its
// code, with the message it sent when that says more.
func refundReason(code payment.Code, txt, msg string) string {
	if txt != "" {
		if msg != "" && msg != txt {
			return txt + ": " + msg
		}
		return txt
	}
	if msg != "" {
		return msg
	}
	return "respcd " + string(code)
}

// ResolveRefunds asks the gateway about every refund left pending (a crash
// or a lost answer mid-refund): found → refunded (or failed, as the gateway
// says); not found → failed, nothing was given back. A refund is never sent
// again by itself: the cashier decides. It returns the refunds it settled.
func ResolveRefunds(ctx context.Context, j *journal.Journal, gw payment.Refunder) ([]journal.Refund, error) {
	pending, err := j.PendingRefunds(ctx)
	if err != nil {
		return nil, err
	}
	var settled []journal.Refund
	for _, r := range pending {
		r, err := resolveRefund(ctx, j, gw, r)
		if err != nil {
			return settled, err
		}
		if r.State != journal.RefundPending {
			settled = append(settled, r)
		}
	}
	return settled, nil
}

// A refund whose answer was lost is asked about every RefundRecheck, up to
// RefundRechecks times (a minute), before it is left to the next start.
const (
	RefundRecheck  = 3 * time.Second
	RefundRechecks = 20
)

// FollowRefund asks the gateway about one pending refund every `every`, up
// to `tries` times, until it is settled; it returns the refund as the
// journal then holds it (still pending when the gateway never said).
func FollowRefund(ctx context.Context, j *journal.Journal, gw payment.Refunder, r journal.Refund, every time.Duration, tries int) (journal.Refund, error) {
	t := time.NewTimer(every)
	defer t.Stop()
	for range tries {
		select {
		case <-ctx.Done():
			return r, ctx.Err()
		case <-t.C:
		}
		got, err := resolveRefund(ctx, j, gw, r)
		if err != nil {
			return r, err
		}
		if r = got; r.State != journal.RefundPending {
			return r, nil
		}
		t.Reset(every)
	}
	return r, nil
}

// resolveRefund asks the gateway about one pending refund and records what
// it says; the refund stays pending when the gateway cannot tell yet.
func resolveRefund(ctx context.Context, j *journal.Journal, gw payment.Refunder, r journal.Refund) (journal.Refund, error) {
	t, err := gw.QueryRefund(ctx, r.Request())
	switch {
	case err == nil && t.Outcome() == payment.OutcomePaid:
		r.State, r.SysSN, r.Code = journal.RefundDone, t.SysSN, t.Code
	case err == nil && t.Outcome() == payment.OutcomePending:
		if t.SysSN == r.SysSN && t.Code == r.Code {
			return r, nil
		}
		r.SysSN, r.Code = t.SysSN, t.Code
		return r, j.RecordRefundPending(r)
	case errors.Is(err, payment.ErrOutcomeUnknown):
		// The gateway cannot tell yet (no refund query, or still dealing).
		j.Logger().Info("a pending refund is still unconfirmed at the gateway", "out_trade_no", r.OutTradeNo, "err", err)
		return r, nil
	case err == nil:
		r.State, r.SysSN, r.Code, r.Reason = journal.RefundFailed, t.SysSN, t.Code, refundReason(t.Code, t.Text, t.ErrMsg)
	case errors.Is(err, payment.ErrNotFound):
		r.State, r.Reason = journal.RefundFailed, "the refund never reached the gateway; nothing was given back"
		err = nil
	default:
		j.Logger().Warn("a pending refund could not be checked yet", "out_trade_no", r.OutTradeNo, "err", err)
		return r, nil
	}
	return r, j.RecordRefund(r, detail(r, err))
}
