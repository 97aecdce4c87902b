// Package settle takes sales through the journal to their gateway: it
// starts each order once it is recorded, resumes what a restart left
// unfinished, refunds, and reconciles a day with the gateway.
//
// The journal only records and answers; the order machine (payment) only
// decides. Everything here is the workflow between them, and every step is
// recorded before it reaches the gateway.
package settle

import (
	"context"

	"qrkiosk/internal/journal"
	"qrkiosk/payment"
)

// Start records the order in the journal, then starts its machine with the
// journal observing every transition and every gateway answer. Nothing
// reaches the gateway unless the order is on disk first: an error means
// nothing was sent.
func Start(ctx context.Context, j *journal.Journal, cfg payment.MachineConfig, req payment.CreateRequest, observers ...func(payment.Event)) (*payment.Order, error) {
	if req.TxTime.IsZero() {
		req.TxTime = j.Now()
	}
	req.Expiry = req.Window()
	if err := j.Begin(ctx, req); err != nil {
		return nil, err
	}
	cfg.Gateway = Journaled(j, cfg.Gateway)
	cfg.Reissue = j.Reissue
	return payment.StartOrder(ctx, cfg, req, append([]func(payment.Event){j.Observer()}, observers...)...), nil
}

// Journaled wraps gw so that every answer is recorded in j. A create's
// answer (syssn and QR) is recorded on the order at once, so an order
// whose process dies right after the reply is resumed, not looked for.
func Journaled(j *journal.Journal, gw payment.OrderGateway) payment.OrderGateway {
	if jg, ok := gw.(*journaledGateway); ok && jg.j == j {
		return gw
	}
	return &journaledGateway{j: j, gw: gw}
}

type journaledGateway struct {
	j  *journal.Journal
	gw payment.OrderGateway
}

func (g *journaledGateway) CreateMPM(ctx context.Context, req payment.CreateRequest) (*payment.Created, error) {
	c, err := g.gw.CreateMPM(ctx, req)
	if err != nil {
		g.j.RecordGatewayAnswer(req.OutTradeNo, "create", "", "", "", err)
		return c, err
	}
	outcome := payment.OutcomePending.String()
	if c.Existing != nil {
		outcome = c.Existing.Outcome().String()
	}
	g.j.RecordGatewayAnswer(req.OutTradeNo, "create", c.SysSN, c.Code, outcome, nil)
	if c.SysSN != "" {
		g.j.RecordSysSN(req.OutTradeNo, c.SysSN, c.QRCode)
	}
	return c, nil
}

// ChargeCPM records a scanned code's charge like a create (never the code
// itself); the syssn of an accepted one is recorded at once.
func (g *journaledGateway) ChargeCPM(ctx context.Context, req payment.CreateRequest) (*payment.Transaction, error) {
	cg, ok := g.gw.(payment.CPMGateway)
	if !ok {
		return nil, &payment.FieldError{Field: "pay_type", Value: req.PayType.Code, Rule: "this gateway takes no scanned payment codes"}
	}
	t, err := cg.ChargeCPM(ctx, req)
	if err != nil {
		g.j.RecordGatewayAnswer(req.OutTradeNo, "cpm", "", "", "", err)
		return t, err
	}
	g.j.RecordGatewayAnswer(req.OutTradeNo, "cpm", t.SysSN, t.Code, t.Outcome().String(), nil)
	if t.SysSN != "" {
		g.j.RecordSysSN(req.OutTradeNo, t.SysSN, "")
	}
	return t, nil
}

func (g *journaledGateway) QueryOrder(ctx context.Context, ref payment.OrderRef) (*payment.Transaction, error) {
	t, err := g.gw.QueryOrder(ctx, ref)
	if err != nil {
		g.j.RecordGatewayAnswer(ref.OutTradeNo, "query", "", "", "", err)
		return t, err
	}
	g.j.RecordGatewayAnswer(ref.OutTradeNo, "query", t.SysSN, t.Code, t.Outcome().String(), nil)
	return t, nil
}

func (g *journaledGateway) CancelOrder(ctx context.Context, ref payment.OrderRef) error {
	err := g.gw.CancelOrder(ctx, ref)
	g.j.RecordGatewayAnswer(ref.OutTradeNo, "cancel:"+ref.PayType.Cancel.String(), ref.SysSN, "", "", err)
	return err
}
