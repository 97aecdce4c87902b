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
	// FromPOS: the shop's POS asked for it (its result is notified to
	// the POS).
	FromPOS bool
}

// Request is the refund as the gateway is asked for it.
func (r Refund) Request() payment.RefundRequest {
	return payment.RefundRequest{
		OutTradeNo: r.OutTradeNo, SysSN: r.SysSN, Amount: r.Amount, TxTime: r.TxTime,
		Orig: payment.OrderRef{OutTradeNo: r.OrigOutTradeNo, SysSN: r.OrigSysSN, Amount: r.Amount, PayType: r.PayType, TxTime: r.OrigTxTime},
	}
}

// AddRefund records a new refund of an order as pending, under a new
// unique number, before it is sent. allow sees the order as the same
// transaction reads it, so two refunds can never together exceed the
// payment: it returns the amount to refund (minor units), or an error that
// records nothing. An order the journal does not hold is ErrNotFound.
func (j *Journal) AddRefund(ctx context.Context, outTradeNo string, at time.Time, allow func(Order) (int64, error)) (Refund, error) {
	return j.addRefund(ctx, outTradeNo, at, false, allow)
}

// AddPOSRefund is AddRefund for a refund the shop's POS asked for: it is
// marked so, in the same transaction, and its result is notified to the
// POS.
func (j *Journal) AddPOSRefund(ctx context.Context, outTradeNo string, at time.Time, allow func(Order) (int64, error)) (Refund, error) {
	return j.addRefund(ctx, outTradeNo, at, true, allow)
}

func (j *Journal) addRefund(ctx context.Context, outTradeNo string, at time.Time, pos bool, allow func(Order) (int64, error)) (Refund, error) {
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
		return Refund{}, fmt.Errorf("%s: %w", outTradeNo, ErrNotFound)
	}
	if err != nil {
		return Refund{}, err
	}
	amt, err := allow(o)
	if err != nil {
		return Refund{}, err
	}
	r := Refund{
		OutTradeNo: payment.NewOutTradeNo("RF", at), OrigOutTradeNo: o.OutTradeNo, OrigSysSN: o.SysSN,
		Amount: payment.Amount{Minor: amt, Currency: o.Amount.Currency}, PayType: o.PayType, TxTime: at, State: RefundPending,
		OrigTxTime: o.TxTime, FromPOS: pos,
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO refunds (out_trade_no, orig_out_trade_no, orig_syssn, txamt, currency,
		tx_time, day, state, updated, pos) VALUES (?,?,?,?,?,?,?,?,?,?)`, r.OutTradeNo, r.OrigOutTradeNo, r.OrigSysSN, amt,
		r.Amount.Currency.Code, at.UnixNano(), at.In(j.loc).Format(payment.DayLayout), string(RefundPending), at.UnixNano(), pos); err != nil {
		return Refund{}, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO events (at, out_trade_no, source, kind, state, detail) VALUES (?,?,?,?,?,?)`,
		at.UnixNano(), r.OutTradeNo, "refund", "begin", string(RefundPending), "refund of "+o.OutTradeNo+" for "+r.Amount.String()); err != nil {
		return Refund{}, err
	}
	return r, tx.Commit()
}

// RecordRefund records how a refund ended (its State, SysSN, Code and
// Reason) with what the gateway's answer said (detail).
func (j *Journal) RecordRefund(r Refund, detail string) error {
	now := j.now().UnixNano()
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

// RecordRefundPending records the gateway's "processing" answer to a
// refund: its syssn (to query it by) and its code; it stays pending.
func (j *Journal) RecordRefundPending(r Refund) error {
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

// PendingRefunds lists the refunds whose outcome is not known, oldest first.
func (j *Journal) PendingRefunds(ctx context.Context) ([]Refund, error) {
	return j.refunds(ctx, "r.state = 'pending'")
}

// Refunds lists the refunds of one order, oldest first.
func (j *Journal) Refunds(ctx context.Context, outTradeNo string) ([]Refund, error) {
	return j.refunds(ctx, "r.orig_out_trade_no = ?", outTradeNo)
}

// LookupRefund returns the refund with this number (the refund's own
// out_trade_no), or ErrNotFound.
func (j *Journal) LookupRefund(ctx context.Context, outTradeNo string) (Refund, error) {
	rs, err := j.refunds(ctx, "r.out_trade_no = ?", outTradeNo)
	switch {
	case err != nil:
		return Refund{}, err
	case len(rs) != 1:
		return Refund{}, fmt.Errorf("refund %s: %w", outTradeNo, ErrNotFound)
	}
	return rs[0], nil
}

func (j *Journal) refunds(ctx context.Context, where string, args ...any) ([]Refund, error) {
	rows, err := j.db.QueryContext(ctx, `SELECT r.out_trade_no, r.orig_out_trade_no, r.orig_syssn, r.txamt, r.currency,
		o.pay_type, o.gateway, r.tx_time, r.state, r.syssn, r.respcd, r.reason, o.tx_time, r.pos FROM refunds r JOIN orders o ON o.out_trade_no = r.orig_out_trade_no
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
		if err := rows.Scan(&r.OutTradeNo, &r.OrigOutTradeNo, &r.OrigSysSN, &r.Amount.Minor, &cur, &pt, &gw, &tx, &state, &r.SysSN, &code, &r.Reason, &origTx, &r.FromPOS); err != nil {
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
