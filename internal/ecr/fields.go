package ecr

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"qrkiosk/payment"
)

// MaxPaymentTimeout bounds payment_timeout: the longest a gateway QR lives
// (120 minutes).
const MaxPaymentTimeout = 7200 * time.Second

// maxReference is the gateway's limit on out_trade_no (128 bytes).
const maxReference = 128

// referenceSymbols are the characters besides ASCII letters and digits a
// reference (out_trade_no, orderId) may hold. Others are refused: a comma
// would split the gateway query's out_trade_no list, quotes cannot travel
// in the content format, and spaces or control characters only come from
// a mistake.
const referenceSymbols = "-_.:/|#@"

// content is a request's fields by name.
type content map[string]Field

func contentOf(fields []Field) content {
	c := make(content, len(fields))
	for _, f := range fields {
		c[f.Key] = f
	}
	return c
}

// text is the field's value; "" when absent or empty (Odoo sends a None
// as an empty string).
func (c content) text(key string) string { return c[key].Value }

// buildRequest reads the fields into the instruction func_type names.
func buildRequest(fields []Field, cur payment.Currency) (Request, error) {
	c := contentOf(fields)
	s := sent{fields: fields}
	ft := c.text("func_type")
	if ft == "" {
		return nil, refuseField(ErrMissingField, "func_type", "", "is required")
	}
	n, err := strconv.Atoi(ft)
	if err != nil || !allDigits(ft) || FuncType(n).Endpoint() == "" {
		return nil, refuseField(ErrUnknownFuncType, "func_type", ft, "is not one of 1001, 1002, 3001, 3002, 4001, 5001")
	}
	switch FuncType(n) {
	case FuncPayment:
		return buildPayment(c, cur, s)
	case FuncRefund:
		return buildRefund(c, cur, s)
	case FuncPrintReceipt:
		id := c.text("orderId")
		if err := checkReference("orderId", id); err != nil {
			return nil, err
		}
		return &PrintReceipt{OrderID: id, sent: s}, nil
	case FuncPrintSummary:
		return &PrintSummary{sent: s}, nil
	case FuncInquiry:
		q := &Inquiry{OrderID: c.text("orderId"), OutTradeNo: c.text("out_trade_no"), sent: s}
		if q.OrderID == "" && q.OutTradeNo == "" {
			return nil, refuseField(ErrMissingField, "orderId", "", "or out_trade_no is required")
		}
		if err := checkReference("orderId", q.OrderID); err != nil {
			return nil, err
		}
		if err := checkReference("out_trade_no", q.OutTradeNo); err != nil {
			return nil, err
		}
		return q, nil
	default:
		return &CancelRequest{sent: s}, nil
	}
}

func buildPayment(c content, cur payment.Currency, s sent) (*Payment, error) {
	p := &Payment{AmountText: c.text("amt"), OutTradeNo: c.text("out_trade_no"), sent: s}
	var err error
	if p.Amount, err = parseAmount("amt", p.AmountText, cur); err != nil {
		return nil, err
	}
	if p.Channel, err = lookupChannel(c.text("channel")); err != nil {
		return nil, err
	}
	if err := checkReference("out_trade_no", p.OutTradeNo); err != nil {
		return nil, err
	}
	if t := c.text("payment_timeout"); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || !allDigits(t) || n < 1 || time.Duration(n)*time.Second > MaxPaymentTimeout {
			return nil, refuseField(ErrBadField, "payment_timeout", t, "must be whole seconds from 1 to "+itoa(int(MaxPaymentTimeout/time.Second)))
		}
		p.Timeout = time.Duration(n) * time.Second
	}
	switch st := ScanType(c.text("scan_type")); st {
	case ScanUnset, ShowQR:
		p.Scan = st
	case ScanCode:
		if p.Channel.CPMWallet == "" {
			return nil, refuse(ErrBadChannel, p.Channel.Name+" has no scanned-code payment; send scan_type QRCODE_PAY")
		}
		p.Scan = st
	default:
		return nil, refuseField(ErrBadField, "scan_type", string(st), "must be QRCODE_PAY or SCAN_PAY")
	}
	if p.MoveToBack, err = flag(c, "moveToBack"); err != nil {
		return nil, err
	}
	if p.FrontCam, err = flag(c, "camera_id"); err != nil {
		return nil, err
	}
	return p, nil
}

func buildRefund(c content, cur payment.Currency, s sent) (*Refund, error) {
	r := &Refund{OrderID: c.text("orderId"), AmountText: c.text("refund_amount"), sent: s}
	if r.OrderID == "" {
		return nil, refuseField(ErrMissingField, "orderId", "", "is required: the syssn of the payment to refund")
	}
	if err := checkReference("orderId", r.OrderID); err != nil {
		return nil, err
	}
	if r.AmountText != "" {
		a, err := parseAmount("refund_amount", r.AmountText, cur)
		if err != nil {
			return nil, err
		}
		r.Amount = &a
	}
	var err error
	if r.AllowModify, err = flag(c, "allow_modify_flag"); err != nil {
		return nil, err
	}
	if r.MoveToBack, err = flag(c, "moveToBack"); err != nil {
		return nil, err
	}
	return r, nil
}

// parseAmount reads a decimal amount of dollars exactly into minor units.
// Only plain digits with at most the currency's decimals are taken: a
// float's artefact (30.299999999999997), an exponent (Python's 1e-05), a
// sign or zero is refused, never rounded.
func parseAmount(field, text string, cur payment.Currency) (payment.Amount, error) {
	whole, frac, point := strings.Cut(text, ".")
	switch {
	case text == "":
		return payment.Amount{}, refuseField(ErrMissingField, field, "", "is required")
	case strings.ContainsAny(text, "eE"):
		return payment.Amount{}, refuseField(ErrBadAmount, field, text, "must be written in plain digits, not with an exponent")
	case strings.ContainsAny(text, "+-"):
		return payment.Amount{}, refuseField(ErrBadAmount, field, text, "must be a positive amount without a sign")
	case whole == "" || !allDigits(whole) || !allDigits(frac) || (point && frac == ""):
		return payment.Amount{}, refuseField(ErrBadAmount, field, text, "must be a number of dollars such as 12.34")
	}
	a, err := payment.ParseAmount(text, cur)
	if err != nil {
		var fe *payment.FieldError
		if errors.As(err, &fe) {
			return payment.Amount{}, refuseField(ErrBadAmount, field, text, fe.Rule)
		}
		return payment.Amount{}, refuseField(ErrBadAmount, field, text, err.Error())
	}
	return a, nil
}

// checkReference holds out_trade_no and orderId to what the gateway and
// the kiosk's journal take; an empty one (not sent) passes, the instruction
// decides whether it is required.
func checkReference(field, v string) error {
	if len(v) > maxReference {
		return refuseField(ErrBadField, field, v, "must be at most 128 bytes")
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || strings.IndexByte(referenceSymbols, c) >= 0) {
			return refuseField(ErrBadField, field, v, "may hold only letters, digits and "+referenceSymbols)
		}
	}
	return nil
}

// flag reads a 0/1 field; absent or empty is 0.
func flag(c content, key string) (bool, error) {
	switch v := c.text(key); v {
	case "", "0":
		return false, nil
	case "1":
		return true, nil
	default:
		return false, refuseField(ErrBadField, key, v, "must be 0 or 1")
	}
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func itoa(n int) string { return strconv.Itoa(n) }
