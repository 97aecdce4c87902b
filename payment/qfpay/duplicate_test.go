package qfpay_test

import (
	"errors"
	"strings"
	"testing"

	"qrkiosk/payment/qfpay"
)

// A notification signed over a body that gives a key twice is refused as
// malformed: the signature covers both copies, Go's decoder reads the last
// ("2500", paid) and another reader the first. The relay and the kiosk
// both parse with ParseNotification, so both refuse it.
func TestNotificationWithADuplicatedKeyIsRefused(t *testing.T) {
	c, err := qfpay.NewClient("APPCODE", "abcd1234")
	if err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{
		"txamt twice":       strings.Replace(notifyBody, `"txamt":"2500"`, `"txamt":"1","txamt":"2500"`, 1),
		"respcd twice":      strings.Replace(notifyBody, `"respcd":"0000"`, `"respcd":"1205","respcd":"0000"`, 1),
		"TXAMT, then txamt": strings.Replace(notifyBody, `"txamt":"2500"`, `"TXAMT":"1","txamt":"2500"`, 1),
		"out_trade_no, escaped": strings.Replace(notifyBody, `"out_trade_no":"A1"`,
			`"out_trade_no":"B2","\u006fut_trade_no":"A1"`, 1),
	} {
		raw := []byte(body)
		sign := qfpay.SignBody(raw, "abcd1234", qfpay.SignMD5)
		if err := qfpay.VerifyNotification(raw, sign, "abcd1234", qfpay.SignMD5); err != nil {
			t.Fatalf("%s: the test body is not signed: %v", name, err)
		}
		if n, err := qfpay.ParseNotification(raw); n != nil || !errors.Is(err, qfpay.ErrMalformedNotification) || !strings.Contains(err.Error(), "gives a key twice") {
			t.Errorf("%s: ParseNotification = %+v, %v; want malformed, a key given twice", name, n, err)
		}
		if txn, err := c.VerifyNotification(raw, sign); txn != nil || !errors.Is(err, qfpay.ErrMalformedNotification) {
			t.Errorf("%s: the kiosk's check = %+v, %v; want malformed", name, txn, err)
		}
	}
}
