package paymenttest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"qrkiosk/payment"
	"qrkiosk/payment/qfpay"
)

// Gateway is an in-memory gateway with QFPay's semantics for one merchant:
// orders are created pending, paid, declined, expired or closed, and a
// paid order cannot be withdrawn. It speaks QFPay's codes, read into
// outcomes by the QFPay client's own table. Hooks inject failures and
// races.
type Gateway struct {
	mu        sync.Mutex
	orders    map[string]*payment.Transaction
	seq       int
	calls     []string
	authCodes []string

	// CreateErr, if set, is returned by the next creates (and consumed).
	CreateErr []error
	// CommitThenFail makes the next create store the order and then fail
	// with this error, as a dropped reply does.
	CommitThenFail error
	// QueryErr, if set, is returned by the next queries (and consumed).
	QueryErr []error
	// BeforeCancel runs at the start of CancelOrder (e.g. the customer pays
	// while the cashier cancels).
	BeforeCancel func()
	// NoCancel makes CancelOrder answer ErrCancelUnsupported.
	NoCancel bool
	// RefundErr, if set, is returned by the next refunds (and consumed).
	RefundErr []error
	// CPMCode is what the next ChargeCPM answers once its order is stored
	// ("" = 1145: the customer confirms on the phone; a failure code
	// refuses it).
	CPMCode payment.Code
	// BeforeCreateAnswer runs once the next create has stored its order and
	// before its answer is returned (e.g. the customer pays at once and
	// the push overtakes the answer).
	BeforeCreateAnswer func()
}

// NewGateway returns an empty gateway.
func NewGateway() *Gateway { return &Gateway{orders: map[string]*payment.Transaction{}} }

func (g *Gateway) record(call string) { g.calls = append(g.calls, call) }

// read gives a stored transaction the outcome and words QFPay's client
// reads from its code and cancel flag.
func read(t *payment.Transaction) {
	t.Status, t.Text = qfpay.Outcome(t.Code, t.Cancel), qfpay.Describe(t.Code)
}

// refusal is QFPay's refusal of a call with code, as its client returns it.
func refusal(op string, code payment.Code) *payment.Error {
	return &payment.Error{Op: op, Code: code, Text: qfpay.Describe(code)}
}

// pop takes the first of the injected errors, if any.
func pop(errs *[]error) error {
	if len(*errs) == 0 {
		return nil
	}
	err := (*errs)[0]
	*errs = (*errs)[1:]
	return err
}

// Calls lists the calls made, e.g. "create", "query", "cancel".
func (g *Gateway) Calls() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.calls...)
}

// Count counts calls of one kind.
func (g *Gateway) Count(call string) int {
	n := 0
	for _, c := range g.Calls() {
		if c == call {
			n++
		}
	}
	return n
}

// Orders counts orders held.
func (g *Gateway) Orders() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.orders)
}

// CreateMPM stores a pending order.
func (g *Gateway) CreateMPM(ctx context.Context, req payment.CreateRequest) (*payment.Created, error) {
	c, err := g.create(req)
	if hook := g.takeBeforeCreateAnswer(); hook != nil {
		hook()
	}
	return c, err
}

func (g *Gateway) takeBeforeCreateAnswer() func() {
	g.mu.Lock()
	defer g.mu.Unlock()
	hook := g.BeforeCreateAnswer
	g.BeforeCreateAnswer = nil
	return hook
}

func (g *Gateway) create(req payment.CreateRequest) (*payment.Created, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.record("create")
	if err := pop(&g.CreateErr); err != nil {
		return nil, err
	}
	if _, dup := g.orders[req.OutTradeNo]; dup {
		return nil, refusal("create", qfpay.CodeDuplicateSerial)
	}
	g.seq++
	t := &payment.Transaction{
		Kind: payment.TxnPayment, SysSN: fmt.Sprintf("2026112200%016d", g.seq), OutTradeNo: req.OutTradeNo,
		PayType: req.PayType.Code, TxAmt: req.Amount.Minor, Currency: req.Amount.Currency.Code,
		Code: qfpay.CodeUserPaying, QRCode: "https://qr.example.invalid/" + req.OutTradeNo,
	}
	read(t)
	g.orders[req.OutTradeNo] = t
	if g.CommitThenFail != nil {
		err := g.CommitThenFail
		g.CommitThenFail = nil
		return nil, err
	}
	return &payment.Created{SysSN: t.SysSN, OutTradeNo: t.OutTradeNo, QRCode: t.QRCode, Code: t.Code}, nil
}

// Name is the gateway's name in the journal.
func (g *Gateway) Name() string { return "test" }

// QueryOrder returns a copy of the order.
func (g *Gateway) QueryOrder(ctx context.Context, ref payment.OrderRef) (*payment.Transaction, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.record("query")
	if err := pop(&g.QueryErr); err != nil {
		return nil, err
	}
	t, ok := g.orders[ref.OutTradeNo]
	if !ok {
		return nil, payment.ErrNotFound
	}
	c := *t
	c.QRCode = "" // as QFPay's: a query answer carries no QR
	return &c, nil
}

// CancelOrder withdraws an unpaid order.
func (g *Gateway) CancelOrder(ctx context.Context, ref payment.OrderRef) error {
	if g.BeforeCancel != nil {
		g.BeforeCancel()
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.record("cancel")
	if g.NoCancel {
		return payment.ErrCancelUnsupported
	}
	t, ok := g.orders[ref.OutTradeNo]
	if !ok {
		return refusal("cancel", qfpay.CodeNoSuchTransaction)
	}
	if t.Code == qfpay.CodeSuccess {
		return refusal("cancel", qfpay.CodeOrderAlreadyPaid)
	}
	t.Cancel, t.Code = qfpay.CancelFlagMPMCancelled, qfpay.CodeOrderClosed
	read(t)
	return nil
}

func (g *Gateway) set(outTradeNo string, fn func(*payment.Transaction)) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	t, ok := g.orders[outTradeNo]
	if !ok {
		return payment.ErrNotFound
	}
	fn(t)
	read(t)
	return nil
}

// Pay marks the order paid, as the customer's wallet does.
func (g *Gateway) Pay(outTradeNo string) error {
	return g.set(outTradeNo, func(t *payment.Transaction) { t.Code = qfpay.CodeSuccess })
}

// Decline fails the order with code.
func (g *Gateway) Decline(outTradeNo string, code payment.Code) error {
	return g.set(outTradeNo, func(t *payment.Transaction) { t.Code = code })
}

// Expire expires the order at the gateway.
func (g *Gateway) Expire(outTradeNo string) error {
	return g.set(outTradeNo, func(t *payment.Transaction) { t.Code = qfpay.CodeOrderExpired })
}

// Record returns a copy of the order, e.g. to build a notification.
func (g *Gateway) Record(outTradeNo string) payment.Transaction {
	g.mu.Lock()
	defer g.mu.Unlock()
	return *g.orders[outTradeNo]
}

// Refund refunds a paid order at once: the refund is a transaction of its
// own, found again by QueryRefund. RefundErr, if set, is returned instead
// (and consumed), before anything is stored.
func (g *Gateway) Refund(ctx context.Context, req payment.RefundRequest) (*payment.Transaction, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.record("refund")
	if err := pop(&g.RefundErr); err != nil {
		return nil, err
	}
	orig, ok := g.orders[req.Orig.OutTradeNo]
	if !ok || orig.Code != qfpay.CodeSuccess {
		return nil, refusal("refund", qfpay.CodeOrderNotPaid)
	}
	g.seq++
	t := &payment.Transaction{
		Kind: payment.TxnRefund, SysSN: fmt.Sprintf("2026112200%016d", g.seq), OutTradeNo: req.OutTradeNo,
		PayType: orig.PayType, TxAmt: req.Amount.Minor, Currency: req.Amount.Currency.Code,
		Code: qfpay.CodeSuccess, OrigSysSN: orig.SysSN,
	}
	read(t)
	g.orders[req.OutTradeNo] = t
	c := *t
	return &c, nil
}

// QueryRefund returns a copy of the refund.
func (g *Gateway) QueryRefund(ctx context.Context, req payment.RefundRequest) (*payment.Transaction, error) {
	return g.QueryOrder(ctx, payment.OrderRef{OutTradeNo: req.OutTradeNo})
}

// VerifyNotification reads a notification as JSON of a payment.Transaction;
// a sign other than "ok" is a forgery.
func (g *Gateway) VerifyNotification(body []byte, sign string) (*payment.Transaction, error) {
	if sign != "ok" {
		return nil, errors.New("paymenttest: bad signature")
	}
	var t payment.Transaction
	if err := json.Unmarshal(body, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// AuthCodes are the customer codes ChargeCPM was given, in order.
func (g *Gateway) AuthCodes() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.authCodes...)
}

// ChargeCPM stores a customer-presented payment: pending while the
// customer confirms (CPMCode "" or 1143/1145), paid (0000), or refused.
// CreateErr, CommitThenFail and BeforeCreateAnswer work as for CreateMPM.
func (g *Gateway) ChargeCPM(ctx context.Context, req payment.CreateRequest) (*payment.Transaction, error) {
	t, err := g.chargeCPM(req)
	if hook := g.takeBeforeCreateAnswer(); hook != nil {
		hook()
	}
	return t, err
}

func (g *Gateway) chargeCPM(req payment.CreateRequest) (*payment.Transaction, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.record("cpm")
	g.authCodes = append(g.authCodes, req.AuthCode)
	if err := pop(&g.CreateErr); err != nil {
		return nil, err
	}
	code := g.CPMCode
	if code == "" {
		code = qfpay.CodeProcessing
	}
	if qfpay.ClassOf(code) == qfpay.ClassFailure {
		return nil, refusal("cpm", code)
	}
	g.seq++
	t := &payment.Transaction{
		Kind: payment.TxnPayment, SysSN: fmt.Sprintf("2026112200%016d", g.seq), OutTradeNo: req.OutTradeNo,
		PayType: req.PayType.Code, TxAmt: req.Amount.Minor, Currency: req.Amount.Currency.Code, Code: code,
	}
	read(t)
	g.orders[req.OutTradeNo] = t
	if g.CommitThenFail != nil {
		err := g.CommitThenFail
		g.CommitThenFail = nil
		return nil, err
	}
	c := *t
	return &c, nil
}

var _ payment.Gateway = (*Gateway)(nil)
var _ payment.CPMGateway = (*Gateway)(nil)
