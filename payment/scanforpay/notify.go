package scanforpay

import (
	"encoding/json"
	"errors"
	"fmt"

	"qrkiosk/payment"
)

// Notification is ScanForPay's notice of an order's result, POSTed to the
// order's notifyUrl in the response-shaped envelope. It may come several
// times; the answer that stops the retries is the plain text Reply.
type Notification struct {
	payment.Transaction
	Header  Header
	Code    int64
	Msg     string
	Wallet  string
	Buyer   string
	BuyerID string
	// StatusCode is the status as sent (StatusPaid, StatusRefunded, ...).
	StatusCode int64
}

// Reply is what the notify URL answers once a notification is safe.
const Reply = "success"

// ErrMalformedNotification: genuinely signed, but not a notification we can
// act on.
var ErrMalformedNotification = errors.New("scanforpay: malformed notification")

// VerifyNotification checks a notification's signature over the raw text
// of its `response` object with the merchant's key and reads it. A forged
// or altered notification is ErrBadSignature; a genuine one that cannot be
// read, or that gives a key twice, is ErrMalformedNotification. Neither
// may change anything. The relay stores what this accepts, and the kiosk
// checks it again with this same function.
func VerifyNotification(raw []byte, key string) (*Notification, error) {
	obj, err := OpenResponse(raw, key)
	switch {
	case errors.Is(err, ErrMalformed):
		return nil, fmt.Errorf("%w: %v", ErrBadSignature, err) // nothing signed could be found
	case errors.Is(err, ErrDuplicateKey):
		return nil, fmt.Errorf("%w: %w", ErrMalformedNotification, err)
	case err != nil:
		return nil, err
	}
	var r Response
	if err := json.Unmarshal(obj, &r); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedNotification, err)
	}
	var rb ResultBody
	if err := json.Unmarshal(r.Body, &rb); err != nil {
		return nil, fmt.Errorf("%w: body: %v", ErrMalformedNotification, err)
	}
	t, err := transaction(rb)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedNotification, err)
	}
	if t.TxAmt <= 0 {
		return nil, fmt.Errorf("%w: orderAmount must be a positive integer", ErrMalformedNotification)
	}
	return &Notification{Transaction: *t, Header: r.Header, Code: rb.Code.Value, Msg: rb.Msg, Wallet: rb.Wallet,
		Buyer: rb.Buyer, BuyerID: rb.BuyerID, StatusCode: rb.Status.Value}, nil
}

// EventID is what identifies the notification for de-duplication:
// ScanForPay's orderNo, else our partnerOrderNo.
func (n *Notification) EventID() string {
	if n.SysSN != "" {
		return n.SysSN
	}
	return n.OutTradeNo
}

// Event names what the notification reports: "paid", "refunded", "failed"
// or "unpaid". The same order may be notified once paid and again once
// refunded; each is its own event.
func (n *Notification) Event() string {
	switch n.StatusCode {
	case StatusPaid:
		return "paid"
	case StatusRefunded:
		return "refunded"
	case StatusFailed:
		return "failed"
	}
	return "unpaid"
}

// VerifyNotification checks a notification with this merchant's key
// (payment.NotificationVerifier). The signature is inside the envelope, so
// sign (a header signature on other gateways) is not used.
func (c *Client) VerifyNotification(body []byte, _ string) (*payment.Transaction, error) {
	n, err := VerifyNotification(body, c.key)
	if err != nil {
		return nil, err
	}
	return &n.Transaction, nil
}
