package qfpay

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"qrkiosk/payment"
)

// flexString accepts a JSON string, number, bool or null: QFPay sends
// numbers as strings in some places and as numbers in others.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || bytes.Equal(b, []byte("null")):
		*f = ""
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
	case b[0] == '{' || b[0] == '[':
		return fmt.Errorf("want a string or number, got %s", b[:1])
	default:
		*f = flexString(b)
	}
	return nil
}

// String is the value exactly as sent: identifiers are compared byte for
// byte ("QK1 " is not "QK1").
func (f flexString) String() string { return string(f) }

func (f flexString) int64() (int64, error) {
	s := strings.TrimSpace(string(f))
	if s == "" {
		return 0, nil
	}
	return strconv.ParseInt(s, 10, 64)
}

func (f flexString) int() int {
	n, _ := f.int64()
	return int(n)
}

// wireTxn is a transaction as QFPay writes it in create and query answers
// and in notifications.
type wireTxn struct {
	NotifyType flexString `json:"notify_type"`
	OrderType  flexString `json:"order_type"`
	Status     flexString `json:"status"`
	Respcd     flexString `json:"respcd"`
	Respmsg    flexString `json:"respmsg"`
	Resperr    flexString `json:"resperr"`
	Errmsg     flexString `json:"errmsg"`
	SysSN      flexString `json:"syssn"`
	OrigSysSN  flexString `json:"orig_syssn"` // a refund's answer and its notification
	OrigSSN    flexString `json:"origssn"`    // a refund's row in a query
	OutTradeNo flexString `json:"out_trade_no"`
	PayType    flexString `json:"pay_type"`
	TxAmt      flexString `json:"txamt"`
	TxCurrcd   flexString `json:"txcurrcd"`
	TxDtm      flexString `json:"txdtm"`
	SysDtm     flexString `json:"sysdtm"`
	PayDtm     flexString `json:"paydtm"`
	Cancel     flexString `json:"cancel"`
	QRCode     flexString `json:"qrcode"`
	PayURL     flexString `json:"pay_url"`
	MchID      flexString `json:"mchid"`
	UDID       flexString `json:"udid"`
	ChnlSN     flexString `json:"chnlsn"`
	GoodsName  flexString `json:"goods_name"`
}

func (w wireTxn) qrcode() string {
	if q := w.QRCode.String(); q != "" {
		return q
	}
	return w.PayURL.String()
}

func (w wireTxn) message() string {
	for _, m := range []flexString{w.Resperr, w.Respmsg, w.Errmsg} {
		if s := m.String(); s != "" && !strings.EqualFold(s, "success") && !strings.EqualFold(s, "ok") && s != "交易成功" && s != "请求成功" {
			return s
		}
	}
	return ""
}

func (w wireTxn) transaction() (payment.Transaction, error) {
	amt, err := w.TxAmt.int64()
	if err != nil {
		return payment.Transaction{}, fmt.Errorf("txamt %q: not an integer", w.TxAmt)
	}
	kind := w.NotifyType.String()
	if kind == "" {
		kind = w.OrderType.String()
	}
	if kind == "" {
		kind = "payment"
	}
	t := payment.Transaction{
		Kind:       kind,
		SysSN:      w.SysSN.String(),
		OutTradeNo: w.OutTradeNo.String(),
		PayType:    w.PayType.String(),
		TxAmt:      amt,
		Currency:   w.TxCurrcd.String(),
		Code:       payment.Code(w.Respcd.String()),
		Cancel:     w.Cancel.int(),
		QRCode:     w.qrcode(),
		ErrMsg:     w.message(),
		TxDtm:      w.TxDtm.String(),
		SysDtm:     w.SysDtm.String(),
		PayDtm:     w.PayDtm.String(),
		OrigSysSN:  cmp.Or(w.OrigSysSN.String(), w.OrigSSN.String()),
		ChnlSN:     w.ChnlSN.String(),
	}
	read(&t)
	return t, nil
}

// queryReply is the answer of /trade/v1/query.
type queryReply struct {
	wireTxn
	Page     flexString `json:"page"`
	PageSize flexString `json:"page_size"`
	Data     []wireTxn  `json:"data"`
}
