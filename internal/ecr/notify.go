package ecr

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"qrkiosk/payment"
)

// The result of a payment or refund reaches the POS as QFPay's own
// asynchronous notification would: a JSON POST to the POS's webhook (Odoo:
// /qfpay/notify), signed in SignHeader. Only successes are notified, as
// QFPay does; a failure is the answer to the request.
const (
	SignHeader = "X-QF-SIGN"
	// NotifyTypePayment is a payment's notify_type.
	NotifyTypePayment = "payment"
	// NotifyTypeRefund is a refund's notify_type. QFPay's API docs say
	// "refund", but a terminal's refund is a same-day void, and Odoo's
	// pos_qfpay matches a refund's notice only when notify_type is
	// "cancel" (handleQFPayStatusResponse; its tour sends "cancel"): any
	// other type is taken as a payment of the pending line and, carrying
	// the original payment's uuid, matches nothing. An older pos_qfpay
	// tested "refund"; the current one is what the kiosk serves.
	NotifyTypeRefund = "cancel"
)

// PaymentNotice is a paid payment, for the POS.
type PaymentNotice struct {
	OutTradeNo string // the POS's out_trade_no, as it sent it
	SysSN      string
	ChnlSN     string // the wallet's transaction number (Odoo keeps it as the payment reference)
	PayType    string // the gateway's pay_type
	MchID      string // "" when the merchant has none
	Amount     payment.Amount
	// Times in the merchant's zone: order created (txdtm), recorded by the
	// gateway (sysdtm), paid (paydtm).
	TxTime, SysTime, PayTime time.Time
}

// RefundNotice is a successful refund, for the POS.
type RefundNotice struct {
	OrigOutTradeNo string // the refunded payment's out_trade_no (Odoo finds its line by it)
	OrigSysSN      string
	OutTradeNo     string // the refund's own
	SysSN          string // the refund's own
	MchID          string
	Amount         payment.Amount
	TxTime         time.Time
	SysTime        time.Time
}

// paymentWire is a payment notification's fields as QFPay sends them.
type paymentWire struct {
	NotifyType string `json:"notify_type"`
	Status     string `json:"status"`
	Respcd     string `json:"respcd"`
	SysSN      string `json:"syssn"`
	OutTradeNo string `json:"out_trade_no"`
	TxAmt      string `json:"txamt"`
	TxCurrCd   string `json:"txcurrcd"`
	PayType    string `json:"pay_type"`
	TxDtm      string `json:"txdtm"`
	SysDtm     string `json:"sysdtm"`
	PayDtm     string `json:"paydtm"`
	Cancel     string `json:"cancel"`
	ChnlSN     string `json:"chnlsn"`
	MchID      string `json:"mchid,omitempty"`
	GoodsName  string `json:"goods_name"`
}

// refundWire is a refund notification's fields, as Odoo's tour shows them.
// A payment's has no orig_out_trade_no at all: Odoo takes that key, when
// present, in place of out_trade_no.
type refundWire struct {
	NotifyType     string `json:"notify_type"`
	Status         string `json:"status"`
	Respcd         string `json:"respcd"`
	SysSN          string `json:"syssn"`
	OutTradeNo     string `json:"out_trade_no"`
	OrigSysSN      string `json:"orig_syssn"`
	OrigOutTradeNo string `json:"orig_out_trade_no"`
	TxAmt          string `json:"txamt"`
	TxCurrCd       string `json:"txcurrcd"`
	TxDtm          string `json:"txdtm"`
	SysDtm         string `json:"sysdtm"`
	MchID          string `json:"mchid,omitempty"`
}

// ErrIncompleteNotice: a notice lacks what the POS needs to match it.
var ErrIncompleteNotice = errors.New("ecr: incomplete notice")

// Body is the notification's JSON.
func (n PaymentNotice) Body() ([]byte, error) {
	if n.OutTradeNo == "" || n.SysSN == "" || n.Amount.Minor <= 0 || n.Amount.Currency.Code == "" {
		return nil, errors.Join(ErrIncompleteNotice, errors.New("a payment notice needs out_trade_no, syssn and an amount"))
	}
	return json.Marshal(paymentWire{
		NotifyType: NotifyTypePayment, Status: "1", Respcd: "0000",
		SysSN: n.SysSN, OutTradeNo: n.OutTradeNo, ChnlSN: n.ChnlSN, PayType: n.PayType, MchID: n.MchID,
		TxAmt: n.Amount.TxAmt(), TxCurrCd: n.Amount.Currency.Code,
		TxDtm: wireTime(n.TxTime), SysDtm: wireTime(n.SysTime), PayDtm: wireTime(n.PayTime),
		Cancel: "0",
	})
}

// Body is the notification's JSON.
func (n RefundNotice) Body() ([]byte, error) {
	if n.OrigOutTradeNo == "" || n.SysSN == "" || n.OrigSysSN == "" || n.Amount.Minor <= 0 || n.Amount.Currency.Code == "" {
		return nil, errors.Join(ErrIncompleteNotice, errors.New("a refund notice needs orig_out_trade_no, syssn, orig_syssn and an amount"))
	}
	return json.Marshal(refundWire{
		NotifyType: NotifyTypeRefund, Status: "1", Respcd: "0000",
		SysSN: n.SysSN, OutTradeNo: n.OutTradeNo, OrigSysSN: n.OrigSysSN, OrigOutTradeNo: n.OrigOutTradeNo, MchID: n.MchID,
		TxAmt: n.Amount.TxAmt(), TxCurrCd: n.Amount.Currency.Code,
		TxDtm: wireTime(n.TxTime), SysDtm: wireTime(n.SysTime),
	})
}

func wireTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(payment.LocalTimeLayout)
}

// SignNotice is the X-QF-SIGN of a notification body: upper-case hex MD5 of
// the raw body followed by the notification key, as Odoo's
// controllers/main.py checks it (exactly, so the case matters).
func SignNotice(body []byte, notifyKey string) string {
	sum := md5.Sum(append(bytes.Clone(body), notifyKey...))
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// NewNoticeRequest is the signed POST of body to the POS's webhook url.
func NewNoticeRequest(ctx context.Context, url string, body []byte, notifyKey string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(SignHeader, SignNotice(body, notifyKey))
	return req, nil
}
