package qfpay

import (
	"context"
	"fmt"

	"qrkiosk/payment"
)

// ValidateCPM checks a customer-presented payment before anything is sent:
// a CPM pay type, a 16–24 digit code, and the amount and goods name rules
// of every payment.
func ValidateCPM(req payment.CreateRequest) error {
	if req.PayType.Mode != payment.CPM {
		return &payment.FieldError{Field: "pay_type", Value: req.PayType.Code, Rule: "must be a customer-presented (CPM) pay type"}
	}
	if err := payment.ValidateAuthCode(req.AuthCode); err != nil {
		return err
	}
	mpm := req
	mpm.PayType.Mode, mpm.Expiry = payment.MPM, 0
	return ValidateCreate(mpm)
}

// ChargeCPM charges the code the cashier scanned from the customer's
// wallet (payment.CPMGateway): /trade/v1/payment with auth_code, sent once.
// It is never sent again, whatever happens — the code may already be
// spent — so an answer that was lost is an error wrapping
// payment.ErrOutcomeUnknown, for the caller to settle by query. 0000 is
// paid; 1143/1145 (the customer confirms on the phone) is pending; a
// refusal is a *payment.Error.
func (c *Client) ChargeCPM(ctx context.Context, req payment.CreateRequest) (*payment.Transaction, error) {
	if err := ValidateCPM(req); err != nil {
		return nil, err
	}
	p := c.createParams(req)
	p.Del("expired_time")
	p.Set("auth_code", req.AuthCode)
	var w wireTxn
	// Not idempotent: only an attempt that certainly never reached the
	// gateway (no connection, 429) is tried again.
	if err := c.call(ctx, "cpm", PathPayment, p, false, &w); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if isUnknown(err) {
			return nil, fmt.Errorf("charge %s: %w (%v)", req.OutTradeNo, payment.ErrOutcomeUnknown, err)
		}
		return nil, err
	}
	code := payment.Code(w.Respcd.String())
	switch {
	case code == CodeSuccess || ClassOf(code) == ClassPending:
	case Uncertain(code) || duplicate(code):
		// "Slow network, do not pay again" and the like: the customer may
		// have paid; only a query can tell.
		return nil, fmt.Errorf("charge %s: %w (respcd %s)", req.OutTradeNo, payment.ErrOutcomeUnknown, code)
	default:
		c.log.Info("qfpay scanned code refused", "out_trade_no", req.OutTradeNo, "respcd", code)
		return nil, gatewayError("cpm", w)
	}
	t, err := w.transaction()
	if err != nil {
		return nil, fmt.Errorf("charge %s: %w (unreadable answer: %v)", req.OutTradeNo, payment.ErrOutcomeUnknown, err)
	}
	// The answer is for this order, whatever it omits.
	t.Kind, t.Code = payment.TxnPayment, code
	read(&t)
	if t.OutTradeNo == "" {
		t.OutTradeNo = req.OutTradeNo
	}
	if t.TxAmt == 0 {
		t.TxAmt = req.Amount.Minor
	}
	c.log.Info("qfpay scanned code charged", "out_trade_no", req.OutTradeNo, "syssn", t.SysSN, "respcd", code, "pay_type", t.PayType)
	return &t, nil
}

var _ payment.CPMGateway = (*Client)(nil)
