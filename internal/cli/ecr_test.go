package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"qrkiosk/internal/ecr/terminal"
	"qrkiosk/internal/kiosk"
	"qrkiosk/payment"
)

const testPOSKey = "0123456789abcdef0123456789ABCDEF"

// `ecr cert` makes the kiosk's CA on first use, in the data directory's
// lan/, and prints the same file and fingerprint every time; config check
// then names it, says where the kiosk answers the POS, and never prints a
// key.
func TestECRCertAndConfigCheck(t *testing.T) {
	data := t.TempDir()
	getenv := noConfig(t, "QRKIOSK_ECR_POS_KEY", testPOSKey, "QRKIOSK_ECR_NOTIFY_URL", "https://odoo.example/qfpay/notify",
		"QRKIOSK_ECR_LISTEN", "127.0.0.1:9001", "QFPAY_APPCODE", "APP", "QFPAY_KEY", "SECRETKEY")
	var check bytes.Buffer
	ConfigCmd(Env{Stdout: &check, Stderr: &check, Getenv: getenv}, []string{"check"}, data)
	for _, say := range []string{
		"pos (ECR): on, answering at https://127.0.0.1:9001/api/pos/ (listen 127.0.0.1:9001); POS-KEY set (32 characters); encryption on",
		"pos webhook: https://odoo.example/qfpay/notify, signed with the qfpay key (notify_key not set)",
		"pos CA: not made yet",
	} {
		if !strings.Contains(check.String(), say) {
			t.Errorf("config check does not say %q:\n%s", say, check.String())
		}
	}
	var first, second, errb bytes.Buffer
	if code := ECRCmd(context.Background(), Env{Stdout: &first, Stderr: &errb, Getenv: getenv}, []string{"cert"}, data); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	ECRCmd(context.Background(), Env{Stdout: &second, Stderr: &errb, Getenv: getenv}, []string{"cert"}, data)
	ca := filepath.Join(data, "lan", "ca.crt")
	if first.String() != second.String() || !strings.Contains(first.String(), "CA certificate: "+ca) || caFingerprint(ca) == "" ||
		!strings.Contains(first.String(), "SHA-256 fingerprint: "+caFingerprint(ca)) {
		t.Fatalf("ecr cert:\n%s\n%s", first.String(), second.String())
	}
	check.Reset()
	ConfigCmd(Env{Stdout: &check, Stderr: &check, Getenv: getenv}, []string{"check"}, data)
	if !strings.Contains(check.String(), "pos CA: "+ca+" (SHA-256 "+caFingerprint(ca)+")") {
		t.Fatalf("config check after ecr cert:\n%s", check.String())
	}
	for _, secret := range []string{testPOSKey, "SECRETKEY"} {
		if strings.Contains(check.String()+first.String(), secret) {
			t.Fatalf("a key was printed:\n%s", check.String())
		}
	}
}

// `ecr send` is a POS of its own (posclient, not the kiosk's decoder): it
// sends Odoo's request to a kiosk, waits for the sale, prints the answer
// and exits by it; bad flags are refused before anything is sent.
func TestECRSend(t *testing.T) {
	data := t.TempDir()
	getenv := noConfig(t, "QRKIOSK_ECR_POS_KEY", testPOSKey, "QRKIOSK_ECR_LISTEN", "127.0.0.1:0")
	k, err := kiosk.Open(kiosk.Options{DataDir: data, Getenv: getenv, DemoIfUnconfigured: true, DemoHost: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	term, err := terminal.Serve(k, terminal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer term.Close()
	send := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := ECRCmd(context.Background(), Env{Stdout: &out, Stderr: &errb, Getenv: noConfig(t)}, append([]string{"send"}, args...), t.TempDir())
		return code, out.String(), errb.String()
	}
	ca := k.LAN().CAPath()
	done := make(chan [3]string, 1)
	go func() {
		code, out, errs := send("--to", k.LAN().URL(), "--pos-key", testPOSKey, "--amount", "12.50", "--channel", "wx", "--ca", ca, "--out-trade-no", "u--1--2")
		done <- [3]string{string(rune('0' + code)), out, errs}
	}()
	var sale kiosk.Sale
	deadline := time.Now().Add(10 * time.Second)
	for {
		if s, ok := k.Till.Live(); ok && s.Order.Snapshot().State == payment.StateAwaitingPayment {
			sale = s
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no sale on the kiosk")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if snap := sale.Order.Snapshot(); snap.Amount.Minor != 1250 || snap.OutTradeNo != "u--1--2" || snap.PayType.Wallet != "wechat" {
		t.Fatalf("sale %+v", snap)
	}
	if err := k.Demo.Pay(sale.Order.Snapshot()); err != nil {
		t.Fatal(err)
	}
	res := <-done
	var answer map[string]string
	if res[0] != "0" || json.Unmarshal([]byte(res[1]), &answer) != nil || answer["respcd"] != "6000" || !strings.Contains(answer["data"], `"txamt":"1250"`) {
		t.Fatalf("exit %s\n%s\n%s", res[0], res[1], res[2])
	}

	for _, c := range []struct {
		args []string
		code int
		says string
	}{
		{[]string{"--pos-key", testPOSKey, "--amount", "1"}, ExitUsage, "--to: the kiosk's address is required"},
		{[]string{"--to", "http://kiosk:9001", "--pos-key", testPOSKey, "--amount", "1"}, ExitUsage, "must be https://HOST:PORT"},
		{[]string{"--to", k.LAN().URL(), "--pos-key", "short", "--amount", "1"}, ExitUsage, "--pos-key: 5 characters"},
		{[]string{"--to", k.LAN().URL(), "--pos-key", testPOSKey, "--amount", "lots"}, ExitUsage, `--amount "lots"`},
		{[]string{"--to", k.LAN().URL(), "--pos-key", "fedcba9876543210fedcba9876543210", "--amount", "1", "--ca", ca}, ExitFailed, "Error Code: 5001"},
		{[]string{"--to", k.LAN().URL(), "--pos-key", testPOSKey, "--amount", "1.005", "--ca", ca}, ExitFailed, `Error Code: 4006`},
		{[]string{"--to", k.LAN().URL(), "--pos-key", testPOSKey, "--amount", "1", "--ca", filepath.Join(t.TempDir(), "none.crt")}, ExitUsage, "--ca"},
	} {
		if code, _, errs := send(c.args...); code != c.code || !strings.Contains(errs, c.says) {
			t.Errorf("%v: exit %d, %q; want %d saying %q", c.args, code, errs, c.code, c.says)
		}
		time.Sleep(300 * time.Millisecond) // the route's rate
	}
	if _, live := k.Till.Live(); live {
		t.Fatal("a refused send started a sale")
	}
}
