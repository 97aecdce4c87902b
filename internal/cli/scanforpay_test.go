package cli

import (
	"bytes"
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"qrkiosk/internal/kiosk"
	"qrkiosk/sim/sfpsim"
)

func TestConfigCheckNamesTheGateway(t *testing.T) {
	runConfigChecks(t, []checkCase{
		{"scanforpay demo", []string{"QRKIOSK_GATEWAY", "scanforpay"}, CheckDemo, []string{
			"gateway: scanforpay", "environment: the built-in simulator", "wallets: alipay, wechat",
			"DEMO mode: no scanforpay credentials", "SCANFORPAY_PARTNER_NO", "SCANFORPAY_STORE_NO", "SCANFORPAY_KEY", "[scanforpay]",
			"no refund query", "reconcile checks each journal order by query",
		}},
		{"scanforpay ready", []string{"QRKIOSK_GATEWAY", "scanforpay", "SCANFORPAY_PARTNER_NO", "10001", "SCANFORPAY_STORE_NO", "100010000000002", "SCANFORPAY_KEY", "SECRETKEY"},
			CheckReady, []string{"ready: real payments through scanforpay", `store_no="100010000000002"`, "key=set (hidden)"}},
		{"scanforpay incomplete", []string{"QRKIOSK_GATEWAY", "scanforpay", "SCANFORPAY_KEY", "SECRETKEY"}, CheckInvalid, []string{"SCANFORPAY_PARTNER_NO", "SCANFORPAY_STORE_NO"}},
		{"qfpay demo", nil, CheckDemo, []string{"gateway: qfpay", "DEMO mode: no qfpay credentials", "QFPAY_APPCODE", "[qfpay]"}},
	})
}

// A wallet the kiosk's gateway does not take is refused before anything
// is recorded or sent (exit 64); without --wallet the first enabled
// wallet is charged.
func TestChargeWalletOfTheGateway(t *testing.T) {
	sim := sfpsim.New(sfpsim.Config{PartnerNo: "10001", StoreNo: "100010000000002", Key: "K"})
	srv := httptest.NewServer(sim)
	t.Cleanup(func() { srv.Close(); sim.Close() })
	vars := []string{"QRKIOSK_GATEWAY", "scanforpay", "SCANFORPAY_BASE_URL", srv.URL, "SCANFORPAY_PARTNER_NO", "10001", "SCANFORPAY_STORE_NO", "100010000000002", "SCANFORPAY_KEY", "K"}
	var out, errb bytes.Buffer
	env := Env{Stdout: &out, Stderr: &errb, Getenv: noConfig(t, vars...)}
	code := Main(context.Background(), env, []string{"--data", t.TempDir(), "charge", "--amount", "1.00", "--wallet", "payme", "--json"}, nil)
	if code != ExitUsage || !strings.Contains(errb.String(), "--wallet payme: scanforpay does not take it; use alipay, wechat") || len(sim.Orders()) != 0 {
		t.Fatalf("exit %d, %d orders\n%s", code, len(sim.Orders()), errb.String())
	}
	// A scanned code names the scanned-code wallets the gateway takes,
	// not the QR ones the cashier just gave.
	errb.Reset()
	code = Main(context.Background(), env, []string{"--data", t.TempDir(), "charge", "--amount", "1.00", "--auth-code", "1381234567890123", "--wallet", "wechat"}, nil)
	if code != ExitUsage || !strings.Contains(errb.String(), "--wallet wechat: scanforpay does not take it; use allinone") || len(sim.Orders()) != 0 {
		t.Fatalf("scanned code, --wallet wechat: exit %d, %d orders\n%s", code, len(sim.Orders()), errb.String())
	}
	k, err := kiosk.Open(kiosk.Options{DataDir: t.TempDir(), Getenv: noConfig(t, vars...)})
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	opts, err := ParseCharge([]string{"--amount", "1"}, &errb)
	if err != nil {
		t.Fatal(err)
	}
	pt, err := chargePayType(opts, k)
	if err != nil || pt.Wallet != "alipay" {
		t.Fatalf("default wallet %+v, %v; want the first ScanForPay takes", pt, err)
	}
}

func TestDemoGatewayFlag(t *testing.T) {
	var out bytes.Buffer
	env := Env{Stdout: &out, Stderr: &out, Getenv: noConfig(t)}
	f, err := parseWindowFlags([]string{"--demo-gateway", "ScanForPay"}, env)
	if err != nil || f.demoGateway != "scanforpay" || !f.demo {
		t.Fatalf("flags %+v, %v", f, err)
	}
	if _, err := parseWindowFlags([]string{"--demo-gateway", "paypal"}, env); err == nil || !strings.Contains(err.Error(), "qfpay or scanforpay") {
		t.Fatalf("unknown gateway: %v", err)
	}
}
