package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"qrkiosk/relay"
	"qrkiosk/relay/sqlitestore"
)

// A bad --retain-days is refused with the flag and the rule named, exit 64,
// before anything is opened or created.
func TestRetainDaysIsValidated(t *testing.T) {
	for _, c := range []struct {
		arg, want string
	}{
		{"3", "at least 7"},
		{"-1", "at least 7"},
		{"ninety", "whole number of days"},
		{"1.5", "whole number of days"},
		{"999999", "more than 100 years"},
	} {
		data := filepath.Join(t.TempDir(), "journal")
		var stdout, stderr bytes.Buffer
		code := run([]string{"--qfpay-key", "k", "--token", "t", "--data", data, "--listen", "127.0.0.1:0",
			"--retain-days", c.arg}, &stdout, &stderr)
		if code != exitUsage || !strings.Contains(stderr.String(), "--retain-days") || !strings.Contains(stderr.String(), c.want) {
			t.Errorf("--retain-days %s: exit %d, stderr %q; want %d naming the flag and %q", c.arg, code, stderr.String(), exitUsage, c.want)
		}
		if _, err := os.Stat(data); !os.IsNotExist(err) {
			t.Errorf("--retain-days %s: the journal directory was created", c.arg)
		}
	}
	for arg, want := range map[string]time.Duration{"0": -1, "7": 7 * 24 * time.Hour, " 90 ": 90 * 24 * time.Hour} {
		if got, err := retainDays(arg); err != nil || got != want {
			t.Errorf("retainDays(%q) = %v, %v; want %v", arg, got, err, want)
		}
	}
}

// A TLS key the relay cannot use stops it before it says it is listening
// (an operator's health check would otherwise see "relay up" first).
func TestTLSLoadedBeforeListening(t *testing.T) {
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(cert, []byte("not a certificate"), 0o600)
	os.WriteFile(key, []byte("not a key"), 0o600)
	var stdout, stderr bytes.Buffer
	t.Setenv("QFPAY_KEY", "k")
	code := run([]string{"--data", filepath.Join(dir, "data"), "--listen", "127.0.0.1:0", "--tls-cert", cert,
		"--tls-key", key}, &stdout, &stderr)
	if code != 1 || stdout.Len() != 0 || !strings.Contains(stderr.String(), "TLS certificate or key unreadable") {
		t.Fatalf("exit %d, stdout %q, stderr %q; want 1, nothing on stdout, the TLS error", code, stdout.String(), stderr.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "data")); !os.IsNotExist(err) {
		t.Fatal("the journal was created before the TLS check")
	}
}

// Secrets come from the environment or files; one on the command line is
// warned about, a missing or doubled one is refused naming the flag.
func TestSecretsFromFiles(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "qfpay-key")
	os.WriteFile(keyFile, []byte("k\n"), 0o644)
	for _, c := range []struct {
		args []string
		env  map[string]string
		want []string
	}{
		{[]string{"--qfpay-key-file", filepath.Join(dir, "missing")}, nil, []string{"--qfpay-key-file", "no such file"}},
		{[]string{"--qfpay-key-file", keyFile}, map[string]string{"QFPAY_KEY": "k"}, []string{"give one"}},
		{[]string{"--qfpay-key", "k"}, nil, []string{"visible to every user", "--qfpay-key"}},
		{[]string{"--qfpay-key-file", keyFile}, nil, []string{"readable by other users", "chmod 600"}},
		{[]string{"--token-file", filepath.Join(dir, "missing")}, map[string]string{"QFPAY_KEY": "k"}, []string{"--token-file"}},
		{[]string{"--merchants", keyFile}, nil, []string{"--merchants", "want 4 fields"}},
		{[]string{"--token", "t", "--merchants", writeMerchants(t, dir)}, nil, []string{"shared --token", "token add"}},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			t.Setenv("QFPAY_KEY", "")
			os.Unsetenv("QFPAY_KEY")
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			var stdout, stderr bytes.Buffer
			// --retain-days 3 stops every run that gets past the secrets.
			code := run(append(c.args, "--data", filepath.Join(dir, "data"), "--retain-days", "3"), &stdout, &stderr)
			if code != exitUsage {
				t.Errorf("exit %d, want %d", code, exitUsage)
			}
			for _, w := range c.want {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr %q does not mention %q", stderr.String(), w)
				}
			}
			if strings.Contains(stderr.String(), "k\n") {
				t.Error("a secret was printed")
			}
		})
	}
}

func writeMerchants(t *testing.T, dir string) string {
	p := filepath.Join(dir, "merchants")
	os.WriteFile(p, []byte("# id gateway app_code key\nshop-a qfpay APPA KEYA\n"), 0o600)
	return p
}

// A second relay on a data directory in use refuses to start, naming it.
func TestSecondRelayOnOneDataDirectory(t *testing.T) {
	data := t.TempDir()
	held, err := sqlitestore.Open(data, sqlitestore.Options{Lock: true})
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	t.Setenv("QFPAY_KEY", "k")
	var stdout, stderr bytes.Buffer
	code := run([]string{"--data", data, "--listen", "127.0.0.1:0"}, &stdout, &stderr)
	if code != 1 || stdout.Len() != 0 || !strings.Contains(stderr.String(), "in use by another qrkiosk-relay") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout.String(), stderr.String())
	}
}

func TestTokenCommands(t *testing.T) {
	data := t.TempDir()
	tok := func(args ...string) (int, string, string) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		if len(args) == 0 {
			args = []string{""}
		}
		code := run(append([]string{"token", args[0], "--data", data}, args[1:]...), &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}
	code, out, errs := tok("add", "--merchant", "default", "--udid", "kiosk-01", "--note", "counter 1")
	secret := strings.TrimSpace(out)
	if code != 0 || !strings.HasPrefix(secret, relay.TokenPrefix) || len(secret) < len(relay.TokenPrefix)+43 ||
		!strings.Contains(errs, "QRKIOSK_UDID=kiosk-01") {
		t.Fatalf("add: %d %q %q", code, out, errs)
	}
	code, out2, _ := tok("add", "--merchant", "default", "--udid", "kiosk-01")
	if code != 0 || strings.TrimSpace(out2) == secret {
		t.Fatal("second token for the device is not a new secret")
	}
	tok("add", "--merchant", "shop-b", "--udid", "kiosk-01")
	code, list, _ := tok("list")
	if code != 0 || strings.Contains(list, secret) || !strings.Contains(list, "counter 1") ||
		strings.Count(list, "kiosk-01") != 3 || strings.Count(list, " - ") != 3 {
		t.Fatalf("list: %d\n%s", code, list)
	}
	st, err := sqlitestore.Open(data, sqlitestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	found, err := st.TokenByHash(context.Background(), relay.HashToken(secret))
	st.Close()
	if err != nil || found.ID != 1 || found.UDID != "kiosk-01" {
		t.Fatalf("the printed token is not the stored one: %+v %v", found, err)
	}
	if code, out, _ := tok("revoke", "1"); code != 0 || !strings.Contains(out, "revoked 1") {
		t.Fatalf("revoke 1: %d %q", code, out)
	}
	if code, _, errs := tok("revoke", "1"); code != 1 || !strings.Contains(errs, "already revoked") {
		t.Fatalf("revoke 1 again: %d %q", code, errs)
	}
	if code, out, _ := tok("revoke", "--merchant", "default", "--udid", "kiosk-01"); code != 0 || !strings.Contains(out, "revoked 1") {
		t.Fatalf("revoke the device: %d %q", code, out)
	}
	if _, list, _ := tok("list"); strings.Count(list, " - ") != 1 {
		t.Fatalf("after revocations:\n%s", list)
	}
	for _, c := range [][]string{
		{"add", "--merchant", "Shop A", "--udid", "k"},
		{"add", "--merchant", "default"},
		{"add", "--merchant", "default", "--udid", "two words"},
		{"revoke"},
		{"revoke", "x"},
		{"revoke", "1", "--merchant", "default", "--udid", "k"},
		{"revoke", "--merchant", "default"},
		{"rotate"},
	} {
		if code, _, errs := tok(c...); code != exitUsage || !strings.Contains(errs, "qrkiosk-relay token") {
			t.Errorf("token %v: %d %q, want %d and a message", c, code, errs, exitUsage)
		}
	}
}

func TestLimitsAreValidated(t *testing.T) {
	t.Setenv("QFPAY_KEY", "k")
	for _, c := range []struct {
		args []string
		env  string
		want string
	}{
		{[]string{"--max-subscriptions", "0"}, "", "--max-subscriptions"},
		{[]string{"--max-conns-per-token", "many"}, "", "--max-conns-per-token"},
		{nil, "QRKIOSK_RELAY_MAX_CONNS_SHARED_TOKEN=-5", "QRKIOSK_RELAY_MAX_CONNS_SHARED_TOKEN"},
		{[]string{"--max-conns", "0"}, "", "--max-conns"},
		{[]string{"--refusals-per-minute", "x"}, "", "--refusals-per-minute"},
		{[]string{"--max-claims-per-device", "-1"}, "", "--max-claims-per-device"},
		{nil, "QRKIOSK_RELAY_MAX_CLAIMS_PER_MERCHANT=0", "QRKIOSK_RELAY_MAX_CLAIMS_PER_MERCHANT"},
		{[]string{"--replay-memory-mib", "2000000"}, "", "--replay-memory-mib"},
	} {
		t.Run(c.want, func(t *testing.T) { // its own environment
			if c.env != "" {
				k, v, _ := strings.Cut(c.env, "=")
				t.Setenv(k, v)
			}
			data := filepath.Join(t.TempDir(), "data")
			var stdout, stderr bytes.Buffer
			code := run(append(c.args, "--data", data), &stdout, &stderr)
			if code != exitUsage || !strings.Contains(stderr.String(), c.want) || !strings.Contains(stderr.String(), "1 to 1000000") {
				t.Errorf("%v %s: exit %d, %q", c.args, c.env, code, stderr.String())
			}
			if _, err := os.Stat(data); !os.IsNotExist(err) {
				t.Errorf("%v: the journal was created", c.args)
			}
		})
	}
}

// Unpaid claims are kept long enough for a late payment and not for
// weeks: 3 to 720 hours.
func TestUnpaidClaimHoursIsValidated(t *testing.T) {
	t.Setenv("QFPAY_KEY", "k")
	for _, v := range []string{"2", "721", "a day", ""} {
		data := filepath.Join(t.TempDir(), "data")
		code, _, stderr := runCode("--unpaid-claim-hours", v, "--data", data)
		if code != exitUsage || !strings.Contains(stderr, "--unpaid-claim-hours") || !strings.Contains(stderr, "3 to 720") {
			t.Errorf("--unpaid-claim-hours %q: exit %d, %q", v, code, stderr)
		}
		if _, err := os.Stat(data); !os.IsNotExist(err) {
			t.Errorf("%q: the journal was created", v)
		}
	}
	if d, err := unpaidClaimHours(" 24 "); err != nil || d != 24*time.Hour {
		t.Errorf("24: %v %v", d, err)
	}
}

// runCode runs the command and returns its exit status and output.
func runCode(args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := run(args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// clearRelayEnv leaves the relay only what a test sets.
func clearRelayEnv(t *testing.T) {
	for _, k := range []string{"QFPAY_KEY", "QFPAY_KEY_FILE", "SCANFORPAY_KEY", "SCANFORPAY_KEY_FILE", "QRKIOSK_RELAY_TOKEN",
		"QRKIOSK_RELAY_TOKEN_FILE", "QRKIOSK_RELAY_MERCHANTS", "QRKIOSK_RELAY_DATABASE", "QRKIOSK_RELAY_DATABASE_FILE",
		"QRKIOSK_RELAY_TLS_CERT", "QRKIOSK_RELAY_TLS_KEY", "QRKIOSK_RELAY_DATA", "CREDENTIALS_DIRECTORY"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
}

// Under systemd the relay reads its secrets from the credentials the unit
// passes, by name; an empty one is not given (the Debian package's unit
// lists every credential, the operator fills in the shop's). check says
// whether serve would start, and creates nothing.
func TestSystemdCredentials(t *testing.T) {
	creds := t.TempDir()
	put := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(creds, name), []byte(content), 0o400); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []string{credQFPayKey, credScanForPayKey, credToken, credMerchants, credDatabase} {
		put(n, "")
	}
	data := filepath.Join(t.TempDir(), "data")
	check := func(env ...string) (int, string, string) {
		t.Helper()
		clearRelayEnv(t)
		t.Setenv("CREDENTIALS_DIRECTORY", creds)
		for _, e := range env {
			k, v, _ := strings.Cut(e, "=")
			t.Setenv(k, v)
		}
		return runCode("check", "--data", data)
	}

	if code, out, errs := check(); code != exitUsage || out != "" || !strings.Contains(errs, "a merchant is required") {
		t.Errorf("every credential empty: exit %d, %q %q; want %d, a merchant is required", code, out, errs, exitUsage)
	}
	put(credQFPayKey, "QFKEY\n")
	if code, out, errs := check(); code != 0 || !strings.Contains(out, "1 merchant(s): default (qfpay)") ||
		!strings.Contains(out, "their own tokens") || !strings.Contains(out, "SQLite in "+data) {
		t.Errorf("qfpay-key: exit %d, %q %q", code, out, errs)
	}
	put(credToken, "shared-token")
	put(credMerchants, "# id gateway app_code key\nshop-a qfpay APPA KEYA\n")
	if code, out, errs := check(); code != 0 || !strings.Contains(out, "2 merchant(s): default (qfpay), shop-a (qfpay)") ||
		!strings.Contains(out, "shared token") {
		t.Errorf("qfpay-key, token, merchants: exit %d, %q %q", code, out, errs)
	}
	// What serve would refuse, check refuses too: the one-shop merchant
	// given by its key and again in the merchants file.
	put(credMerchants, "default qfpay APPD KEYD\n")
	if code, out, errs := check(); code != exitUsage || out != "" || !strings.Contains(errs, `merchant "default" on qfpay is configured twice`) {
		t.Errorf("default merchant twice: exit %d, %q %q; want %d, configured twice", code, out, errs, exitUsage)
	}
	put(credMerchants, "# id gateway app_code key\nshop-a qfpay APPA KEYA\n")
	// The environment's key beside the credential: refused, naming the file.
	if code, _, errs := check("QFPAY_KEY=OTHER"); code != exitUsage || !strings.Contains(errs, "give one") ||
		!strings.Contains(errs, filepath.Join(creds, credQFPayKey)) {
		t.Errorf("QFPAY_KEY and the credential: exit %d, %q", code, errs)
	}
	// An explicit file wins over the credential.
	other := filepath.Join(t.TempDir(), "k")
	os.WriteFile(other, []byte(" \n"), 0o600)
	if code, _, errs := check("QFPAY_KEY_FILE=" + other); code != exitUsage || !strings.Contains(errs, other+" is empty") {
		t.Errorf("QFPAY_KEY_FILE over the credential: exit %d, %q", code, errs)
	}
	put(credDatabase, "postgres://relay:secret@db.invalid/relay\n")
	if code, out, errs := check(); code != 0 || !strings.Contains(out, "store postgres") || strings.Contains(out+errs, "secret") {
		t.Errorf("database credential: exit %d, %q %q", code, out, errs)
	}
	put(credTLSCert, "not a certificate")
	put(credTLSKey, "not a key")
	if code, _, errs := check(); code != 1 || !strings.Contains(errs, "TLS certificate or key unreadable") {
		t.Errorf("tls credentials: exit %d, %q", code, errs)
	}
	if _, err := os.Stat(data); !os.IsNotExist(err) {
		t.Error("check created the data directory")
	}
}

// The database URL may carry a password, so it also comes from a file; the
// URL and the file together are refused, as is an empty file.
func TestDatabaseFile(t *testing.T) {
	dir := t.TempDir()
	url := filepath.Join(dir, "database")
	os.WriteFile(url, []byte("postgres://relay:pw@db.invalid/relay\n"), 0o600)
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, nil, 0o600)
	for _, c := range []struct {
		env  []string
		code int
		want string
	}{
		{[]string{"QRKIOSK_RELAY_DATABASE_FILE=" + url}, 0, "store postgres"},
		{[]string{"QRKIOSK_RELAY_DATABASE_FILE=" + url, "QRKIOSK_RELAY_DATABASE=postgres://x@db.invalid/x"}, exitUsage, "--database and --database-file: give one"},
		{[]string{"QRKIOSK_RELAY_DATABASE_FILE=" + empty}, exitUsage, "is empty"},
		{[]string{"QRKIOSK_RELAY_DATABASE_FILE=" + filepath.Join(dir, "missing")}, exitUsage, "--database-file"},
	} {
		clearRelayEnv(t)
		t.Setenv("QFPAY_KEY", "k")
		for _, e := range c.env {
			k, v, _ := strings.Cut(e, "=")
			t.Setenv(k, v)
		}
		code, out, errs := runCode("check")
		if code != c.code || !strings.Contains(out+errs, c.want) || strings.Contains(out+errs, "pw@") {
			t.Errorf("%v: exit %d, %q %q; want %d and %q", c.env, code, out, errs, c.code, c.want)
		}
	}
}

// The token commands never create a journal the relay does not read (a
// mistyped or forgotten --data), and root does not write into the service
// user's: SQLite's -wal and -shm owned by root would lock the relay out.
func TestTokenStoreGuards(t *testing.T) {
	clearRelayEnv(t)
	missing := filepath.Join(t.TempDir(), "qrkiosk-relay-data")
	code, _, errs := runCode("token", "add", "--data", missing, "--merchant", "default", "--udid", "k1")
	if code != exitUsage || !strings.Contains(errs, "no such directory") {
		t.Errorf("token add on a missing --data: exit %d, %q", code, errs)
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Error("token add created the data directory")
	}

	if os.Geteuid() != 0 {
		t.Skip("the root guard needs root (to own a directory by another user)")
	}
	data := t.TempDir()
	if err := os.Chown(data, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"token", "add", "--data", data, "--merchant", "default", "--udid", "k1"},
		{"token", "list", "--data", data},
		{"serve", "--data", data, "--qfpay-key-file", writeKey(t), "--listen", "127.0.0.1:0"},
	} {
		code, out, errs := runCode(args...)
		if code != exitUsage || out != "" || !strings.Contains(errs, "belongs to user") || !strings.Contains(errs, "sudo -u ") {
			t.Errorf("%v as root: exit %d, %q %q", args[:2], code, out, errs)
		}
	}
	if ents, _ := os.ReadDir(data); len(ents) != 0 {
		t.Errorf("root created %v in the service user's directory", ents)
	}
}

func writeKey(t *testing.T) string {
	p := filepath.Join(t.TempDir(), "key")
	os.WriteFile(p, []byte("k\n"), 0o600)
	return p
}
