package qfpaysim

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"qrkiosk/payment"
	"qrkiosk/payment/qfpay"
)

// The kiosk's credential check (setup's "Test", qrkiosk config test) reads
// the simulator's answers as it reads QFPay's: each wrong setting gets
// QFPay's answer for it (spec: a wrong key and an app code of another
// environment both fail the signature, 1108; a merchant id is a parameter,
// 1104), and the check records no order.
func TestCredentialCheck(t *testing.T) {
	const mchID = "MCH0001"
	f := newFixture(t, func(c *Config) { c.MchID = mchID })
	for _, tc := range []struct {
		name          string
		app, key, mch string
		verdict       payment.CredentialVerdict
		code, field   string
	}{
		{"right", testApp, testKey, mchID, payment.CredentialsAccepted, "", ""},
		{"wrong key", testApp, "WRONGKEY", mchID, payment.CredentialsSignatureRefused, "1108", ""},
		{"app code of another environment", "OTHERAPP", testKey, mchID, payment.CredentialsSignatureRefused, "1108", ""},
		{"another merchant's mchid", testApp, testKey, "MCH9999", payment.CredentialsWrongMerchant, "1104", "mchid"},
		{"mchid left out", testApp, testKey, "", payment.CredentialsWrongMerchant, "1104", "mchid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := qfpay.NewClient(tc.app, tc.key, qfpay.WithBaseURL(f.srv.URL), qfpay.WithMchID(tc.mch))
			if err != nil {
				t.Fatal(err)
			}
			cc := c.CheckCredentials(context.Background())
			if cc.Verdict != tc.verdict || string(cc.Code) != tc.code || cc.Field != tc.field {
				t.Fatalf("check %+v, want verdict %v code %q field %q", cc, tc.verdict, tc.code, tc.field)
			}
		})
	}
	if n := len(f.sim.Orders()); n != 0 {
		t.Errorf("the checks left %d orders at the gateway", n)
	}

	// A merchant QFPay issued no mchid, checked with one.
	plain := newFixture(t, nil)
	c, _ := qfpay.NewClient(testApp, testKey, qfpay.WithBaseURL(plain.srv.URL), qfpay.WithMchID("MCH0001"))
	if cc := c.CheckCredentials(context.Background()); cc.Verdict != payment.CredentialsWrongMerchant || cc.Field != "mchid" {
		t.Errorf("a mchid QFPay never issued: %+v", cc)
	}
}

// A gateway that is not there is no verdict on the credentials, and is
// asked once, not retried for seconds.
func TestCredentialCheckUnreachable(t *testing.T) {
	srv := httptest.NewServer(nil)
	url := srv.URL
	srv.Close()
	c, _ := qfpay.NewClient(testApp, testKey, qfpay.WithBaseURL(url), qfpay.WithRetry(4, time.Hour))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if cc := c.CheckCredentials(ctx); cc.Verdict != payment.CredentialsUnreachable || cc.Err == nil {
		t.Fatalf("check %+v", cc)
	}
	if ctx.Err() != nil {
		t.Fatal("the check waited on retries")
	}
}
