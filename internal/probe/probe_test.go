package probe

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"qrkiosk/internal/config"
	"qrkiosk/internal/escpos/escpostest"
	"qrkiosk/payment/qfpay"
	"qrkiosk/payment/scanforpay"
	"qrkiosk/relay"
	"qrkiosk/relay/sqlitestore"
	"qrkiosk/sim/qfpaysim"
	"qrkiosk/sim/sfpsim"
)

const (
	appTest, keyTest = "TESTAPP00000000000000000000000001", "TESTKEY00000000000000000000000001"
	appProd, keyProd = "PRODAPP00000000000000000000000001", "PRODKEY00000000000000000000000001"
)

// startQFPay is a QFPay stand-in holding one merchant.
func startQFPay(t *testing.T, app, key, mchID string) string {
	t.Helper()
	sim := qfpaysim.New(qfpaysim.Config{AppCode: app, Key: key, MchID: mchID})
	srv := httptest.NewServer(sim)
	t.Cleanup(func() { srv.Close(); sim.Close() })
	return srv.URL
}

func qfpayConfig(env, base, app, key, mchID string) config.Config {
	return config.Config{Gateway: config.GatewayQFPay, QFPay: qfpay.Config{Env: env, BaseURL: base, AppCode: app, Key: key, MchID: mchID, SignType: qfpay.SignMD5}}
}

// Each wrong QFPay setting gets its own sentence naming the setting to
// fix, from QFPay's answers to a query that moves no money; a wrong
// environment is found by asking QFPay's other environments (here two
// stand-ins, each knowing its own merchant).
func TestGatewayQFPay(t *testing.T) {
	test, prod := startQFPay(t, appTest, keyTest, ""), startQFPay(t, appProd, keyProd, "MCH0001")
	envs := map[string]string{"test": test, "production": prod, "sandbox": startQFPay(t, "OTHER", "OTHER", "")}
	o := Options{QFPayEnvironments: envs}
	for _, tc := range []struct {
		name  string
		cfg   config.Config
		ok    bool
		text  string
		field string
	}{
		{"right", qfpayConfig("production", "", appProd, keyProd, "MCH0001"), true,
			"QFPay's production environment accepted the app code and key and the merchant id MCH0001.", ""},
		{"wrong key", qfpayConfig("production", "", appProd, "WRONG", "MCH0001"), false,
			"The QFPay key does not match the app code: the gateway refused the signature (1108).", "qfpay.key"},
		{"wrong environment", qfpayConfig("production", "", appTest, keyTest, ""), false,
			"This app code and key are for QFPay's test environment, not production: choose test.", "qfpay.env"},
		{"the default environment is production", qfpayConfig("", "", appTest, keyTest, ""), false,
			"This app code and key are for QFPay's test environment, not production: choose test.", "qfpay.env"},
		{"another merchant id", qfpayConfig("production", "", appProd, keyProd, "MCH9999"), false,
			"QFPay's production environment refused the merchant id MCH9999: it is not one of this app code's (1104: mchid: does not belong to this app code).", "qfpay.mchid"},
		{"no merchant id", qfpayConfig("production", "", appProd, keyProd, ""), false,
			"QFPay's production environment needs the merchant id (mchid) it issued with this app code (1104: mchid: is required for this merchant).", "qfpay.mchid"},
		{"a base URL of its own", qfpayConfig("", test, appTest, "WRONG", ""), false,
			"The QFPay key does not match the app code: the gateway refused the signature (1108).", "qfpay.key"},
		{"a base URL of its own, right", qfpayConfig("", test, appTest, keyTest, ""), true,
			"QFPay accepted the app code and key.", ""},
		{"no credentials", qfpayConfig("production", "", "", "", ""), false,
			"No QFPay app code and key: the kiosk runs in demo mode and takes no real money.", "qfpay.appcode"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Gateway(context.Background(), tc.cfg, o)
			if r.OK != tc.ok || r.Text != tc.text || r.Field != tc.field || r.Part != PartGateway {
				t.Fatalf("got %+v\nwant ok %v %q field %q", r, tc.ok, tc.text, tc.field)
			}
			if strings.Contains(r.Text, tc.cfg.QFPay.Key) && tc.cfg.QFPay.Key != "" {
				t.Fatal("the sentence shows the key")
			}
		})
	}

	// The other environments cannot be asked: the sentence says so.
	gone := httptest.NewServer(nil)
	gone.Close()
	r := Gateway(context.Background(), qfpayConfig("production", "", appTest, keyTest, ""), Options{QFPayEnvironments: map[string]string{"production": prod, "test": gone.URL}})
	if r.OK || r.Field != "qfpay.key" || !strings.Contains(r.Text, "other environments could not be asked") {
		t.Errorf("unasked environments: %+v", r)
	}
	r = Gateway(context.Background(), qfpayConfig("", gone.URL, appTest, keyTest, ""), Options{Timeout: 5 * time.Second})
	if r.OK || r.Field != "" || !strings.HasPrefix(r.Text, "QFPay at "+gone.URL+" could not be reached: ") {
		t.Errorf("no gateway: %+v", r)
	}
}

func TestGatewayScanForPay(t *testing.T) {
	sim := sfpsim.New(sfpsim.Config{PartnerNo: "10001", StoreNo: "100010000000002", Key: "SFPKEY"})
	srv := httptest.NewServer(sim)
	t.Cleanup(func() { srv.Close(); sim.Close() })
	cfg := func(partner, store, key string) config.Config {
		return config.Config{Gateway: config.GatewayScanForPay, ScanForPay: scanforpay.Config{BaseURL: srv.URL, PartnerNo: partner, StoreNo: store, Key: key}}
	}
	for _, tc := range []struct {
		name  string
		cfg   config.Config
		ok    bool
		text  string
		field string
	}{
		{"right", cfg("10001", "100010000000002", "SFPKEY"), true, "ScanForPay accepted partner no 10001, store no 100010000000002 and the key.", ""},
		{"wrong key", cfg("10001", "100010000000002", "WRONG"), false,
			"The ScanForPay key does not match partner no 10001: the gateway's answer (code 10: signature does not match the request with the partner's sign key) is signed with another key.", "scanforpay.key"},
		{"unknown partner", cfg("10002", "100010000000002", "SFPKEY"), false,
			"ScanForPay at " + srv.URL + " does not know partner no 10002: it answered without a signature (code 12: partnerNo is not a partner of this gateway).", "scanforpay.partner_no"},
		{"another store", cfg("10001", "100010000000009", "SFPKEY"), false,
			"ScanForPay refused store no 100010000000009 for partner no 10001 (code 12: storeNo is not a store of this partner).", "scanforpay.store_no"},
		{"no credentials", cfg("10001", "", ""), false,
			"No ScanForPay partner no, store no and key: the kiosk runs in demo mode and takes no real money.", "scanforpay.partner_no"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Gateway(context.Background(), tc.cfg, Options{})
			if r.OK != tc.ok || r.Text != tc.text || r.Field != tc.field {
				t.Fatalf("got %+v\nwant ok %v %q field %q", r, tc.ok, tc.text, tc.field)
			}
		})
	}
}

func TestRelay(t *testing.T) {
	st, err := sqlitestore.Open(t.TempDir(), sqlitestore.Options{Lock: true})
	if err != nil {
		t.Fatal(err)
	}
	s, err := relay.NewServer(relay.Config{Key: "QFKEY", Token: "shared-token", Store: st})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	ws := "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws"
	for _, tc := range []struct {
		name, url, token string
		ok               bool
		text, field      string
	}{
		{"taken", ws, "shared-token", true, "The relay at " + ws + " took this kiosk's token.", ""},
		{"wrong token", ws, "nope", false, "The relay at " + ws + " refused the token: unauthorized: token not accepted.", "relay_token"},
		{"not the websocket", "ws" + strings.TrimPrefix(srv.URL, "http") + "/nope", "shared-token", false, "ws" + strings.TrimPrefix(srv.URL, "http") + "/nope answered HTTP 404: it is not a relay's websocket address (…/ws).", "relay_url"},
		{"no token", ws, "", false, "The relay needs this kiosk's token (qrkiosk-relay token add makes one).", "relay_token"},
		{"no relay", "", "", true, "No relay: the kiosk learns each result by asking the gateway every 2 seconds.", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Relay(context.Background(), config.Config{RelayURL: tc.url, RelayToken: tc.token}, Options{})
			if r.OK != tc.ok || r.Text != tc.text || r.Field != tc.field || r.Part != PartRelay {
				t.Fatalf("got %+v\nwant ok %v %q field %q", r, tc.ok, tc.text, tc.field)
			}
			if tc.token != "" && strings.Contains(r.Text, tc.token) {
				t.Fatal("the sentence shows the token")
			}
		})
	}
	srv.Close()
	if r := Relay(context.Background(), config.Config{RelayURL: ws, RelayToken: "shared-token"}, Options{}); r.OK || r.Field != "relay_url" || !strings.Contains(r.Text, "could not be reached") {
		t.Errorf("a relay that is gone: %+v", r)
	}
}

// The test slip reaches the printer as one job; a printer out of paper or
// switched off is named as such.
func TestPrinter(t *testing.T) {
	p := escpostest.Start(t)
	settings := PrinterSettings{Address: p.Addr(), Width: 576, Merchant: "陳記"}
	r := Printer(context.Background(), settings, Options{})
	if !r.OK || r.Text != "Printed a test slip on "+p.Addr()+": check that the frame's four sides are on the paper." {
		t.Fatalf("%+v", r)
	}
	if job := p.Next(t, 5*time.Second); len(job) < 1000 {
		t.Fatalf("a job of %d bytes", len(job))
	}
	p.Set(t, escpostest.PaperOut)
	if r := Printer(context.Background(), settings, Options{}); r.OK || r.Field != "printer" || !strings.Contains(r.Text, "out of paper") {
		t.Errorf("out of paper: %+v", r)
	}
	p.Set(t, escpostest.Off)
	if r := Printer(context.Background(), settings, Options{}); r.OK || !strings.Contains(r.Text, "printer offline") {
		t.Errorf("switched off: %+v", r)
	}
	if r := Printer(context.Background(), PrinterSettings{Address: p.Addr(), Width: 100}, Options{}); r.OK || !strings.Contains(r.Text, "width") {
		t.Errorf("a width no paper has: %+v", r)
	}
}
