package config

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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
	if c.Demo() || c.Gateway.AppCode != "FILEAPP" || c.Gateway.Key != "ENVKEY" {
		t.Fatalf("gateway: %v", c.Gateway)
	}
	var wallets []string
	for _, w := range c.PayTypes {
		wallets = append(wallets, w.Wallet)
	}
	// Catalog order, not the file's.
	if got := strings.Join(wallets, ","); got != "alipayhk,payme,fps" {
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

func TestCheckExitCodes(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		env  map[string]string
		code int
		say  string
	}{
		{"demo", map[string]string{}, CheckDemo, "DEMO mode"},
		{"ready", map[string]string{"QFPAY_APPCODE": "A", "QFPAY_KEY": "SECRETKEY"}, CheckReady, "ready"},
		{"invalid", map[string]string{"QFPAY_APPCODE": "A"}, CheckInvalid, "QFPAY_KEY"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.env[EnvConfig] = filepath.Join(dir, "absent.toml")
			var out bytes.Buffer
			if code := Check(&out, envOf(tc.env), []string{"check"}); code != tc.code {
				t.Fatalf("exit %d, want %d:\n%s", code, tc.code, out.String())
			}
			if !strings.Contains(out.String(), tc.say) || strings.Contains(out.String(), "SECRETKEY") {
				t.Fatalf("output:\n%s", out.String())
			}
		})
	}
}

func TestManagerPINHash(t *testing.T) {
	var out, errb bytes.Buffer
	if code := Command(strings.NewReader("24680\n"), &out, &errb, envOf(nil), []string{"hash-pin"}); code != CheckReady {
		t.Fatalf("hash-pin: %d %s", code, errb.String())
	}
	hash := strings.TrimSpace(out.String())
	if strings.Contains(hash, "24680") || !strings.HasPrefix(hash, "pbkdf2-sha256$") {
		t.Fatalf("hash %q", hash)
	}
	p := write(t, "manager_pin_hash = \""+hash+"\"\n")
	c, err := Load(p, envOf(nil))
	if err != nil || c.ManagerPINHash != hash {
		t.Fatalf("load: %v %q", err, c.ManagerPINHash)
	}
	// The PIN itself is refused: only its hash may be stored.
	if _, err := Load(write(t, `manager_pin_hash = "2468"`), envOf(nil)); err == nil || !strings.Contains(err.Error(), "hash-pin") {
		t.Fatalf("a plain PIN accepted: %v", err)
	}
	out.Reset()
	errb.Reset()
	if code := Command(strings.NewReader("12\n"), &out, &errb, envOf(nil), []string{"hash-pin"}); code != CheckInvalid || out.Len() != 0 {
		t.Fatalf("short PIN: %d %q", code, out.String())
	}
}
