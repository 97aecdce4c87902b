package config

import (
	"os"
	"strings"
	"testing"
)

func TestECR(t *testing.T) {
	const key = "0123456789abcdef0123456789ABCDEF"
	for _, c := range []struct {
		name, file string
		env        map[string]string
		check      func(ECR) bool
		problem    string // in a problem, when refused
		warning    string // in a warning, when accepted
	}{
		{name: "off by default", check: func(e ECR) bool {
			return !e.On() && e.ListenAddr() == "0.0.0.0:9001" && e.Encryption
		}},
		{name: "on with a POS-KEY; the gateway key signs notices", file: "[qfpay]\nappcode=\"A\"\nkey=\"GWKEY\"\n[ecr]\npos_key=\"" + key + "\"\nnotify_url=\"https://odoo.example/qfpay/notify\"\n",
			check: func(e ECR) bool {
				return e.On() && e.POSKey == key && e.NotifyKey == "GWKEY" && e.NotifyKeyIsGateway && e.NotifyURL == "https://odoo.example/qfpay/notify"
			}},
		{name: "notify_key and the environment", file: "[ecr]\npos_key=\"" + key + "\"\nnotify_key=\"NK\"\nencryption=false\nlisten=\"127.0.0.1:0\"\n",
			env: map[string]string{EnvECRNotifyURL: "https://pos.example/hook"},
			check: func(e ECR) bool {
				return e.NotifyKey == "NK" && !e.NotifyKeyIsGateway && !e.Encryption && e.ListenAddr() == "127.0.0.1:0" && e.NotifyURL == "https://pos.example/hook"
			}, warning: ""},
		{name: "no webhook", file: "[ecr]\npos_key=\"" + key + "\"\n", check: func(e ECR) bool { return e.On() }, warning: "notify_url is not set"},
		{name: "webhook over http across the internet", file: "[ecr]\npos_key=\"" + key + "\"\nnotify_url=\"http://odoo.example/qfpay/notify\"\n",
			check: func(e ECR) bool { return true }, warning: "use https://"},
		{name: "webhook over http on the LAN", file: "[ecr]\npos_key=\"" + key + "\"\nnotify_url=\"http://192.168.1.5:8069/qfpay/notify\"\n",
			check: func(e ECR) bool { return true }},
		{name: "section without a POS-KEY", file: "[ecr]\nnotify_url=\"https://odoo.example/qfpay/notify\"\n", check: func(e ECR) bool { return !e.On() }, warning: "pos_key is not"},
		{name: "short key", file: "[ecr]\npos_key=\"abc\"\n", problem: "[ecr] pos_key: 3 characters; must be 16, 24 or 32"},
		{name: "placeholder key", file: "[ecr]\npos_key=\"<the POS-KEY from QFPay's....>\"\n", problem: "[ecr] pos_key: looks like a placeholder"},
		{name: "bad listen", file: "[ecr]\nlisten=\"9001\"\n", problem: `[ecr] listen "9001": must be HOST:PORT`},
		{name: "listen on a name", file: "[ecr]\nlisten=\"kiosk.lan:9001\"\n", problem: "must be an IP address"},
		{name: "bad port", file: "[ecr]\nlisten=\":99999\"\n", problem: "from 0 to 65535"},
		{name: "bad webhook", file: "[ecr]\npos_key=\"" + key + "\"\nnotify_url=\"odoo.example/qfpay/notify\"\n", problem: "[ecr] notify_url \"odoo.example/qfpay/notify\": must be the POS's https:// webhook"},
		{name: "webhook with a password", file: "[ecr]\npos_key=\"" + key + "\"\nnotify_url=\"https://u:secret@odoo.example/qfpay/notify\"\n", problem: "must not carry a user or password"},
		{name: "bad encryption", file: "[ecr]\npos_key=\"" + key + "\"\n", env: map[string]string{EnvECREncryption: "maybe"}, problem: `encryption "maybe": must be true or false`},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := Load(write(t, c.file), envOf(c.env))
			if c.problem != "" {
				if err == nil || !strings.Contains(err.Error(), c.problem) {
					t.Fatalf("err %v; want %q", err, c.problem)
				}
				if strings.Contains(err.Error(), "secret") || strings.Contains(err.Error(), key) {
					t.Fatalf("a problem quotes a secret: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !c.check(cfg.ECR) {
				t.Fatalf("ecr %+v", cfg.ECR)
			}
			warned := strings.Join(cfg.Warnings, "\n")
			if c.warning != "" && !strings.Contains(warned, c.warning) {
				t.Fatalf("warnings %q; want %q", warned, c.warning)
			}
			if c.warning == "" && strings.Contains(warned, "[ecr]") {
				t.Fatalf("unexpected warnings %q", warned)
			}
		})
	}
}

// A file whose [ecr] holds a key must not be readable by others.
func TestECRKeyFileMode(t *testing.T) {
	p := write(t, "[ecr]\npos_key=\"0123456789abcdef0123456789ABCDEF\"\nnotify_url=\"https://odoo.example/qfpay/notify\"\n")
	if err := os.Chmod(p, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(p, envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(cfg.Warnings, "\n"), "holds secrets and other users can read it") {
		t.Fatalf("warnings %q", cfg.Warnings)
	}
}

// FuzzECR: whatever [ecr] holds, the settings are refused with reasons that
// never quote a key, or are within every rule.
func FuzzECR(f *testing.F) {
	f.Add("0.0.0.0:9001", "0123456789abcdef0123456789ABCDEF", "https://odoo.example/qfpay/notify", "", "true")
	f.Add("9001", "short", "odoo", "…", "maybe")
	f.Add("[::1]:0", "0123456789abcdef", "http://u:p@x/", "k", "off")
	f.Fuzz(func(t *testing.T, listen, posKey, notifyURL, notifyKey, encryption string) {
		e := ecrFile{Listen: listen, POSKey: posKey, NotifyURL: notifyURL, NotifyKey: notifyKey}
		c, err := fromFile("", File{ECR: e}, envOf(map[string]string{EnvECREncryption: encryption}))
		if err != nil {
			for _, secret := range []string{strings.TrimSpace(posKey), strings.TrimSpace(notifyKey)} {
				if len(secret) >= 6 && strings.Contains(err.Error(), secret) && !strings.Contains(listen+notifyURL+encryption, secret) {
					t.Fatalf("a problem quotes a key: %v", err)
				}
			}
			return
		}
		ecr := c.ECR
		if n := len(ecr.POSKey); ecr.On() && n != 16 && n != 24 && n != 32 {
			t.Fatalf("POS-KEY of %d characters accepted", n)
		}
		if err := checkListen(ecr.ListenAddr()); err != nil {
			t.Fatalf("listen %q: %v", ecr.ListenAddr(), err)
		}
		if ecr.NotifyURL != "" {
			if !strings.HasPrefix(ecr.NotifyURL, "https://") && !strings.HasPrefix(ecr.NotifyURL, "http://") {
				t.Fatalf("webhook %q", ecr.NotifyURL)
			}
		}
	})
}
