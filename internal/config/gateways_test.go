package config

import (
	"slices"
	"strings"
	"testing"

	"qrkiosk/payment/qfpay"
	"qrkiosk/payment/scanforpay"
)

// wantProblems: one problem per want, in order, each containing it.
func wantProblems(t *testing.T, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("problems %q, want %d saying %q", got, len(want), want)
	}
	for i := range want {
		if !strings.Contains(got[i], want[i]) {
			t.Errorf("problem %q, want it to say %q", got[i], want[i])
		}
	}
}

func secretNames(ss []secret) []string {
	var names []string
	for _, s := range ss {
		names = append(names, s.name)
	}
	return names
}

func TestCheckQFPay(t *testing.T) {
	for _, tc := range []struct {
		name     string
		env      map[string]string
		problems []string
	}{
		{"no credentials: demo mode", nil, nil},
		{"both credentials", map[string]string{qfpay.EnvAppCode: "APP", qfpay.EnvKey: "KEY"}, nil},
		{"app code alone", map[string]string{qfpay.EnvAppCode: "APP"}, []string{"set both QFPAY_KEY (the client key QFPay issued), or neither for demo mode"}},
		{"key alone", map[string]string{qfpay.EnvKey: "KEY"}, []string{"set both QFPAY_APPCODE (the app code QFPay issued), or neither"}},
		{"unknown environment", map[string]string{qfpay.EnvEnv: "prod"}, []string{`QFPAY_ENV "prod"`}},
		{"unknown sign type", map[string]string{qfpay.EnvSignType: "sha1"}, []string{`QFPAY_SIGN_TYPE: sign type "sha1": must be MD5 or SHA256`}},
		{"udid too long for the gateway", map[string]string{qfpay.EnvUDID: strings.Repeat("u", 41)}, []string{"udid"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gw, err := qfpay.ConfigFromEnv(envOf(tc.env))
			gc := checkQFPay(gw, err)
			wantProblems(t, gc.problems, tc.problems)
			if names := secretNames(gc.secrets); !slices.Equal(names, []string{"QFPAY_APPCODE/[qfpay] appcode", "QFPAY_KEY/[qfpay] key"}) {
				t.Errorf("secrets %q", names)
			}
			if gc.secrets[0].value != gw.AppCode || gc.secrets[1].value != gw.Key || len(gc.warnings) != 0 {
				t.Errorf("secrets %+v, warnings %q", gc.secrets, gc.warnings)
			}
		})
	}
}

func TestCheckScanForPay(t *testing.T) {
	all := map[string]string{scanforpay.EnvPartnerNo: "10001", scanforpay.EnvStoreNo: "100010000000002", scanforpay.EnvKey: "KEY"}
	with := func(k, v string) map[string]string {
		m := map[string]string{k: v}
		for k, v := range all {
			if _, ok := m[k]; !ok {
				m[k] = v
			}
		}
		return m
	}
	for _, tc := range []struct {
		name     string
		env      map[string]string
		relayURL string
		problems []string
		warning  string // "" = none
	}{
		{"no credentials: demo mode", nil, "", nil, ""},
		{"all three credentials", all, "", nil, ""},
		{"partner number alone", map[string]string{scanforpay.EnvPartnerNo: "10001"}, "",
			[]string{"set SCANFORPAY_STORE_NO (the store number ScanForPay assigned) and SCANFORPAY_KEY (the sign key ScanForPay issued) too, or none of the ScanForPay credentials for demo mode"}, ""},
		{"partner number too long", with(scanforpay.EnvPartnerNo, strings.Repeat("1", 16)), "", []string{"SCANFORPAY_PARTNER_NO: must be at most 15 characters"}, ""},
		{"base URL that is not one", with(scanforpay.EnvBaseURL, "pay.scanforpay.com"), "", []string{"SCANFORPAY_BASE_URL"}, ""},
		{"relay without a notify URL", all, "wss://relay.example/ws", nil, "SCANFORPAY_NOTIFY_URL/[scanforpay] notify_url is not"},
		{"relay with a notify URL", with(scanforpay.EnvNotifyURL, "https://relay.example/notify/scanforpay"), "wss://relay.example/ws", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := scanforpay.ConfigFromEnv(envOf(tc.env))
			gc := checkScanForPay(sc, tc.relayURL)
			wantProblems(t, gc.problems, tc.problems)
			switch {
			case tc.warning == "" && len(gc.warnings) != 0:
				t.Errorf("warnings %q, want none", gc.warnings)
			case tc.warning != "" && (len(gc.warnings) != 1 || !strings.Contains(gc.warnings[0], tc.warning)):
				t.Errorf("warnings %q, want one saying %q", gc.warnings, tc.warning)
			}
			want := []secret{
				{"SCANFORPAY_PARTNER_NO/[scanforpay] partner_no", sc.PartnerNo},
				{"SCANFORPAY_STORE_NO/[scanforpay] store_no", sc.StoreNo},
				{"SCANFORPAY_KEY/[scanforpay] key", sc.Key},
			}
			if !slices.Equal(gc.secrets, want) {
				t.Errorf("secrets %+v", gc.secrets)
			}
		})
	}
}

func TestPlaceholders(t *testing.T) {
	for _, tc := range []struct {
		value       string
		placeholder bool
	}{
		{"", false},
		{"A1B2C3", false},
		{"…", true},
		{"abc...", true},
		{"<app code>", true},
		{"key>", true},
	} {
		probs := placeholders([]secret{{"QFPAY_KEY/[qfpay] key", tc.value}})
		if got := len(probs) == 1; got != tc.placeholder {
			t.Errorf("%q: problems %q, want a placeholder %v", tc.value, probs, tc.placeholder)
		}
		if tc.placeholder && probs[0] != "QFPAY_KEY/[qfpay] key: looks like a placeholder from an example; put the value you were issued" {
			t.Errorf("%q: %q", tc.value, probs[0])
		}
	}
}

// readGateway reads both tables and checks the chosen one only, the relay
// token for placeholders on either.
func TestReadGateway(t *testing.T) {
	for _, tc := range []struct {
		name     string
		env      map[string]string
		token    string
		gateway  string
		problems []string
	}{
		{"QFPay by default", nil, "", GatewayQFPay, nil},
		{"named in any case", map[string]string{EnvGateway: "ScanForPay"}, "", GatewayScanForPay, nil},
		{"unknown gateway", map[string]string{EnvGateway: "alipay"}, "", "alipay", []string{`QRKIOSK_GATEWAY/gateway "alipay": must be "qfpay" or "scanforpay"`}},
		{"QFPay checked when chosen", map[string]string{qfpay.EnvEnv: "nowhere"}, "", GatewayQFPay, []string{`QFPAY_ENV "nowhere"`}},
		{"QFPay not checked on ScanForPay", map[string]string{EnvGateway: "scanforpay", qfpay.EnvEnv: "nowhere"}, "", GatewayScanForPay, nil},
		{"ScanForPay not checked on QFPay", map[string]string{scanforpay.EnvPartnerNo: "10001"}, "", GatewayQFPay, nil},
		{"gateway problems, then placeholders", map[string]string{qfpay.EnvAppCode: "<app code>"}, "…", GatewayQFPay,
			[]string{"set both QFPAY_KEY", "QRKIOSK_RELAY_TOKEN/relay_token: looks like a placeholder", "QFPAY_APPCODE/[qfpay] appcode: looks like a placeholder"}},
		{"relay token on ScanForPay", map[string]string{EnvGateway: "scanforpay"}, "<token>", GatewayScanForPay, []string{"QRKIOSK_RELAY_TOKEN/relay_token: looks like a placeholder"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Config{RelayToken: tc.token}
			wantProblems(t, c.readGateway(envOf(tc.env)), tc.problems)
			if c.Gateway != tc.gateway {
				t.Errorf("gateway %q, want %q", c.Gateway, tc.gateway)
			}
			// Both tables are read, whichever is chosen.
			if c.QFPay.Env != tc.env[qfpay.EnvEnv] || c.ScanForPay.PartnerNo != tc.env[scanforpay.EnvPartnerNo] {
				t.Errorf("tables read: %+v %+v", c.QFPay, c.ScanForPay)
			}
		})
	}
}
