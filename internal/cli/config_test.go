package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"qrkiosk/internal/pin"
	"qrkiosk/sim/qfpaysim"
)

// checkCase is `qrkiosk config check` in an environment: the exit code
// and what the output must say.
type checkCase struct {
	name string
	env  []string
	code int
	say  []string
}

// runConfigChecks runs each check; none may print the key.
func runConfigChecks(t *testing.T, checks []checkCase) {
	t.Helper()
	for _, tc := range checks {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			env := Env{Stdout: &out, Stderr: &out, Getenv: noConfig(t, tc.env...)}
			if code := ConfigCmd(env, []string{"check"}, t.TempDir()); code != tc.code {
				t.Fatalf("exit %d, want %d:\n%s", code, tc.code, out.String())
			}
			for _, say := range tc.say {
				if !strings.Contains(out.String(), say) {
					t.Errorf("output does not say %q:\n%s", say, out.String())
				}
			}
			if strings.Contains(out.String(), "SECRETKEY") {
				t.Fatalf("the key was printed:\n%s", out.String())
			}
		})
	}
}

func TestConfigCheckExitCodes(t *testing.T) {
	runConfigChecks(t, []checkCase{
		{"demo", nil, CheckDemo, []string{"DEMO mode", "environment: the built-in simulator"}},
		// A shop with real credentials and no QFPAY_ENV talks to production.
		{"default environment", []string{"QFPAY_APPCODE", "A", "QFPAY_KEY", "SECRETKEY"}, CheckReady,
			[]string{"environment: production (default)", "base URL: https://openapi-hk.qfapi.com"}},
		{"ready", []string{"QFPAY_APPCODE", "A", "QFPAY_KEY", "SECRETKEY", "QFPAY_ENV", "production"}, CheckReady,
			[]string{"ready", "environment: production", "base URL: https://openapi-hk.qfapi.com"}},
		{"invalid", []string{"QFPAY_APPCODE", "A"}, CheckInvalid, []string{"QFPAY_KEY"}},
		{"unknown environment", []string{"QFPAY_APPCODE", "A", "QFPAY_KEY", "SECRETKEY", "QFPAY_ENV", "prod"}, CheckInvalid, []string{`QFPAY_ENV "prod"`}},
	})
}

// A config file with a value of the wrong type is reported as the file
// that is there and what is wrong in it (line, key), not as "not present":
// exit 64.
func TestConfigCheckFileWithATypeError(t *testing.T) {
	p := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(p, []byte("merchant_name = \"Tea\"\nexpiry_minutes = \"five\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	env := Env{Stdout: &out, Stderr: &out, Getenv: func(k string) string {
		if k == "QRKIOSK_CONFIG" {
			return p
		}
		return ""
	}}
	if code := ConfigCmd(env, []string{"check"}, t.TempDir()); code != CheckInvalid {
		t.Fatalf("exit %d, want 64:\n%s", code, out.String())
	}
	for _, say := range []string{"file: " + p + "\n", p + ": a setting has the wrong type", "line 2", `"expiry_minutes"`} {
		if !strings.Contains(out.String(), say) {
			t.Errorf("output does not say %q:\n%s", say, out.String())
		}
	}
	if strings.Contains(out.String(), "not present") {
		t.Fatalf("a file that is there is called not present:\n%s", out.String())
	}
}

// The global --data comes before any subcommand, config included.
func TestConfigCheckTakesGlobalData(t *testing.T) {
	var out, errb bytes.Buffer
	dir := t.TempDir()
	env := Env{Stdout: &out, Stderr: &errb, Getenv: noConfig(t)}
	if code := Main(context.Background(), env, []string{"--data", dir, "config", "check"}, nil); code != CheckDemo {
		t.Fatalf("exit %d: %s %s", code, out.String(), errb.String())
	}
	if !strings.Contains(out.String(), "journal: "+dir) {
		t.Fatalf("the journal directory is not the one given:\n%s", out.String())
	}
}

func TestManagerPINHash(t *testing.T) {
	var out, errb bytes.Buffer
	env := Env{Stdin: strings.NewReader("24680\n"), Stdout: &out, Stderr: &errb, Getenv: noConfig(t)}
	if code := ConfigCmd(env, []string{"hash-pin"}, ""); code != CheckReady {
		t.Fatalf("hash-pin: %d %s", code, errb.String())
	}
	hash := strings.TrimSpace(out.String())
	if strings.Contains(hash, "24680") || !strings.HasPrefix(hash, "pbkdf2-sha256$") || pin.Verify(hash, "24680") != nil {
		t.Fatalf("hash %q", hash)
	}
	out.Reset()
	env.Stdin = strings.NewReader("12\n")
	if code := ConfigCmd(env, []string{"hash-pin"}, ""); code != CheckInvalid || out.Len() != 0 {
		t.Fatalf("short PIN: %d %q", code, out.String())
	}
}

// Credentials only in config.toml: every subcommand reads the file as the
// window does, so a charge goes through.
func TestChargeWithCredentialsOnlyInTheConfigFile(t *testing.T) {
	sim := qfpaysim.New(qfpaysim.Config{AppCode: "FILEAPPCODE", Key: "FILEKEY"})
	srv := httptest.NewServer(sim)
	t.Cleanup(func() { srv.Close(); sim.Close() })
	sim.SetBaseURL(srv.URL)
	cfg := filepath.Join(t.TempDir(), "config.toml")
	body := "[qfpay]\nbase_url = \"" + srv.URL + "\"\nappcode = \"FILEAPPCODE\"\nkey = \"FILEKEY\"\n"
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	getenv := func(k string) string {
		if k == "QRKIOSK_CONFIG" {
			return cfg
		}
		return ""
	}
	go func() {
		// The customer pays once the QR is there.
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			if o := sim.Orders(); len(o) == 1 {
				sim.Pay(o[0].SysSN)
				return
			}
		}
	}()
	var out, errb bytes.Buffer
	env := Env{Stdout: &out, Stderr: &errb, Getenv: getenv}
	code := Main(context.Background(), env, []string{"--data", t.TempDir(), "charge", "--amount", "1.00", "--json"}, nil)
	if code != ExitPaid {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, out.String(), errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var last struct{ Event, Amount string }
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil || last.Event != "paid" || last.Amount != "1.00" {
		t.Fatalf("last line %q: %v", lines[len(lines)-1], err)
	}
}
