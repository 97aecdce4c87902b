package sfpsim

import (
	"context"
	"testing"

	"qrkiosk/payment"
	"qrkiosk/payment/scanforpay"
)

// The kiosk's credential check reads the simulator's answers as it reads
// ScanForPay's envelopes: a wrong key is refused in an answer signed with
// the partner's own key, an unknown partner in an unsigned one, and a
// store of another partner in an answer the right key verifies. Nothing
// is recorded.
func TestCredentialCheck(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		name                string
		partner, store, key string
		verdict             payment.CredentialVerdict
		field               string
	}{
		{"right", testPartner, testStore, testKey, payment.CredentialsAccepted, ""},
		{"wrong key", testPartner, testStore, "WRONGKEY", payment.CredentialsSignatureRefused, ""},
		{"unknown partner", "99999", testStore, testKey, payment.CredentialsUnknownAccount, "partnerNo"},
		{"another store", testPartner, "100010000000099", testKey, payment.CredentialsWrongMerchant, "storeNo"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := scanforpay.NewClient(tc.partner, tc.key, scanforpay.WithBaseURL(f.srv.URL), scanforpay.WithStoreNo(tc.store))
			if err != nil {
				t.Fatal(err)
			}
			cc := c.CheckCredentials(context.Background())
			if cc.Verdict != tc.verdict || cc.Field != tc.field || (tc.verdict != payment.CredentialsAccepted && cc.Message == "") {
				t.Fatalf("check %+v, want verdict %v field %q and ScanForPay's words", cc, tc.verdict, tc.field)
			}
		})
	}
	if n := len(f.sim.Orders()); n != 0 {
		t.Errorf("the checks left %d orders at the gateway", n)
	}
}
