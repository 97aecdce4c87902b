package scanforpay

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Header is the `header` of a request or a response.
type Header struct {
	Version   string `json:"version"`
	PartnerNo string `json:"partnerNo"`
	ReqMsgID  string `json:"reqMsgId,omitempty"`
	RespMsgID string `json:"respMsgId,omitempty"`
	// The request time: ScanForPay's field table calls it reqTime, every
	// sample of its documentation requestTime (and its own shop plugin
	// sends reqTime). Requests carry both, with the same value, so either
	// reading finds it; answers are read from either.
	RequestTime string `json:"requestTime,omitempty"`
	ReqTime     string `json:"reqTime,omitempty"`
	RespTime    string `json:"respTime,omitempty"`
	SignType    string `json:"signType,omitempty"`
}

// Time is the request or response time, whichever field carries it.
func (h Header) Time() string {
	for _, t := range []string{h.RequestTime, h.ReqTime, h.RespTime} {
		if t != "" {
			return t
		}
	}
	return ""
}

// Version is the protocol version sent in every header.
const Version = "1.0"

// Request is a `request` object: a header and an operation's body.
type Request struct {
	Header Header `json:"header"`
	Body   any    `json:"body"`
}

// Response is a `response` object with its body kept raw, to be read into
// the operation's own type.
type Response struct {
	Header Header          `json:"header"`
	Body   json.RawMessage `json:"body"`
}

// Flex reads a JSON number or a string of digits: the documentation types
// code, status and orderAmount as int, and tolerating "1" costs nothing.
type Flex struct {
	Set   bool
	Value int64
}

func (f *Flex) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || bytes.Equal(b, []byte("null")) {
		*f = Flex{}
		return nil
	}
	s := string(b)
	if b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		s = strings.TrimSpace(s)
		if s == "" {
			*f = Flex{}
			return nil
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("want an integer, got %s", b)
	}
	*f = Flex{Set: true, Value: n}
	return nil
}

func (f Flex) MarshalJSON() ([]byte, error) {
	if !f.Set {
		return []byte("null"), nil
	}
	return strconv.AppendInt(nil, f.Value, 10), nil
}

// Int is a set integer.
func Int(n int64) Flex { return Flex{Set: true, Value: n} }

// Response codes. ScanForPay documents only success (1) and, in a sample,
// 30 "订单不存在" (the order does not exist); any other code is a failure
// whose msg says why.
const (
	CodeSuccess       = 1
	CodeOrderNotFound = 30
)

// Payment statuses (payQuery, notifications).
const (
	StatusUnpaid   = 0 // to be paid
	StatusPaid     = 1
	StatusFailed   = 2
	StatusRefunded = 3 // paid, then refunded in full
)

// Refund statuses. The documentation labels 1 "cancelled", which cannot
// mean what it says: ScanForPay's own shop plugin treats 1 as the refund
// done and everything else as not done, and code 1 with status 0 is
// "accepted, in progress". So 1 is read as done, 0 as still processing
// ("dealing", never sent again), 2 as failed.
const (
	RefundDealing = 0
	RefundDone    = 1
	RefundFailed  = 2
)

// CreateBody is the body of /api/offline/create.
type CreateBody struct {
	StoreNo        string `json:"storeNo"`
	PartnerOrderNo string `json:"partnerOrderNo"`
	Wallet         string `json:"wallet"`
	OrderAmount    int64  `json:"orderAmount"`
	OrderTitle     string `json:"orderTitle,omitempty"`
	OperatorID     string `json:"operatorId,omitempty"`
	TerminalNo     string `json:"terminalNo,omitempty"`
	NotifyURL      string `json:"notifyUrl,omitempty"`
}

// PayBody is the body of /api/offline/pay (the customer's payment code).
type PayBody struct {
	StoreNo        string `json:"storeNo"`
	PartnerOrderNo string `json:"partnerOrderNo"`
	Barcode        string `json:"barcode"`
	OrderAmount    int64  `json:"orderAmount"`
	OrderTitle     string `json:"orderTitle,omitempty"`
	OperatorID     string `json:"operatorId,omitempty"`
	TerminalNo     string `json:"terminalNo,omitempty"`
	NotifyURL      string `json:"notifyUrl,omitempty"`
}

// QueryBody is the body of /api/common/payQuery.
type QueryBody struct {
	StoreNo        string `json:"storeNo"`
	PartnerOrderNo string `json:"partnerOrderNo,omitempty"`
	OrderNo        string `json:"orderNo,omitempty"`
}

// RefundBody is the body of /api/common/refund. It has no storeNo: the
// payment is named by partnerOrderNo.
type RefundBody struct {
	PartnerOrderNo string `json:"partnerOrderNo"`
	RefundNo       string `json:"refundNo"`
	OrderAmount    int64  `json:"orderAmount"`
	OperatorID     string `json:"operatorId,omitempty"`
	TerminalNo     string `json:"terminalNo,omitempty"`
}

// ResultBody is every answer's body: code and msg, then the fields of
// whichever operation answered (unset ones are empty). Query answers and
// notifications carry the payment fields.
type ResultBody struct {
	Code           Flex   `json:"code"`
	Msg            string `json:"msg"`
	OrderNo        string `json:"orderNo,omitempty"`
	PartnerOrderNo string `json:"partnerOrderNo,omitempty"`
	RefundNo       string `json:"refundNo,omitempty"`
	QRCode         string `json:"qrcode,omitempty"`
	QRCodeImageS   string `json:"qrcodeImageS,omitempty"`
	QRCodeImageM   string `json:"qrcodeImageM,omitempty"`
	QRCodeImageL   string `json:"qrcodeImageL,omitempty"`
	OrderAmount    Flex   `json:"orderAmount"`
	Wallet         string `json:"wallet,omitempty"`
	Currency       string `json:"currency,omitempty"`
	Status         Flex   `json:"status"`
	PayTime        string `json:"payTime,omitempty"`
	Buyer          string `json:"buyer,omitempty"`
	BuyerID        string `json:"buyerId,omitempty"`
}

// OK reports code 1.
func (b ResultBody) OK() bool { return b.Code.Set && b.Code.Value == CodeSuccess }

// message is msg unless it only says "success".
func (b ResultBody) message() string {
	m := strings.TrimSpace(b.Msg)
	if strings.EqualFold(m, "success") || strings.EqualFold(m, "ok") {
		return ""
	}
	return m
}
