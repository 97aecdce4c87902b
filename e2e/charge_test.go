package e2e

import (
	"strings"
	"syscall"
	"testing"
	"time"
)

func charge(t *testing.T, base string, extraEnv []string, args ...string) (*proc, event) {
	t.Helper()
	p := start(t, append(gatewayEnv(base), extraEnv...), "qrkiosk", append([]string{"charge", "--json"}, args...)...)
	created := p.event(30 * time.Second)
	if created.Event != "created" || created.SysSN == "" || created.OutTradeNo == "" {
		t.Fatalf("first event %+v, want created with syssn and out_trade_no", created)
	}
	if !strings.HasSuffix(created.QRCode, "/sim/pay/"+created.SysSN) {
		t.Fatalf("qrcode %q does not lead to the customer page of %s", created.QRCode, created.SysSN)
	}
	if _, err := time.Parse(time.RFC3339, created.ExpiresAt); err != nil {
		t.Fatalf("expires_at %q: %v", created.ExpiresAt, err)
	}
	return p, created
}

func TestChargePaid(t *testing.T) {
	base, _ := startSim(t)
	p, created := charge(t, base, nil, "--amount", "12.34", "--wallet", "wechat")
	if created.TxAmt != 1234 || created.Amount != "12.34" || created.Currency != "HKD" || created.PayType != "800201" {
		t.Fatalf("created %+v", created)
	}
	customer(t, base, "pay", created.SysSN)
	last, code := p.lastEvent(30 * time.Second)
	if code != 0 || last.Event != "paid" {
		t.Fatalf("exit %d, last event %+v; want 0 and paid", code, last)
	}
	orders := simOrders(t, base)
	if len(orders) != 1 || orders[0].Respcd != "0000" {
		t.Fatalf("gateway holds %+v, want one paid order", orders)
	}
}

func TestChargeDeclined(t *testing.T) {
	base, _ := startSim(t)
	p, created := charge(t, base, nil, "--amount", "8")
	customer(t, base, "decline", created.SysSN)
	last, code := p.lastEvent(30 * time.Second)
	if code != 1 || last.Event != "failed" || last.Respcd == "" || last.Reason == "" {
		t.Fatalf("exit %d, last event %+v; want 1 and failed with respcd and reason", code, last)
	}
}

func TestChargeExpiredAtGateway(t *testing.T) {
	base, _ := startSim(t)
	p, created := charge(t, base, nil, "--amount", "8", "--wallet", "payme")
	customer(t, base, "expire", created.SysSN)
	last, code := p.lastEvent(30 * time.Second)
	if code != 2 || last.Event != "expired" {
		t.Fatalf("exit %d, last event %+v; want 2 and expired", code, last)
	}
}

func TestChargeCancelledBySignal(t *testing.T) {
	base, _ := startSim(t)
	p, created := charge(t, base, nil, "--amount", "99.90")
	if err := p.Cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	last, code := p.lastEvent(30 * time.Second)
	if code != 3 || last.Event != "cancelled" {
		t.Fatalf("exit %d, last event %+v; want 3 and cancelled", code, last)
	}
	orders := simOrders(t, base)
	if len(orders) != 1 || orders[0].SysSN != created.SysSN || orders[0].Cancel != 2 {
		t.Fatalf("gateway holds %+v, want the order withdrawn (cancel=2)", orders)
	}
}

// The create's answer is lost; the order is found by query, but QFPay's
// query carries no QR, so nobody could scan it: it is withdrawn and a new
// order continues the sale at once. The customer pays the new QR; the
// journal links the two and reconcile sees no difference.
func TestChargeCommitThenDropResponseReissues(t *testing.T) {
	base, _ := startSim(t, "--commit-drop-first", "1")
	data := t.TempDir()
	p, created := charge(t, base, []string{"QRKIOSK_DATA=" + data}, "--amount", "250")
	if created.Replaces == "" || created.Replaces == created.OutTradeNo {
		t.Fatalf("created %+v: want a new order that replaces the lost one", created)
	}
	customer(t, base, "pay", created.SysSN)
	last, code := p.lastEvent(30 * time.Second)
	if code != 0 || last.Event != "paid" || last.OutTradeNo != created.OutTradeNo {
		t.Fatalf("exit %d, last event %+v; want 0 and paid", code, last)
	}
	orders := simOrders(t, base)
	if len(orders) != 2 || orders[0].OutTradeNo != created.Replaces || orders[0].Cancel != 2 || orders[1].Respcd != "0000" {
		t.Fatalf("gateway holds %+v: want the lost order withdrawn (cancel 2) and the new one paid", orders)
	}
	env := []string{"QRKIOSK_DATA=" + data, "QFPAY_BASE_URL=" + base, "QFPAY_APPCODE=" + appCode, "QFPAY_KEY=" + key}
	rec := start(t, env, "qrkiosk", "reconcile")
	if code := rec.Wait(20 * time.Second); code != 0 {
		t.Fatalf("reconcile exit %d: %s", code, rec.Stderr.String())
	}
}

func TestChargeBadInputCallsNothing(t *testing.T) {
	base, _ := startSim(t)
	for _, args := range [][]string{
		{"--amount", "1.234"}, {"--amount", "-5"}, {"--amount", "5", "--wallet", "visa"},
		{"--amount", "5", "--expires", "3"}, {"--amount", "1.5", "--currency", "JPY"}, {},
	} {
		p := start(t, gatewayEnv(base), "qrkiosk", append([]string{"charge", "--json"}, args...)...)
		if code := p.Wait(10 * time.Second); code != 64 {
			t.Errorf("charge %v: exit %d, want 64", args, code)
		}
		if msg := p.Stderr.String(); !strings.Contains(msg, "--") {
			t.Errorf("charge %v: message %q does not name the flag", args, msg)
		}
	}
	if orders := simOrders(t, base); len(orders) != 0 {
		t.Fatalf("bad input reached the gateway: %+v", orders)
	}
}
