package qfpay_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"qrkiosk/payment"
	"qrkiosk/payment/qfpay"
)

// Answers the simulator does not give, read as QFPay's table says: "no
// such order" is a call taken; the account and store codes point at the
// merchant id; the device codes at the udid; anything else is QFPay's own
// refusal; a 5xx is no answer, asked once.
func TestCheckCredentialsReadsQFPayCodes(t *testing.T) {
	for _, tc := range []struct {
		status  int
		respcd  string
		verdict payment.CredentialVerdict
		field   string
	}{
		{200, "0000", payment.CredentialsAccepted, ""},
		{200, "1136", payment.CredentialsAccepted, ""},
		{200, "1268", payment.CredentialsAccepted, ""},
		{200, "1108", payment.CredentialsSignatureRefused, ""},
		{200, "1203", payment.CredentialsWrongMerchant, "mchid"},
		{200, "1241", payment.CredentialsWrongMerchant, "mchid"},
		{200, "1106", payment.CredentialsRefused, "udid"},
		{200, "1100", payment.CredentialsRefused, ""},
		{502, "", payment.CredentialsUnreachable, ""},
		{429, "", payment.CredentialsUnreachable, ""},
	} {
		t.Run(fmt.Sprint(tc.status, tc.respcd), func(t *testing.T) {
			var calls atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				if r.URL.Path != qfpay.PathQuery {
					t.Errorf("path %s: the check may only query", r.URL.Path)
				}
				if tc.status != 200 {
					w.WriteHeader(tc.status)
					return
				}
				fmt.Fprintf(w, `{"respcd": %q, "resperr": "said so", "data": []}`, tc.respcd)
			}))
			defer srv.Close()
			c, _ := qfpay.NewClient("APP", "KEY", qfpay.WithBaseURL(srv.URL), qfpay.WithRetry(4, time.Millisecond))
			cc := c.CheckCredentials(context.Background())
			if cc.Verdict != tc.verdict || cc.Field != tc.field {
				t.Fatalf("check %+v, want %v %q", cc, tc.verdict, tc.field)
			}
			if tc.status == 200 && tc.respcd != "0000" && cc.Message != "said so" {
				t.Errorf("message %q, want QFPay's", cc.Message)
			}
			if n := calls.Load(); n != 1 {
				t.Errorf("%d calls, want one", n)
			}
		})
	}
}
