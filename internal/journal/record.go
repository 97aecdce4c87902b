package journal

import (
	"context"
	"errors"
	"fmt"
	"time"

	"qrkiosk/payment"
)

// Begin records a new order before its create call. req must carry its
// OutTradeNo, TxTime and Expiry as they will be sent.
func (j *Journal) Begin(ctx context.Context, req payment.CreateRequest) error {
	if req.OutTradeNo == "" || req.TxTime.IsZero() {
		return errors.New("journal: an order needs its out_trade_no and txdtm before it is recorded")
	}
	if req.Expiry == 0 {
		req.Expiry = payment.DefaultExpiryMinutes * time.Minute
	}
	local := req.TxTime.In(j.loc)
	_, err := j.db.ExecContext(ctx, `INSERT INTO orders (out_trade_no, gateway, txamt, currency, pay_type, udid, goods_name,
		tx_time, txdtm, day, expiry_s, deadline, state, updated) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		req.OutTradeNo, j.gateway, req.Amount.Minor, req.Amount.Currency.Code, req.PayType.Code, j.udid, req.GoodsName,
		req.TxTime.UnixNano(), local.Format(payment.LocalTimeLayout), local.Format(payment.DayLayout), int64(req.Expiry/time.Second),
		req.TxTime.Add(req.Expiry).UnixNano(), payment.StateCreating.String(), j.now().UnixNano())
	if err != nil {
		return fmt.Errorf("journal: recording order %s: %w", req.OutTradeNo, err)
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
	if req.Expiry == 0 {
		req.Expiry = payment.DefaultExpiryMinutes * time.Minute
	}
	if err := j.Begin(ctx, req); err != nil {
		return nil, err
	}
	cfg.Gateway = j.Gateway(cfg.Gateway)
	return payment.StartOrder(ctx, cfg, req, append([]func(payment.Event){j.Observer()}, observers...)...), nil
}

// Observer returns a payment.Event observer that records each transition of
// an order that Begin recorded, and raises AlertPaidLate.
func (j *Journal) Observer() func(payment.Event) {
	return func(e payment.Event) {
		if err := j.record(e); err != nil {
			// The machine goes on regardless: the gateway still holds the
			// truth and the next start resolves the order from it.
			j.log.Error("journal: recording a transition failed", "out_trade_no", e.OutTradeNo, "event", e.Kind, "err", err)
		}
		if e.Kind == payment.EventPaidLate {
			j.alert(context.Background(), AlertPaidLate, e.OutTradeNo)
		}
	}
}

func (j *Journal) record(e payment.Event) error {
	ctx := context.Background()
	tx, err := j.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	now := j.now().UnixNano()
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
	if _, err := tx.ExecContext(ctx, `INSERT INTO events (at, out_trade_no, source, kind, state, syssn, respcd, detail)
		VALUES (?,?,?,?,?,?,?,?)`, now, e.OutTradeNo, "machine", string(e.Kind), e.State.String(), e.SysSN, string(e.Code), e.Reason); err != nil {
		return err
	}
	return tx.Commit()
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
	if _, e := j.db.Exec(`INSERT INTO events (at, out_trade_no, source, kind, syssn, respcd, outcome, detail)
		VALUES (?,?,?,?,?,?,?,?)`, j.now().UnixNano(), outTradeNo, "gateway", op, syssn, string(code), outcome, detail); e != nil {
		j.log.Error("journal: recording a gateway answer failed", "out_trade_no", outTradeNo, "op", op, "err", e)
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
		if _, e := g.j.db.Exec(`UPDATE orders SET syssn = ?, qrcode = CASE WHEN ? <> '' THEN ? ELSE qrcode END, updated = ?
			WHERE out_trade_no = ?`, c.SysSN, c.QRCode, c.QRCode, g.j.now().UnixNano(), req.OutTradeNo); e != nil {
			g.j.log.Error("journal: recording the create answer failed", "out_trade_no", req.OutTradeNo, "err", e)
		}
	}
	return c, nil
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
