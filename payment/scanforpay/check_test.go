package scanforpay_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"qrkiosk/payment"
	"qrkiosk/payment/scanforpay"
)

// FuzzCheckCredentials: whatever a gateway answers a credential check,
// the check never says the settings work unless the answer verifies with
// the merchant's key and says success or "no such order".
func FuzzCheckCredentials(f *testing.F) {
	const key = "FUZZKEY"
	good := `{"header":{"version":"1.0","partnerNo":"P1"},"body":{"code":30,"msg":"订单不存在"}}`
	f.Add([]byte(`{"response":` + good + `,"signature":"` + scanforpay.Sign([]byte(good), key) + `"}`))
	f.Add([]byte(`{"response":` + good + `,"signature":""}`))
	f.Add([]byte(`{"response":{"body":{"code":1}},"signature":"00"}`))
	f.Add([]byte(`not json`))
	f.Fuzz(func(t *testing.T, answer []byte) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(answer) }))
		defer srv.Close()
		c, err := scanforpay.NewClient("P1", key, scanforpay.WithBaseURL(srv.URL), scanforpay.WithStoreNo("S1"))
		if err != nil {
			t.Fatal(err)
		}
		cc := c.CheckCredentials(context.Background())
		if cc.Verdict != payment.CredentialsAccepted {
			return
		}
		if _, err := scanforpay.OpenResponse(answer, key); err != nil {
			t.Fatalf("accepted an answer that does not verify: %q", answer)
		}
		if cc.Code != "1" && cc.Code != "30" {
			t.Fatalf("accepted code %q", cc.Code)
		}
	})
}
