package scanforpay

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"qrkiosk/payment"
)

// wallets maps the catalog's wallet keys to ScanForPay's wallet names.
var wallets = map[string]string{"alipay": "Alipay", "wechat": "Wechat"}

// PayTypes is what ScanForPay takes: Alipay and WeChat Pay, each with no
// expiry parameter (the kiosk keeps its own countdown and decides by a
// final query) and no cancel call (an unpaid QR stays payable at the
// gateway; a later payment is reported as paid late).
func PayTypes() payment.Catalog {
	var c payment.Catalog
	for _, p := range payment.AllPayTypes().MPM() {
		if _, ok := wallets[p.Wallet]; ok {
			p.HonoursExpiry, p.Cancel, p.Refundable = false, payment.CancelNone, true
			c = append(c, p)
		}
	}
	// A scanned code: ScanForPay tells Alipay from WeChat Pay by the code
	// itself, like QFPay's all-in-one; it has no cancel either.
	if p, err := payment.LookupCPMPayType(""); err == nil {
		p.Cancel = payment.CancelNone
		c = append(c, p)
	}
	return c
}

// PayTypes is the client's catalog (payment.PayTypeCatalog).
func (c *Client) PayTypes() payment.Catalog { return PayTypes() }

// WalletName is ScanForPay's wallet for a pay type ("Alipay", "Wechat").
func WalletName(p payment.PayType) (string, bool) {
	w, ok := wallets[p.Wallet]
	return w, ok
}

// payTypeOf is the catalog code of a wallet name in an answer ("" when it
// is not one the kiosk offers).
func payTypeOf(wallet string) string {
	for k, w := range wallets {
		if strings.EqualFold(w, strings.TrimSpace(wallet)) {
			if p, err := PayTypes().Lookup(k); err == nil {
				return p.Code
			}
		}
	}
	return ""
}

// MaxOrderAmount is the largest orderAmount: the field is an int.
const MaxOrderAmount = 1<<31 - 1

// ValidateCreate checks a create request against ScanForPay's rules
// (payment.CreateValidator): the kiosk asks before it records the order.
func (c *Client) ValidateCreate(req payment.CreateRequest) error {
	if req.PayType.Mode == payment.CPM {
		if err := payment.ValidateAuthCode(req.AuthCode); err != nil {
			return err
		}
		err := ValidateBarcode(BarcodeRequest{OutTradeNo: req.OutTradeNo, Amount: req.Amount, Barcode: req.AuthCode, GoodsName: req.GoodsName})
		var fe *payment.FieldError
		if errors.As(err, &fe) && fe.Field == "barcode" {
			return &payment.FieldError{Field: "auth_code", Rule: "ScanForPay takes payment codes of at most 20 digits"}
		}
		return err
	}
	return ValidateCreate(req)
}

// ValidateCreate checks a create request against the gateway's rules before
// anything is sent. The error names the field and the rule.
func ValidateCreate(req payment.CreateRequest) error {
	if err := validateOrderNo("partnerOrderNo", req.OutTradeNo); err != nil {
		return err
	}
	if err := validateAmount(req.Amount); err != nil {
		return err
	}
	switch {
	case req.PayType.Mode != payment.MPM:
		return &payment.FieldError{Field: "pay_type", Value: req.PayType.Code, Rule: "must be a merchant-presented (MPM) pay type"}
	case !offered(req.PayType):
		return &payment.FieldError{Field: "pay_type", Value: req.PayType.Wallet, Rule: "ScanForPay takes only " + strings.Join(PayTypes().MPMWallets(), " and ")}
	}
	if err := payment.ValidateExpiry(req.Expiry); err != nil {
		return err
	}
	return validateTitle(req.GoodsName)
}

func offered(p payment.PayType) bool {
	_, ok := WalletName(p)
	return ok && p.Mode == payment.MPM
}

func validateOrderNo(field, s string) error {
	switch {
	case s == "":
		return &payment.FieldError{Field: field, Rule: "is required"}
	case len(s) > 32:
		return &payment.FieldError{Field: field, Value: s, Rule: "must be at most 32 characters"}
	}
	for _, r := range s {
		if r <= ' ' || r > '~' {
			return &payment.FieldError{Field: field, Value: s, Rule: "must be printable ASCII without spaces"}
		}
	}
	return nil
}

func validateAmount(a payment.Amount) error {
	switch {
	case a.Currency.Code == "":
		return &payment.FieldError{Field: "currency", Rule: "is required"}
	case a.Minor <= 0:
		return &payment.FieldError{Field: "amount", Rule: "must be greater than zero"}
	case a.Minor > MaxOrderAmount:
		return &payment.FieldError{Field: "amount", Value: a.String(), Rule: "must be at most " + payment.Amount{Minor: MaxOrderAmount, Currency: a.Currency}.String() + " (ScanForPay's orderAmount is a 32-bit integer of minor units)"}
	}
	return nil
}

// validateTitle checks orderTitle: at most 100 characters of UTF-8.
func validateTitle(s string) error {
	switch {
	case !utf8.ValidString(s):
		return &payment.FieldError{Field: "goods_name", Rule: "must be UTF-8 text"}
	case utf8.RuneCountInString(s) > 100:
		return &payment.FieldError{Field: "goods_name", Value: s, Rule: "must be at most 100 characters (orderTitle)"}
	}
	return nil
}

// CreateMPM creates a merchant-presented QR order. When the outcome of the
// call is unknown (timeout, connection lost after sending, 5xx, an answer
// that fails its signature check), it asks the gateway for the
// partnerOrderNo: an order found there is adopted; only when the gateway
// says there is none is the SAME order (same partnerOrderNo) sent again.
// It never makes a second order for one sale. If the outcome still cannot
// be settled, the error wraps payment.ErrOutcomeUnknown: keep querying.
//
// ScanForPay has no expiry parameter: req.Expiry is the kiosk's own
// countdown, not sent.
func (c *Client) CreateMPM(ctx context.Context, req payment.CreateRequest) (*payment.Created, error) {
	if err := ValidateCreate(req); err != nil {
		return nil, err
	}
	wallet, _ := WalletName(req.PayType)
	body := CreateBody{
		StoreNo: c.storeNo, PartnerOrderNo: req.OutTradeNo, Wallet: wallet, OrderAmount: req.Amount.Minor,
		OrderTitle: req.GoodsName, TerminalNo: c.terminalNo, NotifyURL: c.notifyURL,
	}
	var lastErr error
	for round := 1; round <= c.maxAttempts; round++ {
		if round > 1 {
			if err := c.sleep(ctx, round-1); err != nil {
				return nil, err
			}
		}
		rb, err := c.call(ctx, "create", PathCreate, body, false, req.OutTradeNo)
		switch {
		case err == nil && rb.OK() && rb.QRCode != "":
			if rb.PartnerOrderNo != "" && rb.PartnerOrderNo != req.OutTradeNo {
				err = &payment.TransportError{Op: "create", Err: fmt.Errorf("answer names order %q, not %q", rb.PartnerOrderNo, req.OutTradeNo), MaybeActed: true}
				break
			}
			c.log.Info("scanforpay order created", "partner_order_no", req.OutTradeNo, "order_no", rb.OrderNo)
			return &payment.Created{SysSN: rb.OrderNo, OutTradeNo: req.OutTradeNo, QRCode: rb.QRCode}, nil
		case err == nil && rb.OK():
			// Success without a QR: the gateway holds an order we cannot
			// show. Settle it like a lost reply.
			err = &payment.TransportError{Op: "create", Err: errors.New("code 1 without a qrcode"), MaybeActed: true}
		case err == nil && round == 1:
			c.log.Info("scanforpay create refused", "partner_order_no", req.OutTradeNo, "code", rb.Code.Value, "msg", rb.Msg)
			return nil, gatewayError("create", rb)
		case err == nil:
			// A refusal of a re-sent order may be the gateway refusing the
			// duplicate of the one the lost round made: not a verdict.
			err = &payment.TransportError{Op: "create", Err: gatewayError("create", rb), MaybeActed: true}
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if !isUnknown(err) {
			return nil, err // refused outright, or never reached the gateway
		}
		lastErr = err
		c.log.Warn("scanforpay create outcome unknown; asking the gateway", "partner_order_no", req.OutTradeNo, "round", round, "err", err)
		txn, qerr := c.query(ctx, req.OutTradeNo, "")
		switch {
		case qerr == nil:
			c.log.Info("scanforpay order adopted after unknown create", "partner_order_no", req.OutTradeNo, "order_no", txn.SysSN, "outcome", txn.Outcome())
			// payQuery carries no qrcode: an adopted unpaid order cannot be
			// shown again, and the order machine says so.
			return &payment.Created{SysSN: txn.SysSN, OutTradeNo: req.OutTradeNo, QRCode: txn.QRCode, Adopted: true, Existing: txn}, nil
		case errors.Is(qerr, payment.ErrNotFound):
			continue // the gateway has no such order: the same order again is safe
		case ctx.Err() != nil:
			return nil, ctx.Err()
		default:
			return nil, fmt.Errorf("create %s: %w (%v; query: %v)", req.OutTradeNo, payment.ErrOutcomeUnknown, err, qerr)
		}
	}
	return nil, fmt.Errorf("create %s: %w (gave up after %d attempts: %v)", req.OutTradeNo, payment.ErrOutcomeUnknown, c.maxAttempts, lastErr)
}

// QueryOrder returns the gateway's record of the order, or
// payment.ErrNotFound.
func (c *Client) QueryOrder(ctx context.Context, ref payment.OrderRef) (*payment.Transaction, error) {
	return c.query(ctx, ref.OutTradeNo, ref.SysSN)
}

func (c *Client) query(ctx context.Context, partnerOrderNo, orderNo string) (*payment.Transaction, error) {
	if partnerOrderNo == "" && orderNo == "" {
		return nil, &payment.FieldError{Field: "partnerOrderNo/orderNo", Rule: "one of them is required"}
	}
	rb, err := c.call(ctx, "query", PathQuery, QueryBody{StoreNo: c.storeNo, PartnerOrderNo: partnerOrderNo, OrderNo: orderNo}, true, partnerOrderNo)
	if err != nil {
		return nil, err
	}
	if rb.Code.Value == CodeOrderNotFound {
		return nil, fmt.Errorf("query %s: %w", partnerOrderNo, payment.ErrNotFound)
	}
	if !rb.OK() {
		return nil, gatewayError("query", rb)
	}
	t, err := transaction(rb)
	if err != nil {
		return nil, &payment.TransportError{Op: "query", Err: err, MaybeActed: true}
	}
	if partnerOrderNo != "" && t.OutTradeNo != partnerOrderNo {
		return nil, &payment.TransportError{Op: "query", Err: fmt.Errorf("answer names order %q, not %q", t.OutTradeNo, partnerOrderNo), MaybeActed: true}
	}
	return t, nil
}

// transaction reads a payment as payQuery and notifications describe it.
func transaction(rb ResultBody) (*payment.Transaction, error) {
	if rb.PartnerOrderNo == "" {
		return nil, errors.New("partnerOrderNo is missing")
	}
	if !rb.Status.Set {
		return nil, errors.New("status is missing")
	}
	t := &payment.Transaction{
		Kind:       payment.TxnPayment,
		SysSN:      rb.OrderNo,
		OutTradeNo: rb.PartnerOrderNo,
		PayType:    payTypeOf(rb.Wallet),
		TxAmt:      rb.OrderAmount.Value,
		Currency:   currency(rb.Currency),
		PayDtm:     rb.PayTime,
	}
	switch rb.Status.Value {
	case StatusUnpaid:
		t.Status = payment.OutcomePending
	case StatusPaid:
		t.Status = payment.OutcomePaid
	case StatusRefunded:
		// Paid, then refunded in full: the sale happened.
		t.Status, t.Cancel = payment.OutcomePaid, StatusRefunded
	case StatusFailed:
		t.Status = payment.OutcomeFailed
		t.ErrMsg = rb.message()
		if t.ErrMsg == "" {
			t.ErrMsg = "The wallet did not complete the payment."
		}
	default:
		return nil, fmt.Errorf("status %d is not one ScanForPay documents", rb.Status.Value)
	}
	return t, nil
}

// currency normalises the answer's currency to the ISO code the kiosk
// uses ("RMB" is CNY), leaving an unknown one as sent so a mismatch shows.
func currency(s string) string {
	if cur, err := payment.LookupCurrency(s); err == nil {
		return cur.Code
	}
	return strings.ToUpper(strings.TrimSpace(s))
}

// CancelOrder: ScanForPay has no cancel or close call. An unpaid order
// stays payable at the gateway; the kiosk stops offering it and decides by
// a final query, and a later payment is reported as paid late.
func (c *Client) CancelOrder(context.Context, payment.OrderRef) error {
	return payment.ErrCancelUnsupported
}

// BarcodeRequest is a customer-presented payment: the cashier scanned the
// customer's Alipay or WeChat Pay payment code.
type BarcodeRequest struct {
	OutTradeNo string // partnerOrderNo, generated once per sale and journaled first
	Amount     payment.Amount
	Barcode    string // the scanned code, ≤20
	GoodsName  string
}

// ValidateBarcode checks a barcode payment before anything is sent.
func ValidateBarcode(req BarcodeRequest) error {
	if err := validateOrderNo("partnerOrderNo", req.OutTradeNo); err != nil {
		return err
	}
	if err := validateAmount(req.Amount); err != nil {
		return err
	}
	switch {
	case req.Barcode == "":
		return &payment.FieldError{Field: "barcode", Rule: "is required (scan the customer's payment code)"}
	case len(req.Barcode) > 20 || strings.Trim(req.Barcode, "0123456789") != "":
		return &payment.FieldError{Field: "barcode", Value: req.Barcode, Rule: "must be the digits of a wallet payment code, at most 20"}
	}
	return validateTitle(req.GoodsName)
}

// PayBarcode charges a scanned payment code (/api/offline/pay). The
// result usually comes later, by notification or query: the transaction
// returned is pending unless the answer states a status. An unknown
// outcome is settled by a query of the same partnerOrderNo, never by
// charging the code again; when even that cannot tell, the error wraps
// payment.ErrOutcomeUnknown (keep querying with QueryOrder).
//
// The customer-presented flow uses it as its gateway call; the order
// machine then follows the order with QueryOrder and notifications exactly
// as for a QR order.
func (c *Client) PayBarcode(ctx context.Context, req BarcodeRequest) (*payment.Transaction, error) {
	if err := ValidateBarcode(req); err != nil {
		return nil, err
	}
	body := PayBody{
		StoreNo: c.storeNo, PartnerOrderNo: req.OutTradeNo, Barcode: req.Barcode, OrderAmount: req.Amount.Minor,
		OrderTitle: req.GoodsName, TerminalNo: c.terminalNo, NotifyURL: c.notifyURL,
	}
	rb, err := c.call(ctx, "pay", PathPay, body, false, req.OutTradeNo)
	switch {
	case err == nil && !rb.OK():
		c.log.Info("scanforpay barcode payment refused", "partner_order_no", req.OutTradeNo, "code", rb.Code.Value, "msg", rb.Msg)
		return nil, gatewayError("pay", rb)
	case err == nil:
		t := &payment.Transaction{Kind: payment.TxnPayment, SysSN: rb.OrderNo, OutTradeNo: req.OutTradeNo,
			TxAmt: req.Amount.Minor, Currency: req.Amount.Currency.Code, Status: payment.OutcomePending}
		if rb.Status.Set {
			if stated, terr := transaction(rb); terr == nil {
				t = stated
			}
		}
		return t, nil
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case !isUnknown(err):
		return nil, err
	}
	c.log.Warn("scanforpay barcode payment outcome unknown; asking the gateway", "partner_order_no", req.OutTradeNo, "err", err)
	t, qerr := c.query(ctx, req.OutTradeNo, "")
	if qerr == nil {
		return t, nil
	}
	return nil, fmt.Errorf("pay %s: %w (%v; query: %v)", req.OutTradeNo, payment.ErrOutcomeUnknown, err, qerr)
}

// ChargeCPM charges the code the cashier scanned (payment.CPMGateway),
// through PayBarcode: sent once, never again.
func (c *Client) ChargeCPM(ctx context.Context, req payment.CreateRequest) (*payment.Transaction, error) {
	t, err := c.PayBarcode(ctx, BarcodeRequest{OutTradeNo: req.OutTradeNo, Amount: req.Amount, Barcode: req.AuthCode, GoodsName: req.GoodsName})
	var fe *payment.FieldError
	if errors.As(err, &fe) && fe.Field == "barcode" {
		return nil, &payment.FieldError{Field: "auth_code", Rule: "ScanForPay takes payment codes of at most 20 digits"}
	}
	return t, err
}

var _ payment.CPMGateway = (*Client)(nil)

// Refund gives money back (payment.Refunder): all or part of a paid
// order, under a new refundNo. Code 1 with status 0 ("dealing") is
// accepted and in progress: the transaction returned is pending and the
// refund must never be sent again. An unknown outcome wraps
// payment.ErrOutcomeUnknown: ScanForPay has no refund query, so it is
// settled by QueryRefund or a notification, never by refunding again.
func (c *Client) Refund(ctx context.Context, req payment.RefundRequest) (*payment.Transaction, error) {
	if err := validateOrderNo("partnerOrderNo", req.Orig.OutTradeNo); err != nil {
		return nil, err
	}
	if err := validateOrderNo("refundNo", req.OutTradeNo); err != nil {
		return nil, err
	}
	if req.Amount.Minor <= 0 || req.Amount.Minor > MaxOrderAmount {
		return nil, &payment.FieldError{Field: "orderAmount", Rule: "the refund must be from 1 to 2147483647 minor units"}
	}
	body := RefundBody{PartnerOrderNo: req.Orig.OutTradeNo, RefundNo: req.OutTradeNo, OrderAmount: req.Amount.Minor, TerminalNo: c.terminalNo}
	rb, err := c.call(ctx, "refund", PathRefund, body, false, req.Orig.OutTradeNo)
	switch {
	case err == nil && !rb.OK():
		return nil, gatewayError("refund", rb)
	case err == nil:
		t := &payment.Transaction{Kind: payment.TxnRefund, OutTradeNo: req.OutTradeNo, OrigSysSN: req.Orig.SysSN,
			TxAmt: req.Amount.Minor, Currency: req.Amount.Currency.Code, Status: payment.OutcomePending}
		if rb.OrderAmount.Set && rb.OrderAmount.Value != req.Amount.Minor {
			return nil, fmt.Errorf("refund %s: %w (the gateway answered for %d minor units, asked %d)", req.OutTradeNo, payment.ErrOutcomeUnknown, rb.OrderAmount.Value, req.Amount.Minor)
		}
		if rb.Currency != "" {
			t.Currency = currency(rb.Currency)
		}
		switch {
		case !rb.Status.Set, rb.Status.Value == RefundDealing:
			c.log.Info("scanforpay refund accepted, still processing", "refund_no", req.OutTradeNo, "partner_order_no", req.Orig.OutTradeNo)
		case rb.Status.Value == RefundDone:
			t.Status = payment.OutcomePaid
		default:
			t.Status, t.ErrMsg = payment.OutcomeFailed, rb.message()
			if t.ErrMsg == "" {
				t.ErrMsg = fmt.Sprintf("ScanForPay refund status %d", rb.Status.Value)
			}
		}
		return t, nil
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case isUnknown(err):
		return nil, fmt.Errorf("refund %s: %w (%v)", req.OutTradeNo, payment.ErrOutcomeUnknown, err)
	}
	return nil, err
}

// QueryRefund says what can be known of a refund sent earlier
// (payment.Refunder). ScanForPay has no refund query; payQuery of the
// payment shows status 3 only once it is refunded in full. So: status 3
// means every refund of it is done (they cannot add up to more); a payment
// never paid means no refund happened (payment.ErrNotFound); a payment
// still paid leaves a refund unconfirmed (payment.ErrOutcomeUnknown).
func (c *Client) QueryRefund(ctx context.Context, req payment.RefundRequest) (*payment.Transaction, error) {
	t, err := c.query(ctx, req.Orig.OutTradeNo, req.Orig.SysSN)
	if err != nil {
		return nil, err
	}
	switch t.Status {
	case payment.OutcomePaid:
		if t.Cancel == StatusRefunded {
			return &payment.Transaction{Kind: payment.TxnRefund, OutTradeNo: req.OutTradeNo, OrigSysSN: t.SysSN,
				TxAmt: req.Amount.Minor, Currency: req.Amount.Currency.Code, Status: payment.OutcomePaid}, nil
		}
		return nil, fmt.Errorf("refund %s of %s: %w (ScanForPay has no refund query and the payment is not refunded in full yet; a partial refund shows only in the merchant portal or a notification)",
			req.OutTradeNo, req.Orig.OutTradeNo, payment.ErrOutcomeUnknown)
	default:
		return nil, fmt.Errorf("refund %s: the payment %s is %s: %w", req.OutTradeNo, req.Orig.OutTradeNo, t.Status, payment.ErrNotFound)
	}
}

var _ payment.Gateway = (*Client)(nil)
var _ payment.PayTypeCatalog = (*Client)(nil)
var _ payment.CreateValidator = (*Client)(nil)
