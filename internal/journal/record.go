package journal

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"qrkiosk/payment"
)

// Begin records a new order before its create call. req must carry its
// OutTradeNo, TxTime and Expiry as they will be sent. A journal that cannot
// write refuses it (ErrCannotRecord): nothing unrecorded may be charged.
func (j *Journal) Begin(ctx context.Context, req payment.CreateRequest) error {
	if req.OutTradeNo == "" || req.TxTime.IsZero() {
		return errors.New("journal: an order needs its out_trade_no and txdtm before it is recorded")
	}
	j.wmu.Lock()
	defer j.wmu.Unlock()
	if err := j.flushLocked(); err != nil {
		return fmt.Errorf("journal: order %s not recorded, so not charged: %w", req.OutTradeNo, err)
	}
	if err := j.tx(func(ctx context.Context, tx *sql.Tx) error { return j.insertOrder(ctx, tx, req, "") }); err != nil {
		j.broken = err
		return fmt.Errorf("journal: order %s not recorded, so not charged: %w: %v", req.OutTradeNo, ErrCannotRecord, err)
	}
	return nil
}

// insertOrder writes a new order row; replaces names the order whose lost
// QR it replaces ("" for a new sale).
func (j *Journal) insertOrder(ctx context.Context, tx *sql.Tx, req payment.CreateRequest, replaces string) error {
	req.Expiry = req.Window()
	local := req.TxTime.In(j.loc)
	_, err := tx.ExecContext(ctx, `INSERT INTO orders (out_trade_no, gateway, txamt, currency, pay_type, udid, goods_name,
		tx_time, txdtm, day, expiry_s, deadline, state, replaces, updated) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		req.OutTradeNo, j.gateway, req.Amount.Minor, req.Amount.Currency.Code, req.PayType.Code, j.udid, req.GoodsName,
		req.TxTime.UnixNano(), local.Format(payment.LocalTimeLayout), local.Format(payment.DayLayout), int64(req.Expiry/time.Second),
		req.TxTime.Add(req.Expiry).UnixNano(), payment.StateCreating.String(), replaces, j.now().UnixNano())
	if err != nil {
		return fmt.Errorf("recording order %s: %w", req.OutTradeNo, err)
	}
	return nil
}

// Reissue records the order that replaces one whose QR was lost, before
// its create call, and marks the lost one: withdrawn, never shown, and
// replaced (reconcile does not call it a difference). It has the shape of
// payment.MachineConfig.Reissue.
func (j *Journal) Reissue(next payment.CreateRequest, replaces string) error {
	j.wmu.Lock()
	defer j.wmu.Unlock()
	if err := j.flushLocked(); err != nil {
		return err
	}
	now := j.now().UnixNano()
	reason := "its QR was lost in a network error (a query does not give it back): withdrawn and replaced by " + next.OutTradeNo
	err := j.tx(func(ctx context.Context, tx *sql.Tx) error {
		if err := j.insertOrder(ctx, tx, next, replaces); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE orders SET state = ?, reason = ?, replaced_by = ?, updated = ? WHERE out_trade_no = ?`,
			payment.StateCancelled.String(), reason, next.OutTradeNo, now, replaces); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO events (at, out_trade_no, source, kind, state, detail) VALUES (?,?,?,?,?,?)`,
			now, replaces, "machine", string(payment.EventReissued), payment.StateCancelled.String(), "replaced by "+next.OutTradeNo)
		return err
	})
	if err != nil {
		j.broken = err
		return fmt.Errorf("%w: %v", ErrCannotRecord, err)
	}
	return nil
}

// Observer returns a payment.Event observer that records each transition of
// an order that Begin recorded, and raises AlertPaidLate.
func (j *Journal) Observer() func(payment.Event) {
	return func(e payment.Event) {
		if err := j.record(e); err != nil {
			// The machine goes on regardless: the gateway still holds the
			// truth, the transition is kept and recorded when the journal
			// can write, and no new charge starts meanwhile.
			j.log.Error("journal: recording a transition failed; kept to record when the journal can", "out_trade_no", e.OutTradeNo, "event", e.Kind, "err", err)
		}
		if e.Kind == payment.EventPaidLate {
			j.alert(context.Background(), AlertPaidLate, e.OutTradeNo)
		}
	}
}

func (j *Journal) record(e payment.Event) error {
	now := j.now().UnixNano()
	return j.write(func(ctx context.Context, tx *sql.Tx) error { return recordEvent(ctx, tx, e, now) })
}

func recordEvent(ctx context.Context, tx *sql.Tx, e payment.Event, now int64) error {
	var err error
	switch e.Kind {
	case payment.EventCreating, payment.EventResumed, payment.EventChecking, payment.EventPushUp, payment.EventPushDown,
		payment.EventGatewayUnreachable, payment.EventGatewayReachable:
		// Not a change of the sale; the event row below is enough.
	case payment.EventCancelling:
		_, err = tx.ExecContext(ctx, "UPDATE orders SET cancel_asked = 1, updated = ? WHERE out_trade_no = ?", now, e.OutTradeNo)
	default:
		// A state change ("created", a final state, "paid_late"). The
		// syssn and QR are kept once known: a later snapshot never blanks them.
		_, err = tx.ExecContext(ctx, `UPDATE orders SET state = ?, syssn = CASE WHEN ? <> '' THEN ? ELSE syssn END,
			qrcode = CASE WHEN ? <> '' THEN ? ELSE qrcode END, respcd = ?, reason = ?, late = late OR ?, updated = ?
			WHERE out_trade_no = ?`,
			e.State.String(), e.SysSN, e.SysSN, e.QRCode, e.QRCode, string(e.Code), e.Reason, e.Late, now, e.OutTradeNo)
	}
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO events (at, out_trade_no, source, kind, state, syssn, respcd, detail)
		VALUES (?,?,?,?,?,?,?,?)`, now, e.OutTradeNo, "machine", string(e.Kind), e.State.String(), e.SysSN, string(e.Code), e.Reason)
	return err
}

// RecordGatewayAnswer records one gateway answer about an order or a
// refund: the operation, the transaction's syssn and code, the outcome as
// the machine reads it, and the error when the call failed. Only what the
// gateway answered is kept: never the key, a signature or a request body.
// A call abandoned at shutdown is not recorded: its answer never came.
func (j *Journal) RecordGatewayAnswer(outTradeNo, op, syssn string, code payment.Code, outcome string, err error) {
	if errors.Is(err, context.Canceled) {
		return
	}
	detail := ""
	if err != nil {
		detail = err.Error()
		var ge *payment.Error
		if errors.As(err, &ge) && code == "" {
			code = ge.Code
		}
	}
	now := j.now().UnixNano()
	if e := j.write(func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO events (at, out_trade_no, source, kind, syssn, respcd, outcome, detail)
			VALUES (?,?,?,?,?,?,?,?)`, now, outTradeNo, "gateway", op, syssn, string(code), outcome, detail)
		return err
	}); e != nil {
		j.log.Error("journal: recording a gateway answer failed; kept to record when the journal can", "out_trade_no", outTradeNo, "op", op, "err", e)
	}
}

// RecordSysSN records on the order the gateway's id for it and, for a QR
// order, its QR ("" keeps the one recorded) as soon as a create or a
// charge answers, so an order whose process dies right after the reply
// is resumed, not looked for.
func (j *Journal) RecordSysSN(outTradeNo, syssn, qrcode string) {
	now := j.now().UnixNano()
	if e := j.write(func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE orders SET syssn = ?, qrcode = CASE WHEN ? <> '' THEN ? ELSE qrcode END, updated = ?
			WHERE out_trade_no = ?`, syssn, qrcode, qrcode, now, outTradeNo)
		return err
	}); e != nil {
		j.log.Error("journal: recording the gateway's answer on the order failed; kept to record when the journal can", "out_trade_no", outTradeNo, "err", e)
	}
}

// RecordResume notes that a restart resumes an order left unfinished.
func (j *Journal) RecordResume(ctx context.Context, o Order) error {
	_, err := j.db.ExecContext(ctx, `INSERT INTO events (at, out_trade_no, source, kind, state, syssn) VALUES (?,?,?,?,?,?)`,
		j.now().UnixNano(), o.OutTradeNo, "recovery", "resume", o.State.String(), o.SysSN)
	return err
}

// MarkPaidOffline records that an order left unfinished was found paid
// when the kiosk started again, and raises AlertPaidOffline.
func (j *Journal) MarkPaidOffline(outTradeNo string) {
	if err := j.write(func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "UPDATE orders SET paid_offline = 1 WHERE out_trade_no = ?", outTradeNo)
		return err
	}); err != nil {
		j.log.Error("journal: marking an order paid offline failed", "out_trade_no", outTradeNo, "err", err)
	}
	j.alert(context.Background(), AlertPaidOffline, outTradeNo)
}

// Event is one line of an order's journal.
type Event struct {
	At      time.Time
	Source  string // machine | gateway | refund | recovery
	Kind    string
	State   string
	SysSN   string
	Code    payment.Code
	Outcome string
	Detail  string
}

// Events returns the journal of one order (and its refunds), oldest first.
func (j *Journal) Events(ctx context.Context, outTradeNo string) ([]Event, error) {
	rows, err := j.db.QueryContext(ctx, `SELECT at, source, kind, state, syssn, respcd, outcome, detail FROM events
		WHERE out_trade_no = ? OR out_trade_no IN (SELECT out_trade_no FROM refunds WHERE orig_out_trade_no = ?) ORDER BY id`, outTradeNo, outTradeNo)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		var at int64
		var code string
		if err := rows.Scan(&at, &e.Source, &e.Kind, &e.State, &e.SysSN, &code, &e.Outcome, &e.Detail); err != nil {
			return nil, err
		}
		e.At, e.Code = time.Unix(0, at), payment.Code(code)
		out = append(out, e)
	}
	return out, rows.Err()
}
