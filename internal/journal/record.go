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

// Start records the order, then starts its machine with the journal
// observing every transition and every gateway answer. Nothing reaches the
// gateway unless the order is on disk first.
func (j *Journal) Start(ctx context.Context, cfg payment.MachineConfig, req payment.CreateRequest, observers ...func(payment.Event)) (*payment.Order, error) {
	if req.TxTime.IsZero() {
		req.TxTime = j.now()
	}
	req.Expiry = req.Window()
	if err := j.Begin(ctx, req); err != nil {
		return nil, err
	}
	cfg.Gateway = j.Gateway(cfg.Gateway)
	cfg.Reissue = j.reissue
	return payment.StartOrder(ctx, cfg, req, append([]func(payment.Event){j.Observer()}, observers...)...), nil
}

// reissue records the order that replaces one whose QR was lost, before
// its create call, and marks the lost one: withdrawn, never shown, and
// replaced (reconcile does not call it a difference).
func (j *Journal) reissue(next payment.CreateRequest, replaces string) error {
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

// gatewayEvent records one gateway answer. Only what the gateway answered is
// kept: never the key, a signature or a request body.
func (j *Journal) gatewayEvent(outTradeNo, op, syssn string, code payment.Code, outcome string, err error) {
	if errors.Is(err, context.Canceled) {
		return // abandoned at shutdown: the gateway's answer never came
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

// Gateway wraps gw so that every answer is journaled. A create's answer
// (syssn and QR) is recorded on the order at once, so an order whose
// process dies right after the reply is resumed, not looked for.
func (j *Journal) Gateway(gw payment.OrderGateway) payment.OrderGateway {
	if jg, ok := gw.(*journaledGateway); ok && jg.j == j {
		return gw
	}
	return &journaledGateway{j: j, gw: gw}
}

type journaledGateway struct {
	j  *Journal
	gw payment.OrderGateway
}

func (g *journaledGateway) CreateMPM(ctx context.Context, req payment.CreateRequest) (*payment.Created, error) {
	c, err := g.gw.CreateMPM(ctx, req)
	if err != nil {
		g.j.gatewayEvent(req.OutTradeNo, "create", "", "", "", err)
		return c, err
	}
	outcome := payment.OutcomePending.String()
	if c.Existing != nil {
		outcome = c.Existing.Outcome().String()
	}
	g.j.gatewayEvent(req.OutTradeNo, "create", c.SysSN, c.Code, outcome, nil)
	if c.SysSN != "" {
		now := g.j.now().UnixNano()
		if e := g.j.write(func(ctx context.Context, tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE orders SET syssn = ?, qrcode = CASE WHEN ? <> '' THEN ? ELSE qrcode END, updated = ?
				WHERE out_trade_no = ?`, c.SysSN, c.QRCode, c.QRCode, now, req.OutTradeNo)
			return err
		}); e != nil {
			g.j.log.Error("journal: recording the create answer failed; kept to record when the journal can", "out_trade_no", req.OutTradeNo, "err", e)
		}
	}
	return c, nil
}

// ChargeCPM journals a scanned code's charge like a create (never the
// code itself); the syssn of an accepted one is recorded at once.
func (g *journaledGateway) ChargeCPM(ctx context.Context, req payment.CreateRequest) (*payment.Transaction, error) {
	cg, ok := g.gw.(payment.CPMGateway)
	if !ok {
		return nil, &payment.FieldError{Field: "pay_type", Value: req.PayType.Code, Rule: "this gateway takes no scanned payment codes"}
	}
	t, err := cg.ChargeCPM(ctx, req)
	if err != nil {
		g.j.gatewayEvent(req.OutTradeNo, "cpm", "", "", "", err)
		return t, err
	}
	g.j.gatewayEvent(req.OutTradeNo, "cpm", t.SysSN, t.Code, t.Outcome().String(), nil)
	if t.SysSN != "" {
		now := g.j.now().UnixNano()
		if e := g.j.write(func(ctx context.Context, tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE orders SET syssn = ?, updated = ? WHERE out_trade_no = ?`, t.SysSN, now, req.OutTradeNo)
			return err
		}); e != nil {
			g.j.log.Error("journal: recording the charge's answer failed; kept to record when the journal can", "out_trade_no", req.OutTradeNo, "err", e)
		}
	}
	return t, nil
}

func (g *journaledGateway) QueryOrder(ctx context.Context, ref payment.OrderRef) (*payment.Transaction, error) {
	t, err := g.gw.QueryOrder(ctx, ref)
	outTradeNo := ref.OutTradeNo
	if err != nil {
		g.j.gatewayEvent(outTradeNo, "query", "", "", "", err)
		return t, err
	}
	g.j.gatewayEvent(outTradeNo, "query", t.SysSN, t.Code, t.Outcome().String(), nil)
	return t, nil
}

func (g *journaledGateway) CancelOrder(ctx context.Context, ref payment.OrderRef) error {
	err := g.gw.CancelOrder(ctx, ref)
	g.j.gatewayEvent(ref.OutTradeNo, "cancel:"+ref.PayType.Cancel.String(), ref.SysSN, "", "", err)
	return err
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
