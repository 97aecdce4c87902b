package config

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"qrkiosk/payment"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func write(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDefaultsWithoutFileAreDemo(t *testing.T) {
	c, err := Load(filepath.Join(t.TempDir(), "none.toml"), envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Demo() || c.Path != "" || c.Currency.Code != "HKD" || c.Layout != LayoutDual || c.Expiry != 30*time.Minute || len(c.PayTypes) != 7 {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestFileAndEnvOverride(t *testing.T) {
	p := write(t, `
merchant_name = "陳記茶餐廳"
currency = "hkd"
pay_types = ["payme", "fps", "alipayhk"]
expiry_minutes = 10
pin = "2468"
layout = "single"

[qfpay]
appcode = "FILEAPP"
key = "FILEKEY"
`)
	c, err := Load(p, envOf(map[string]string{"QFPAY_KEY": "ENVKEY", EnvLayout: "dual"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Demo() || c.Gateway != GatewayQFPay || c.QFPay.AppCode != "FILEAPP" || c.QFPay.Key != "ENVKEY" {
		t.Fatalf("gateway %q: %v", c.Gateway, c.QFPay)
	}
	var wallets []string
	for _, w := range c.PayTypes {
		wallets = append(wallets, w.Wallet)
	}
	// The file's order: the merchant's choice of what comes first.
	if got := strings.Join(wallets, ","); got != "payme,fps,alipayhk" {
		t.Fatalf("wallets %s", got)
	}
	if c.MerchantName != "陳記茶餐廳" || c.Expiry != 10*time.Minute || c.PIN != "2468" || c.Layout != LayoutDual || c.Path != p {
		t.Fatalf("config %+v", c)
	}
}

func TestProblemsAreAllReported(t *testing.T) {
	p := write(t, `
currency = "XYZ"
pay_types = ["alipay-cpm"]
expiry_minutes = 500
pin = "12"
layout = "triple"
relay_url = "http://relay"
[qfpay]
appcode = "ONLYAPP"
`)
	_, err := Load(p, envOf(nil))
	probs, ok := err.(Problems)
	if !ok || len(probs) != 8 {
		t.Fatalf("want 8 problems, got %v", err)
	}
	for _, want := range []string{"QFPAY_KEY", "currency", "scanned by the cashier", "expiry_minutes", "pin", "layout", "relay_url", "relay_token"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("no problem mentions %q:\n%v", want, err)
		}
	}
}

func TestUnknownKeyIsRefused(t *testing.T) {
	_, err := Load(write(t, `merchent_name = "typo"`), envOf(nil))
	if err == nil || !strings.Contains(err.Error(), "merchent_name") {
		t.Fatalf("want unknown key, got %v", err)
	}
}

// A file that is there but cannot be used is reported as there, with what
// the TOML library says is wrong (line and key), not taken for no file.
func TestFileThatCannotBeUsed(t *testing.T) {
	for _, c := range []struct {
		body string
		say  []string
	}{
		{"merchant_name = \"A\"\nexpiry_minutes = \"five\"\n", []string{"a setting has the wrong type", "line 2", `"expiry_minutes"`, "incompatible types"}},
		{"[qfpay]\nkey = 5\n", []string{"a setting has the wrong type", "line 2", `"qfpay.key"`}},
		{"merchant_name = \n", []string{"could not be read as TOML", "line 1", "expected value"}},
	} {
		p := write(t, c.body)
		cfg, err := Load(p, envOf(nil))
		if err == nil || cfg.Path != p {
			t.Errorf("%q: path %q, %v; want the file named and an error", c.body, cfg.Path, err)
			continue
		}
		for _, say := range append(c.say, p+": ") {
			if !strings.Contains(err.Error(), say) {
				t.Errorf("%q: %v; want it to say %q", c.body, err, say)
			}
		}
	}
	dir := t.TempDir() // a directory where the file should be
	if cfg, err := Load(dir, envOf(nil)); err == nil || cfg.Path != dir || !strings.Contains(err.Error(), dir+": could not be read: ") {
		t.Errorf("a directory: path %q, %v", cfg.Path, err)
	}
}

func TestNamedConfigFileMustExist(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "absent.toml")
	_, err := FromEnvironment(envOf(map[string]string{EnvConfig: missing}))
	if err == nil || !strings.Contains(err.Error(), EnvConfig) || !strings.Contains(err.Error(), "absent.toml") {
		t.Fatalf("a named file that is missing: %v (want an error, not demo mode)", err)
	}
}

func TestPlaceholdersAndBadEnvironmentRefused(t *testing.T) {
	p := write(t, `
[qfpay]
env = "prod"
appcode = "…"
key = "<client key>"
`)
	_, err := Load(p, envOf(nil))
	for _, want := range []string{`QFPAY_ENV "prod"`, "appcode: looks like a placeholder", "key: looks like a placeholder"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("no problem says %q:\n%v", want, err)
		}
	}
}

func TestRiskySettingsWarn(t *testing.T) {
	p := write(t, `
relay_url = "ws://192.0.2.10:8080/ws"
relay_token = "t0k3n"
[qfpay]
appcode = "APP"
key = "KEY"
`)
	if err := os.Chmod(p, 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Load(p, envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	w := strings.Join(c.Warnings, "\n")
	if len(c.Warnings) != 2 || !strings.Contains(w, "ws://") || !strings.Contains(w, "chmod 600") {
		t.Fatalf("warnings:\n%s", w)
	}
	// On loopback, in a file only its owner reads: nothing to say.
	p = write(t, "relay_url = \"ws://127.0.0.1:8080/ws\"\nrelay_token = \"t\"\n")
	if c, err := Load(p, envOf(nil)); err != nil || len(c.Warnings) != 0 {
		t.Fatalf("warnings %q, %v", c.Warnings, err)
	}
}

func TestSoundAndLogo(t *testing.T) {
	c, err := Load(filepath.Join(t.TempDir(), "none.toml"), envOf(nil))
	if err != nil || !c.Sound || c.Logo != "" {
		t.Fatalf("defaults: sound %v logo %q (%v)", c.Sound, c.Logo, err)
	}
	// A relative logo is read beside the config file.
	p := write(t, "sound = false\nlogo = \"logo.png\"\n")
	img := image.NewNRGBA(image.Rect(0, 0, 4, 2))
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	logo := filepath.Join(filepath.Dir(p), "logo.png")
	if err := os.WriteFile(logo, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err = Load(p, envOf(nil))
	if err != nil || c.Sound || c.Logo != logo {
		t.Fatalf("file: sound %v logo %q (%v)", c.Sound, c.Logo, err)
	}
	c, err = Load(p, envOf(map[string]string{EnvSound: "on"}))
	if err != nil || !c.Sound {
		t.Fatalf("QRKIOSK_SOUND=on: sound %v (%v)", c.Sound, err)
	}
	for env, want := range map[string]string{
		EnvSound: "QRKIOSK_SOUND/sound \"loud\": must be true or false",
		EnvLogo:  "must be a PNG or JPEG image",
	} {
		bad := map[string]string{EnvSound: "loud", EnvLogo: p} // the TOML file is no image
		_, err := Load("", envOf(map[string]string{env: bad[env]}))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s=%q: %v, want %q", env, bad[env], err, want)
		}
	}
	if _, err := Load("", envOf(map[string]string{EnvLogo: "/nonexistent/logo.png"})); err == nil || !strings.Contains(err.Error(), "QRKIOSK_LOGO/logo \"/nonexistent/logo.png\": cannot be read") {
		t.Errorf("missing logo: %v", err)
	}
}

func TestScanForPayGateway(t *testing.T) {
	p := write(t, `
gateway = "scanforpay"
[scanforpay]
partner_no = "10001"
store_no = "100010000000002"
key = "FILEKEY"
terminal_no = "KIOSK-1"
`)
	c, err := Load(p, envOf(map[string]string{"SCANFORPAY_KEY": "ENVKEY"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Demo() || c.Gateway != GatewayScanForPay || c.ScanForPay.Key != "ENVKEY" || c.ScanForPay.TerminalNo != "KIOSK-1" {
		t.Fatalf("config %+v", c.ScanForPay)
	}
	if env, base := c.Endpoint(); base != "https://pay.scanforpay.com" || !strings.Contains(env, "production") {
		t.Fatalf("endpoint %s %s", env, base)
	}
	if s := c.Credentials().String(); strings.Contains(s, "ENVKEY") || !strings.Contains(s, "100010000000002") {
		t.Fatalf("credentials %s", s)
	}
	// Wallets: what ScanForPay takes, without cancel or expiry.
	var wallets []string
	for _, w := range c.PayTypes {
		wallets = append(wallets, w.Wallet)
		if w.Cancel != payment.CancelNone || w.HonoursExpiry {
			t.Errorf("%s: %+v", w.Wallet, w)
		}
	}
	if got := strings.Join(wallets, ","); got != "alipay,wechat" {
		t.Fatalf("wallets %s", got)
	}

	// The environment picks the gateway; without credentials it is demo
	// mode, and the missing ones are named.
	c, err = Load("", envOf(map[string]string{"QRKIOSK_GATEWAY": "ScanForPay"}))
	if err != nil || !c.Demo() || len(c.Missing()) != 3 || !strings.Contains(strings.Join(c.Missing(), " "), "SCANFORPAY_STORE_NO") {
		t.Fatalf("demo on scanforpay: %v, missing %v", err, c.Missing())
	}
}

func TestScanForPayProblems(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"QRKIOSK_GATEWAY": "alipay"}, `"qfpay" or "scanforpay"`},
		{map[string]string{"QRKIOSK_GATEWAY": "scanforpay", "SCANFORPAY_PARTNER_NO": "10001"}, "SCANFORPAY_STORE_NO"},
		{map[string]string{"QRKIOSK_GATEWAY": "scanforpay", "SCANFORPAY_BASE_URL": "pay.scanforpay.com"}, "SCANFORPAY_BASE_URL"},
		{map[string]string{"QRKIOSK_GATEWAY": "scanforpay", "QRKIOSK_PAY_TYPES": "payme"}, `"payme" is not taken by this gateway; use alipay, wechat`},
		{map[string]string{"QRKIOSK_GATEWAY": "scanforpay", "SCANFORPAY_KEY": "<sign key>", "SCANFORPAY_PARTNER_NO": "1", "SCANFORPAY_STORE_NO": "2"}, "placeholder"},
	} {
		_, err := Load("", envOf(c.env))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v; want a problem saying %q", c.env, err, c.want)
		}
	}
	// A relay without a notify URL gets nothing from ScanForPay: warned.
	c, err := Load("", envOf(map[string]string{"QRKIOSK_GATEWAY": "scanforpay", "QRKIOSK_RELAY_URL": "wss://relay.example/ws", "QRKIOSK_RELAY_TOKEN": "t"}))
	if err != nil || len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], "SCANFORPAY_NOTIFY_URL") {
		t.Fatalf("warnings %q, %v", c.Warnings, err)
	}
	// The QFPay table's settings are not checked while ScanForPay is chosen.
	if _, err := Load("", envOf(map[string]string{"QRKIOSK_GATEWAY": "scanforpay", "QFPAY_ENV": "nowhere"})); err != nil {
		t.Fatalf("a QFPay setting checked on ScanForPay: %v", err)
	}
}

func TestWithGateway(t *testing.T) {
	c, err := Load("", envOf(map[string]string{"QRKIOSK_PAY_TYPES": "wechat,payme"}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.WithGateway(GatewayScanForPay); err == nil || !strings.Contains(err.Error(), "payme") {
		t.Fatalf("switching with a wallet ScanForPay does not take: %v", err)
	}
	c, _ = Load("", envOf(nil))
	s, err := c.WithGateway(GatewayScanForPay)
	if err != nil || s.Gateway != GatewayScanForPay || len(s.PayTypes) != 2 || s.PayTypes[0].Cancel != payment.CancelNone {
		t.Fatalf("switched: %v %+v", err, s.PayTypes)
	}
	if _, err := c.WithGateway("nope"); err == nil {
		t.Fatal("an unknown gateway was taken")
	}
}
