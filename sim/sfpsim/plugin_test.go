package sfpsim

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"qrkiosk/payment/scanforpay"
)

// pluginEnvelope is a request as ScanForPay's own shop plugin builds it:
// PHP's json_encode of {header (reqTime), body}, signed over those bytes.
func pluginEnvelope(body string) []byte {
	obj := `{"header":{"version":"1.0","partnerNo":"` + testPartner + `","reqMsgId":"","reqTime":"2025-03-14T10:00:00+08:00","signType":"SHA256"},"body":` + body + `}`
	return []byte(`{"request":` + obj + `,"signature":"` + scanforpay.Sign([]byte(obj), testKey) + `"}`)
}

// The plugin's calls (offline QR and online checkout) create an order and
// answer its payUrl, where the customer pays; a call to an API the
// simulator lacks is refused in the gateway's signed envelope, never with
// a bare 404.
func TestShopPluginCalls(t *testing.T) {
	f := newFixture(t)
	for i, path := range []string{PathQRCode, PathOnlineCreate} {
		no := []string{"250314100000101", "250314100000102"}[i]
		body := `{"storeNo":"` + testStore + `","partnerOrderNo":"` + no + `","wallet":"Alipay","orderAmount":1234,"orderTitle":"Milk tea","operatorId":"","terminalNo":"","currency":"HKD",` +
			`"notifyUrl":"https:\/\/shop.example\/?wc-api=payment_notify","returnUrl":"https:\/\/shop.example\/?wc-api=payment_callback&partnerOrderNo=` + no + `"}`
		rb, err := post(t, f, path, pluginEnvelope(body))
		if err != nil || rb.Code.Value != scanforpay.CodeSuccess {
			t.Fatalf("%s: %+v %v", path, rb, err)
		}
		raw := rawBody(t, f, path, pluginEnvelope(strings.Replace(body, no, no+"9", 1)))
		payURL, _ := raw["payUrl"].(string)
		if !strings.HasPrefix(payURL, f.srv.URL+"/sim/pay/") {
			t.Fatalf("%s: payUrl %q", path, payURL)
		}
		resp, err := http.Get(payURL)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("the customer page %s: %v %v", payURL, resp, err)
		}
		resp.Body.Close()
	}
	jpy := `{"storeNo":"` + testStore + `","partnerOrderNo":"X1","wallet":"Alipay","orderAmount":1234,"currency":"JPY"}`
	if rb, _ := post(t, f, PathQRCode, pluginEnvelope(jpy)); rb.Code.Value != CodeBadParameter || !strings.Contains(rb.Msg, "currency") {
		t.Fatalf("another currency: %+v", rb)
	}
	rb, err := post(t, f, "/api/offline/precreate", pluginEnvelope(`{}`))
	if err != nil || rb.Code.Value != CodeNoSuchAPI || !strings.Contains(rb.Msg, "/api/offline/precreate") {
		t.Fatalf("unknown API: %+v %v", rb, err)
	}
}

// rawBody is an answer's body as a map, every field it carries.
func rawBody(t *testing.T, f *fixture, path string, raw []byte) map[string]any {
	t.Helper()
	resp, err := http.Post(f.srv.URL+path, "application/json", strings.NewReader(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var env struct {
		Response struct {
			Body map[string]any `json:"body"`
		} `json:"response"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		t.Fatal(err)
	}
	return env.Response.Body
}
