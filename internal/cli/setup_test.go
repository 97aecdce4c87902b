package cli

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"qrkiosk/internal/config"
	"qrkiosk/internal/pin"
	"qrkiosk/internal/probe"
	"qrkiosk/internal/setup"
	"qrkiosk/sim/qfpaysim"
)

const (
	standInApp = "CLIAPPCODE0000000000000000000001"
	standInKey = "CLIKEY00000000000000000000000001"
)

// standIn is a QFPay stand-in on loopback.
func standIn(t *testing.T) string {
	t.Helper()
	sim := qfpaysim.New(qfpaysim.Config{AppCode: standInApp, Key: standInKey})
	srv := httptest.NewServer(sim)
	t.Cleanup(func() { srv.Close(); sim.Close() })
	return srv.URL
}

// `qrkiosk config test`: exit 0 when every configured part works, else 1
// with one sentence for each part that does not; never the key.
func TestConfigTest(t *testing.T) {
	base := standIn(t)
	gone := httptest.NewServer(nil)
	gone.Close()
	for _, tc := range []struct {
		name string
		env  []string
		code int
		say  []string
	}{
		{"works", []string{"QFPAY_BASE_URL", base, "QFPAY_APPCODE", standInApp, "QFPAY_KEY", standInKey}, TestPassed,
			[]string{"ok   gateway: QFPay accepted the app code and key.\n"}},
		{"wrong key", []string{"QFPAY_BASE_URL", base, "QFPAY_APPCODE", standInApp, "QFPAY_KEY", "SECRETKEY"}, TestFailed,
			[]string{"FAIL gateway: The QFPay key does not match the app code: the gateway refused the signature (1108).\n"}},
		{"no relay there", []string{"QFPAY_BASE_URL", base, "QFPAY_APPCODE", standInApp, "QFPAY_KEY", standInKey,
			"QRKIOSK_RELAY_URL", "ws" + strings.TrimPrefix(gone.URL, "http") + "/ws", "QRKIOSK_RELAY_TOKEN", "SECRETKEY"}, TestFailed,
			[]string{"ok   gateway:", "FAIL relay: The relay at ws://" + strings.TrimPrefix(gone.URL, "http://") + "/ws could not be reached"}},
		{"demo", nil, TestFailed, []string{"FAIL gateway: No QFPay app code and key: the kiosk runs in demo mode and takes no real money.\n"}},
		{"invalid", []string{"QFPAY_APPCODE", "A"}, CheckInvalid, []string{"QFPAY_KEY"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			env := Env{Stdout: &out, Stderr: &out, Getenv: noConfig(t, tc.env...)}
			if code := configTest(context.Background(), env, t.TempDir(), probe.Options{}); code != tc.code {
				t.Fatalf("exit %d, want %d:\n%s", code, tc.code, out.String())
			}
			for _, say := range tc.say {
				if !strings.Contains(out.String(), say) {
					t.Errorf("output does not say %q:\n%s", say, out.String())
				}
			}
			if strings.Contains(out.String(), "SECRETKEY") || strings.Contains(out.String(), standInKey) {
				t.Fatalf("a secret was printed:\n%s", out.String())
			}
		})
	}
}

// answers are a script's lines for one section, in the order qrkiosk
// setup asks (the setup page's fields on QFPay): the value given, else
// Enter.
func answers(section string, v map[string]string) []string {
	var out []string
	for _, f := range setup.Fields() {
		if f.Section != section || (f.When != "" && f.When != "gateway=qfpay") {
			continue
		}
		out = append(out, v[f.Key])
		if f.Kind == setup.KindPIN && v[f.Key] != "" {
			out = append(out, v[f.Key])
		}
	}
	if section == "sale" {
		out = append(out, v["logo"])
	}
	return out
}

// script is a whole run's answers: the gateway first with a wrong key,
// answered again, then the rest.
func script(base string, logo string) string {
	gw := map[string]string{"qfpay.base_url": base, "qfpay.appcode": standInApp, "qfpay.key": "WRONGKEY1"}
	lines := answers("gateway", gw)
	lines = append(lines, "y")
	gw["qfpay.key"] = standInKey
	lines = append(lines, answers("gateway", gw)...)
	for _, s := range setup.Sections()[1:] {
		lines = append(lines, answers(s.ID, map[string]string{"merchant_name": "陳記", "pay_types": "payme,wechat", "manager_pin_hash": "2468", "logo": logo})...)
	}
	return strings.Join(append(lines, "y"), "\n") + "\n"
}

// A script answers every question: the wrong key is said to be one and
// answered again, and the file is written as the page writes it.
func TestSetupScripted(t *testing.T) {
	base := standIn(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	os.WriteFile(path, []byte("merchant_name = \"Old\"\n"), 0o644)
	logo := filepath.Join(dir, "shop.png")
	os.WriteFile(logo, pngLogo(), 0o644)
	var out, errOut bytes.Buffer
	env := Env{Stdin: strings.NewReader(script(base, logo)), Stdout: &out, Stderr: &errOut, Getenv: func(k string) string {
		if k == config.EnvConfig {
			return path
		}
		return ""
	}}
	if code := runSetup(context.Background(), env, nil, probe.Options{}); code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out.String(), errOut.String())
	}
	for _, want := range []string{
		"✗ The QFPay key does not match the app code: the gateway refused the signature (1108).",
		"✓ QFPay accepted the app code and key.",
		"Saved. The previous version is " + path + ".bak.",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the dialogue lacks %q:\n%s", want, out.String())
		}
	}
	c, err := config.Load(path, func(string) string { return "" })
	if err != nil || c.Demo() || c.QFPay.Key != standInKey || c.MerchantName != "陳記" || c.PayTypes[0].Wallet != "payme" || c.Logo == "" {
		t.Fatalf("saved %+v, %v", c, err)
	}
	if err := pin.Verify(c.ManagerPINHash, "2468"); err != nil {
		t.Errorf("manager PIN: %v", err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", fi.Mode().Perm())
	}
	if strings.Contains(out.String()+errOut.String(), standInKey) {
		t.Error("the key was echoed")
	}
}

// A script that ends early, or gives an answer its rule refuses, writes
// nothing.
func TestSetupWritesNothingUnfinished(t *testing.T) {
	base := standIn(t)
	full := script(base, "")
	for _, tc := range []struct {
		name, stdin string
		code        int
		says        string
	}{
		{"input ends", strings.Join(strings.SplitAfter(full, "\n")[:4], ""), ExitFailed, "the input ended"},
		{"an answer refused", strings.Replace(full, "\npayme,wechat\n", "\npayme,visa\n", 1), ExitUsage, `Wallets offered: pay_types: "visa" is not a wallet of qfpay`},
		{"not saved", strings.TrimSuffix(full, "y\n") + "n\n", ExitFailed, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config.toml")
			var out, errOut bytes.Buffer
			env := Env{Stdin: strings.NewReader(tc.stdin), Stdout: &out, Stderr: &errOut, Getenv: func(k string) string {
				if k == config.EnvConfig {
					return path
				}
				return ""
			}}
			if code := runSetup(context.Background(), env, nil, probe.Options{}); code != tc.code || !strings.Contains(errOut.String(), tc.says) {
				t.Fatalf("exit %d, want %d saying %q:\n%s", code, tc.code, tc.says, errOut.String())
			}
			if _, err := os.Stat(path); !os.IsNotExist(err) {
				t.Error("the file was written")
			}
		})
	}
}

func pngLogo() []byte {
	var b bytes.Buffer
	png.Encode(&b, image.NewRGBA(image.Rect(0, 0, 64, 32)))
	return b.Bytes()
}
