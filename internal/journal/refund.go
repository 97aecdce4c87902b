package journal

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"qrkiosk/payment"
)

// RefundState is where a refund is.
type RefundState string

const (
	// RefundPending: journaled, sent or about to be, outcome not known.
	RefundPending RefundState = "pending"
	RefundDone    RefundState = "refunded"
	// RefundFailed: the gateway refused it, or it never reached the gateway.
	RefundFailed RefundState = "failed"
)

// Refund is one refund as the journal holds it.
type Refund struct {
	OutTradeNo     string // the refund's own number ("RF…")
	OrigOutTradeNo string
	OrigSysSN      string
	Amount         payment.Amount
	PayType        payment.PayType // the original payment's
	Gateway        string          // the original payment's gateway
	TxTime         time.Time
	State          RefundState
	SysSN          string // the refund's syssn at the gateway
	Code           payment.Code
	Reason         string
	OrigTxTime     time.Time // when the payment was rung up
}

// request is the refund as the gateway is asked for it.
func (r Refund) request() payment.RefundRequest {
	return payment.RefundRequest{
		OutTradeNo: r.OutTradeNo, SysSN: r.SysSN, Amount: r.Amount, TxTime: r.TxTime,
		Orig: payment.OrderRef{OutTradeNo: r.OrigOutTradeNo, SysSN: r.OrigSysSN, Amount: r.Amount, PayType: r.PayType, TxTime: r.OrigTxTime},
	}
}

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
	Err error // one of the ErrXxx above, or ErrNotFound
	Msg string
}

func (e *RefusedError) Error() string { return e.Msg }
func (e *RefusedError) Unwrap() error { return e.Err }

// ErrRefundProcessing: the refund was sent and the gateway has not said
// how it ended — it answered "processing" (1143/1145), or its answer was
// lost. It stays pending in the journal, counts nowhere as refunded, blocks
// another refund of the order, and is settled by query (FollowRefund now,
// ResolveRefunds at every start), never by refunding again.
var ErrRefundProcessing = errors.New("refund processing: the gateway has not confirmed it yet; it is settled by query, never by refunding again")

// CheckRefund says whether amount (minor units; 0 = all that remains) can be
// refunded from the order, and returns the amount to refund.
func CheckRefund(o Order, amount int64) (int64, error) {
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
func (j *Journal) Refund(ctx context.Context, gw payment.Refunder, outTradeNo string, amount int64) (Refund, error) {
	now := j.now()
	r, err := j.beginRefund(ctx, outTradeNo, amount, now)
	if err != nil {
		return Refund{}, err
	}
	t, err := gw.Refund(ctx, r.request())
	var ge *payment.Error
	var fe *payment.FieldError
	switch {
	case err == nil && t.Outcome() == payment.OutcomePaid:
		r.State, r.SysSN, r.Code = RefundDone, t.SysSN, t.Code
	case err == nil && t.Outcome() == payment.OutcomePending:
		// Accepted and in progress at the gateway (QFPay's 1143/1145,
		// ScanForPay's "dealing"): never sent again; settled by query.
		r.SysSN, r.Code = t.SysSN, t.Code
		if err := j.notePendingRefund(r); err != nil {
			return r, err
		}
		return r, fmt.Errorf("refund %s of order %s: %w (respcd %s)", r.OutTradeNo, outTradeNo, ErrRefundProcessing, t.Code)
	case err == nil:
		r.State, r.SysSN, r.Code, r.Reason = RefundFailed, t.SysSN, t.Code, refundReason(t.Code, t.Text, t.ErrMsg)
	case errors.As(err, &ge):
		r.State, r.Code, r.Reason = RefundFailed, ge.Code, refundReason(ge.Code, ge.Text, ge.Message)
	case errors.As(err, &fe):
		r.State, r.Reason = RefundFailed, fe.Error()
	case errors.Is(err, payment.ErrNotSent):
		r.State, r.Reason = RefundFailed, "the gateway could not be reached; nothing was refunded ("+err.Error()+")"
	default:
		j.gatewayEvent(r.OutTradeNo, "refund", "", "", string(RefundPending), err)
		return r, fmt.Errorf("refund %s of order %s: %w (%v)", r.OutTradeNo, outTradeNo, ErrRefundProcessing, err)
	}
	if err := j.settleRefund(r, err); err != nil {
		return r, err
	}
	if r.State == RefundFailed {
		return r, fmt.Errorf("refund of order %s refused by the gateway: %s", outTradeNo, r.Reason)
	}
	return r, nil
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

// beginRefund checks the order and journals the refund as pending, in one
// transaction so two refunds can never together exceed the payment.
func (j *Journal) beginRefund(ctx context.Context, outTradeNo string, amount int64, now time.Time) (Refund, error) {
	j.wmu.Lock()
	defer j.wmu.Unlock()
	if err := j.flushLocked(); err != nil {
		return Refund{}, fmt.Errorf("refund of order %s not recorded, so not sent: %w", outTradeNo, err)
	}
	tx, err := j.db.BeginTx(ctx, nil)
	if err != nil {
		return Refund{}, err
	}
	defer tx.Rollback()
	o, err := j.scanOrder(tx.QueryRowContext(ctx, "SELECT "+orderCols+" FROM orders o WHERE o.out_trade_no = ?", outTradeNo))
	if errors.Is(err, sql.ErrNoRows) {
		return Refund{}, &RefusedError{Err: ErrNotFound, Msg: fmt.Sprintf("order %s is not in this kiosk's journal", outTradeNo)}
	}
	if err != nil {
		return Refund{}, err
	}
	amt, err := CheckRefund(o, amount)
	if err != nil {
		return Refund{}, err
	}
	if o.SysSN == "" {
		return Refund{}, &RefusedError{Err: ErrNotPaid, Msg: fmt.Sprintf("order %s has no gateway transaction number recorded; refund it from the merchant portal", outTradeNo)}
	}
	r := Refund{
		OutTradeNo: payment.NewOutTradeNo("RF", now), OrigOutTradeNo: o.OutTradeNo, OrigSysSN: o.SysSN,
		Amount: payment.Amount{Minor: amt, Currency: o.Amount.Currency}, PayType: o.PayType, TxTime: now, State: RefundPending,
		OrigTxTime: o.TxTime,
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO refunds (out_trade_no, orig_out_trade_no, orig_syssn, txamt, currency,
		tx_time, day, state, updated) VALUES (?,?,?,?,?,?,?,?,?)`, r.OutTradeNo, r.OrigOutTradeNo, r.OrigSysSN, amt,
		r.Amount.Currency.Code, now.UnixNano(), now.In(j.loc).Format(payment.DayLayout), string(RefundPending), now.UnixNano()); err != nil {
		return Refund{}, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO events (at, out_trade_no, source, kind, state, detail) VALUES (?,?,?,?,?,?)`,
		now.UnixNano(), r.OutTradeNo, "refund", "begin", string(RefundPending), "refund of "+o.OutTradeNo+" for "+r.Amount.String()); err != nil {
		return Refund{}, err
	}
	return r, tx.Commit()
}

func (j *Journal) settleRefund(r Refund, callErr error) error {
	now := j.now().UnixNano()
	detail := r.Reason
	if callErr != nil {
		detail = callErr.Error()
	}
	return j.write(func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "UPDATE refunds SET state = ?, syssn = ?, respcd = ?, reason = ?, updated = ? WHERE out_trade_no = ?",
			string(r.State), r.SysSN, string(r.Code), r.Reason, now, r.OutTradeNo); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO events (at, out_trade_no, source, kind, state, syssn, respcd, detail) VALUES (?,?,?,?,?,?,?,?)`,
			now, r.OutTradeNo, "gateway", "refund", string(r.State), r.SysSN, string(r.Code), detail)
		return err
	})
}

// ResolveRefunds asks the gateway about every refund left pending (a crash
// or a lost answer mid-refund): found → refunded (or failed, as the gateway
// says); not found → failed, nothing was given back. A refund is never sent
// again by itself: the cashier decides. It returns the refunds it settled.
func (j *Journal) ResolveRefunds(ctx context.Context, gw payment.Refunder) ([]Refund, error) {
	pending, err := j.refunds(ctx, "r.state = 'pending'")
	if err != nil {
		return nil, err
	}
	var settled []Refund
	for _, r := range pending {
		r, err := j.resolveRefund(ctx, gw, r)
		if err != nil {
			return settled, err
		}
		if r.State != RefundPending {
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
func (j *Journal) FollowRefund(ctx context.Context, gw payment.Refunder, r Refund, every time.Duration, tries int) (Refund, error) {
	t := time.NewTimer(every)
	defer t.Stop()
	for range tries {
		select {
		case <-ctx.Done():
			return r, ctx.Err()
		case <-t.C:
		}
		got, err := j.resolveRefund(ctx, gw, r)
		if err != nil {
			return r, err
		}
		if r = got; r.State != RefundPending {
			return r, nil
		}
		t.Reset(every)
	}
	return r, nil
}

// notePendingRefund records the gateway's "processing" answer: the
// refund's syssn (to query it by) and its code; it stays pending.
func (j *Journal) notePendingRefund(r Refund) error {
	now := j.now().UnixNano()
	return j.write(func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "UPDATE refunds SET syssn = ?, respcd = ?, updated = ? WHERE out_trade_no = ?", r.SysSN, string(r.Code), now, r.OutTradeNo); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO events (at, out_trade_no, source, kind, state, syssn, respcd, outcome) VALUES (?,?,?,?,?,?,?,?)`,
			now, r.OutTradeNo, "gateway", "refund", string(RefundPending), r.SysSN, string(r.Code), string(RefundPending))
		return err
	})
}

// resolveRefund asks the gateway about one pending refund and records what
// it says; the refund stays pending when the gateway cannot tell yet.
func (j *Journal) resolveRefund(ctx context.Context, gw payment.Refunder, r Refund) (Refund, error) {
	t, err := gw.QueryRefund(ctx, r.request())
	switch {
	case err == nil && t.Outcome() == payment.OutcomePaid:
		r.State, r.SysSN, r.Code = RefundDone, t.SysSN, t.Code
	case err == nil && t.Outcome() == payment.OutcomePending:
		if t.SysSN == r.SysSN && t.Code == r.Code {
			return r, nil
		}
		r.SysSN, r.Code = t.SysSN, t.Code
		return r, j.notePendingRefund(r)
	case errors.Is(err, payment.ErrOutcomeUnknown):
		// The gateway cannot tell yet (no refund query, or still dealing).
		j.log.Info("journal: a pending refund is still unconfirmed at the gateway", "out_trade_no", r.OutTradeNo, "err", err)
		return r, nil
	case err == nil:
		r.State, r.SysSN, r.Code, r.Reason = RefundFailed, t.SysSN, t.Code, refundReason(t.Code, t.Text, t.ErrMsg)
	case errors.Is(err, payment.ErrNotFound):
		r.State, r.Reason = RefundFailed, "the refund never reached the gateway; nothing was given back"
		err = nil
	default:
		j.log.Warn("journal: a pending refund could not be checked yet", "out_trade_no", r.OutTradeNo, "err", err)
		return r, nil
	}
	return r, j.settleRefund(r, err)
}

// Refunds lists the refunds of one order, oldest first.
func (j *Journal) Refunds(ctx context.Context, outTradeNo string) ([]Refund, error) {
	return j.refunds(ctx, "r.orig_out_trade_no = ?", outTradeNo)
}

func (j *Journal) refunds(ctx context.Context, where string, args ...any) ([]Refund, error) {
	rows, err := j.db.QueryContext(ctx, `SELECT r.out_trade_no, r.orig_out_trade_no, r.orig_syssn, r.txamt, r.currency,
		o.pay_type, o.gateway, r.tx_time, r.state, r.syssn, r.respcd, r.reason, o.tx_time FROM refunds r JOIN orders o ON o.out_trade_no = r.orig_out_trade_no
		WHERE `+where+" ORDER BY r.tx_time, r.out_trade_no", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Refund
	for rows.Next() {
		var r Refund
		var cur, pt, gw, state, code string
		var tx, origTx int64
		if err := rows.Scan(&r.OutTradeNo, &r.OrigOutTradeNo, &r.OrigSysSN, &r.Amount.Minor, &cur, &pt, &gw, &tx, &state, &r.SysSN, &code, &r.Reason, &origTx); err != nil {
			return nil, err
		}
		if r.Amount.Currency, err = payment.LookupCurrency(cur); err != nil {
			return nil, err
		}
		r.Gateway = gw
		if r.PayType, err = j.payType(gw, pt); err != nil {
			return nil, err
		}
		r.TxTime, r.State, r.Code, r.OrigTxTime = time.Unix(0, tx), RefundState(state), payment.Code(code), time.Unix(0, origTx)
		out = append(out, r)
	}
	return out, rows.Err()
}
