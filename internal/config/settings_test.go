package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"qrkiosk/internal/pin"
)

func TestFileSettings(t *testing.T) {
	off := false
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	for _, tc := range []struct {
		name string
		path string
		f    File
		want map[string]string // absent: not in the map
	}{
		{"what the file leaves out is empty", path, File{}, map[string]string{EnvLogo: "", EnvPayTypes: "", EnvSound: "absent", EnvExpiry: "absent"}},
		{"wallets joined as the environment lists them", path, File{PayTypes: []string{"payme", "fps"}}, map[string]string{EnvPayTypes: "payme,fps"}},
		{"sound off", path, File{Sound: &off}, map[string]string{EnvSound: "false"}},
		{"expiry in minutes", path, File{ExpiryMinutes: 10}, map[string]string{EnvExpiry: "10"}},
		{"a relative logo is beside the file", path, File{Logo: "logo.png"}, map[string]string{EnvLogo: filepath.Join(dir, "logo.png")}},
		{"an absolute logo stays", path, File{Logo: "/srv/logo.png"}, map[string]string{EnvLogo: "/srv/logo.png"}},
		{"a logo without a file stays as written", "", File{Logo: "logo.png"}, map[string]string{EnvLogo: "logo.png"}},
		{"gateway tables under their variables", path, File{UDID: "K1"}, map[string]string{"QRKIOSK_UDID": "K1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := fileSettings(tc.path, tc.f)
			for k, want := range tc.want {
				v, ok := got[k]
				if want == "absent" {
					if ok {
						t.Errorf("%s = %q, want it absent", k, v)
					}
					continue
				}
				if v != want {
					t.Errorf("%s = %q, want %q", k, v, want)
				}
			}
		})
	}
	f := File{MerchantName: "Shop"}
	f.QFPay.Key = "FILEKEY"
	f.ScanForPay.NotifyURL = "https://relay.example/notify/scanforpay"
	if got := fileSettings(path, f); got["QFPAY_KEY"] != "FILEKEY" || got["SCANFORPAY_NOTIFY_URL"] != f.ScanForPay.NotifyURL || got[EnvMerchantName] != "Shop" {
		t.Errorf("tables: %v", got)
	}
}

func TestOverlay(t *testing.T) {
	get := overlay(envOf(map[string]string{EnvLayout: " single ", EnvPIN: "   "}), map[string]string{EnvLayout: "dual", EnvPIN: " 2468 ", EnvCurrency: "HKD"})
	for k, want := range map[string]string{
		EnvLayout:   "single", // the environment wins, trimmed
		EnvPIN:      "2468",   // blank in the environment: the file's, trimmed
		EnvCurrency: "HKD",
		EnvSound:    "",
	} {
		if got := get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
}

// TestSections: each section reads its setting, and a bad value is one
// problem naming the variable, the key and the rule.
func TestSections(t *testing.T) {
	hash, err := pin.HashIter("2468", 1)
	if err != nil {
		t.Fatal(err)
	}
	type section func(*Config, func(string) string) []string
	var (
		currency section = (*Config).readCurrency
		expiry   section = (*Config).readExpiry
		layout   section = (*Config).readLayout
		sound    section = (*Config).readSound
		wallets  section = (*Config).readPayTypes
		logo     section = (*Config).readLogo
		langs    section = (*Config).readLanguages
	)
	for _, tc := range []struct {
		name    string
		read    section
		env     map[string]string
		got     func(Config) any
		want    any    // nil: not checked
		problem string // "" = none
	}{
		{"currency HKD by default", currency, nil, func(c Config) any { return c.Currency.Code }, "HKD", ""},
		{"currency in any case", currency, map[string]string{EnvCurrency: "jpy"}, func(c Config) any { return c.Currency.Code }, "JPY", ""},
		{"unknown currency", currency, map[string]string{EnvCurrency: "XYZ"}, nil, nil, "QRKIOSK_CURRENCY/currency: "},
		{"expiry 30 minutes by default", expiry, nil, func(c Config) any { return c.Expiry }, 30 * time.Minute, ""},
		{"expiry in minutes", expiry, map[string]string{EnvExpiry: "10"}, func(c Config) any { return c.Expiry }, 10 * time.Minute, ""},
		{"expiry too long", expiry, map[string]string{EnvExpiry: "500"}, nil, nil, `QRKIOSK_EXPIRY_MINUTES/expiry_minutes "500": must be a whole number of minutes from 5 to 120`},
		{"expiry not a number", expiry, map[string]string{EnvExpiry: "five"}, nil, nil, `expiry_minutes "five"`},
		{"dual layout by default", layout, nil, func(c Config) any { return c.Layout }, LayoutDual, ""},
		{"layout in any case", layout, map[string]string{EnvLayout: "Single"}, func(c Config) any { return c.Layout }, LayoutSingle, ""},
		{"unknown layout", layout, map[string]string{EnvLayout: "triple"}, nil, nil, `QRKIOSK_LAYOUT/layout "triple": must be "dual" or "single"`},
		{"sound on by default", sound, nil, func(c Config) any { return c.Sound }, true, ""},
		{"sound off", sound, map[string]string{EnvSound: "No"}, func(c Config) any { return c.Sound }, false, ""},
		{"sound on", sound, map[string]string{EnvSound: "1"}, func(c Config) any { return c.Sound }, true, ""},
		{"sound neither", sound, map[string]string{EnvSound: "loud"}, nil, nil, `QRKIOSK_SOUND/sound "loud": must be true or false`},
		{"every wallet by default", wallets, nil, func(c Config) any { return len(c.PayTypes) }, 7, ""},
		{"wallets in the order listed", wallets, map[string]string{EnvPayTypes: "fps, payme"}, func(c Config) any { return c.PayTypes[0].Wallet + "," + c.PayTypes[1].Wallet }, "fps,payme", ""},
		{"a wallet named twice listed once", wallets, map[string]string{EnvPayTypes: "payme,805801,fps"}, func(c Config) any { return len(c.PayTypes) }, 2, ""},
		{"a scanned pay type", wallets, map[string]string{EnvPayTypes: "alipay-cpm"}, nil, nil, "QRKIOSK_PAY_TYPES/pay_types: \"alipay-cpm\" is scanned by the cashier"},
		{"no wallet", wallets, map[string]string{EnvPayTypes: " , "}, nil, nil, "at least one wallet is required"},
		{"wallets kept as written", wallets, map[string]string{EnvPayTypes: "payme"}, func(c Config) any { return c.payTypesSetting }, "payme", ""},
		{"no logo", logo, nil, func(c Config) any { return c.Logo }, "", ""},
		{"a logo that is not there", logo, map[string]string{EnvLogo: "/nonexistent/logo.png"}, nil, nil, `QRKIOSK_LOGO/logo "/nonexistent/logo.png": cannot be read`},
		{"languages follow the wallet by default", langs, nil, func(c Config) any { return c.Languages.String() }, "wallet", ""},
		{"languages fixed", langs, map[string]string{EnvLanguages: "zh-hant, en, zh-hans"}, func(c Config) any { return c.Languages.String() }, "zh-Hant,en,zh-Hans", ""},
		{"languages without English", langs, map[string]string{EnvLanguages: "zh-Hant,zh-Hans"}, nil, nil, `QRKIOSK_LANGUAGES/languages "zh-Hant,zh-Hans": must be "wallet" or the three languages en, zh-Hant and zh-Hans in the order to show them, separated by commas`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var c Config
			probs := tc.read(&c, envOf(tc.env))
			if tc.problem == "" {
				wantProblems(t, probs, nil)
			} else {
				wantProblems(t, probs, []string{tc.problem})
			}
			if tc.want != nil {
				if got := tc.got(c); got != tc.want {
					t.Errorf("read %v, want %v", got, tc.want)
				}
			}
		})
	}

	// The settings read with the rest, checked on their own.
	for _, tc := range []struct {
		name  string
		c     Config
		check func(*Config) []string
		want  []string
	}{
		{"no PINs", Config{}, (*Config).checkPINs, nil},
		{"kiosk PIN of 4 digits", Config{PIN: "2468"}, (*Config).checkPINs, nil},
		{"kiosk PIN too short", Config{PIN: "12"}, (*Config).checkPINs, []string{"QRKIOSK_PIN/pin: 4 to 12 digits"}},
		{"kiosk PIN not digits", Config{PIN: "12a4"}, (*Config).checkPINs, []string{"QRKIOSK_PIN/pin: 4 to 12 digits"}},
		{"a manager PIN hash", Config{ManagerPINHash: hash}, (*Config).checkPINs, nil},
		{"the manager PIN itself", Config{ManagerPINHash: "2468"}, (*Config).checkPINs, []string{"QRKIOSK_MANAGER_PIN_HASH/manager_pin_hash: not a PIN hash"}},
		{"both wrong, kiosk PIN first", Config{PIN: "1", ManagerPINHash: "2468"}, (*Config).checkPINs, []string{"pin: 4 to 12 digits", "manager_pin_hash"}},
		{"udid of 40", Config{UDID: strings.Repeat("u", 40)}, (*Config).checkUDID, nil},
		{"udid of 41", Config{UDID: strings.Repeat("u", 41)}, (*Config).checkUDID, []string{"QRKIOSK_UDID/udid: at most 40 characters"}},
		{"no relay", Config{}, (*Config).checkRelay, nil},
		{"relay over http", Config{RelayURL: "http://relay", RelayToken: "t"}, (*Config).checkRelay, []string{`QRKIOSK_RELAY_URL/relay_url "http://relay": must be a ws:// or wss:// URL`}},
		{"relay without a host", Config{RelayURL: "wss:///ws", RelayToken: "t"}, (*Config).checkRelay, []string{"must be a ws:// or wss:// URL"}},
		{"relay without a token", Config{RelayURL: "wss://relay.example/ws"}, (*Config).checkRelay, []string{"QRKIOSK_RELAY_TOKEN/relay_token: is required with a relay URL"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.c
			wantProblems(t, tc.check(&c), tc.want)
		})
	}
}

// A relay token crosses the network in clear only over ws:// to another
// machine: warned, not refused.
func TestRelayWarnings(t *testing.T) {
	for _, tc := range []struct {
		url  string
		warn bool
	}{
		{"wss://relay.example/ws", false},
		{"ws://127.0.0.1:8080/ws", false},
		{"ws://[::1]:8080/ws", false},
		{"ws://localhost:8080/ws", false},
		{"ws://192.0.2.10:8080/ws", true},
		{"ws://relay.example/ws", true},
	} {
		c := Config{RelayURL: tc.url, RelayToken: "t"}
		if probs := c.checkRelay(); len(probs) != 0 {
			t.Errorf("%s: problems %q", tc.url, probs)
		}
		if got := len(c.Warnings) == 1 && strings.Contains(c.Warnings[0], "sends the relay token in clear; use wss://"); got != tc.warn || len(c.Warnings) > 1 {
			t.Errorf("%s: warnings %q, want a warning %v", tc.url, c.Warnings, tc.warn)
		}
	}
}

func TestFileModeWarning(t *testing.T) {
	withKey := File{}
	withKey.QFPay.Key = "KEY"
	for _, tc := range []struct {
		name string
		f    File
		mode os.FileMode
		warn bool
	}{
		{"no secrets, readable by all", File{MerchantName: "Shop"}, 0o644, false},
		{"a gateway key, owner only", withKey, 0o600, false},
		{"a gateway key, readable by all", withKey, 0o644, true},
		{"a relay token, readable by the group", File{RelayToken: "t"}, 0o640, true},
		{"the kiosk PIN, readable by all", File{PIN: "2468"}, 0o644, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := write(t, "")
			if err := os.Chmod(p, tc.mode); err != nil {
				t.Fatal(err)
			}
			w := fileModeWarning(p, tc.f)
			if got := len(w) == 1 && strings.Contains(w[0], "chmod 600 "+p); got != tc.warn || len(w) > 1 {
				t.Errorf("warnings %q, want a warning %v", w, tc.warn)
			}
		})
	}
	if w := fileModeWarning("", withKey); len(w) != 0 {
		t.Errorf("no file: %q", w)
	}
}
