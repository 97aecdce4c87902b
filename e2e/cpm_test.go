package e2e

import (
	"strings"
	"testing"
	"time"
)

// cpmCharge charges a scanned customer code and returns the process and
// its first line, which is always "created" with the syssn.
func cpmCharge(t *testing.T, base, data, code string, args ...string) (*proc, event) {
	t.Helper()
	p := start(t, kioskEnv(base, data), "qrkiosk", append([]string{"charge", "--json", "--auth-code", code}, args...)...)
	created := p.event(30 * time.Second)
	if created.Event != "created" || created.SysSN == "" || created.QRCode != "" {
		t.Fatalf("first event %+v, want created with a syssn and no QR", created)
	}
	return p, created
}

// The customer confirms on the phone after a moment (the simulator answers
// 1145 first): the kiosk asks until QFPay says paid, and history lists one
// customer-presented order.
func TestCPMChargeConfirmedOnThePhone(t *testing.T) {
	t.Parallel()
	base, _ := startSim(t, "--cpm-confirm-after", "2s")
	data := t.TempDir()
	p, created := cpmCharge(t, base, data, "287654321098765432", "--amount", "8.80")
	if created.Amount != "8.80" || created.PayType != "800008" {
		t.Fatalf("created %+v", created)
	}
	if e := p.event(10 * time.Second); e.Event != "confirming" {
		t.Fatalf("second event %+v, want confirming", e)
	}
	last, code := p.lastEvent(30 * time.Second)
	if code != 0 || last.Event != "paid" {
		t.Fatalf("exit %d, last %+v; want 0 and paid", code, last)
	}
	d, _ := history(t, base, data)
	otn, state, _ := onlyOrder(t, d)
	if otn != created.OutTradeNo || state != "paid" || d.Orders[0].TxAmt != 880 {
		t.Fatalf("history %+v", d.Orders)
	}
	if gw := gatewayOrders(t, base); len(gw) != 1 || gw[0].Respcd != "0000" {
		t.Fatalf("gateway %+v: one payment, paid", gw)
	}
}

// A code the customer never confirms is withdrawn after 2 minutes and the
// charge fails, telling the cashier to charge again.
func TestCPMNeverConfirmedIsWithdrawnAfterTwoMinutes(t *testing.T) {
	t.Parallel()
	base, _ := startSim(t)
	p, _ := cpmCharge(t, base, t.TempDir(), "287654321098769999", "--amount", "8.80", "--wallet", "alipay")
	start := time.Now()
	last, code := p.lastEvent(3 * time.Minute)
	if code != 1 || last.Event != "failed" || !strings.Contains(last.Reason, "within 2 minutes") || time.Since(start) < 100*time.Second {
		t.Fatalf("exit %d after %v, last %+v; want 1 and failed after 2 minutes", code, time.Since(start), last)
	}
	if gw := gatewayOrders(t, base); len(gw) != 1 || gw[0].Cancel != 1 {
		t.Fatalf("gateway %+v: the unconfirmed payment must be withdrawn (cancel 1)", gw)
	}
}

// A wrong or expired code fails at once, with what to ask the customer.
func TestCPMBadCode(t *testing.T) {
	t.Parallel()
	base, _ := startSim(t)
	p := start(t, kioskEnv(base, t.TempDir()), "qrkiosk", "charge", "--json", "--amount", "8.80", "--auth-code", "287654321098761202")
	last, code := p.lastEvent(30 * time.Second)
	if code != 1 || last.Event != "failed" || last.Respcd != "1202" || !strings.Contains(last.Reason, "refresh the code") {
		t.Fatalf("exit %d, last %+v", code, last)
	}
}

// Bad input is refused before anything is recorded or sent.
func TestCPMBadInputSendsNothing(t *testing.T) {
	t.Parallel()
	base, _ := startSim(t)
	for _, args := range [][]string{
		{"--amount", "8.80", "--auth-code", "12345"},
		{"--amount", "8.80", "--auth-code", "2876543210987654x2"},
		{"--amount", "8.80", "--auth-code", "287654321098765432", "--expires", "10"},
		{"--amount", "8.80", "--auth-code", "287654321098765432", "--wallet", "fps"},
	} {
		p := start(t, kioskEnv(base, t.TempDir()), "qrkiosk", append([]string{"charge", "--json"}, args...)...)
		if code := p.Wait(20 * time.Second); code != 64 {
			t.Errorf("%q: exit %d, want 64\n%s", args, code, p.Stderr.String())
		}
	}
	if gw := gatewayOrders(t, base); len(gw) != 0 {
		t.Fatalf("gateway %+v: nothing may be sent for bad input", gw)
	}
}

// Killed while the customer confirms on the phone; the customer confirms
// meanwhile. The restart finds the payment without charging the code
// again.
func TestCPMCrashDuringConfirmation(t *testing.T) {
	t.Parallel()
	base, _ := startSim(t)
	data := t.TempDir()
	p, created := cpmCharge(t, base, data, "137654321098769999", "--amount", "23.40", "--wallet", "wechat")
	if e := p.event(10 * time.Second); e.Event != "confirming" {
		t.Fatalf("second event %+v, want confirming", e)
	}
	p.Cmd.Process.Kill()
	p.Wait(10 * time.Second)
	customer(t, base, "confirm", created.SysSN)
	d, stderr := history(t, base, data)
	otn, state, offline := onlyOrder(t, d)
	if otn != created.OutTradeNo || state != "paid" || !offline {
		t.Fatalf("history %s %s offline=%v\n%s", otn, state, offline, stderr)
	}
	if gw := gatewayOrders(t, base); len(gw) != 1 {
		t.Fatalf("gateway %+v: the code was charged once", gw)
	}
}

// The same scanned-code flow on ScanForPay (its barcode payment): the
// customer confirms and the charge ends paid.
func TestCPMOnScanForPay(t *testing.T) {
	t.Parallel()
	base, _ := startSFP(t)
	env := sfpEnv(base, t.TempDir())
	p := start(t, env, "qrkiosk", "charge", "--json", "--amount", "12.34", "--auth-code", "28765432109876543")
	created := p.event(30 * time.Second)
	if created.Event != "created" || created.SysSN == "" || created.QRCode != "" {
		t.Fatalf("first event %+v", created)
	}
	customer(t, base, "pay", created.SysSN)
	if last, code := p.lastEvent(30 * time.Second); code != 0 || last.Event != "paid" {
		t.Fatalf("exit %d, last %+v", code, last)
	}
}
