package qfpay

import (
	"encoding/json"
	"errors"
	"fmt"

	"qrkiosk/payment"
	"qrkiosk/payment/internal/strictjson"
)

// Notification is QFPay's asynchronous notice of a successful payment or
// refund, as POSTed (JSON) to the merchant's notify URL.
type Notification struct {
	payment.Transaction
	Status    string // "1" = paid
	MchID     string
	UDID      string
	ChnlSN    string
	GoodsName string
}

// Notify types.
const (
	NotifyPayment = "payment"
	NotifyRefund  = "refund"
)

// ErrMalformedNotification: the body is not a notification we can act on.
var ErrMalformedNotification = errors.New("qfpay: malformed notification")

// ParseNotification reads a notification body. Call VerifyNotification on
// the same raw bytes first: parsing proves nothing about who sent it. A
// body that gives a key twice is malformed: the signature covers both
// copies, Go's decoder reads the last and another reader the first.
func ParseNotification(raw []byte) (*Notification, error) {
	if err := strictjson.Check(raw); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedNotification, err)
	}
	var w wireTxn
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedNotification, err)
	}
	t, err := w.transaction()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedNotification, err)
	}
	switch {
	case t.SysSN == "":
		return nil, fmt.Errorf("%w: syssn is missing", ErrMalformedNotification)
	case t.OutTradeNo == "":
		return nil, fmt.Errorf("%w: out_trade_no is missing", ErrMalformedNotification)
	case t.Kind != NotifyPayment && t.Kind != NotifyRefund:
		return nil, fmt.Errorf("%w: notify_type %q is not payment or refund", ErrMalformedNotification, t.Kind)
	case t.TxAmt <= 0:
		return nil, fmt.Errorf("%w: txamt must be a positive integer", ErrMalformedNotification)
	}
	if t.Code == "" && w.Status.String() == "1" {
		t.Code = CodeSuccess
		read(&t)
	}
	return &Notification{
		Transaction: t,
		Status:      w.Status.String(),
		MchID:       w.MchID.String(),
		UDID:        w.UDID.String(),
		ChnlSN:      w.ChnlSN.String(),
		GoodsName:   w.GoodsName.String(),
	}, nil
}

// Paid reports whether the notification says the payment succeeded.
func (n *Notification) Paid() bool {
	return n.Kind == NotifyPayment && (n.Code == CodeSuccess || n.Status == "1")
}
