package e2e

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

type refundLine struct {
	Event      string `json:"event"`
	OutTradeNo string `json:"out_trade_no"`
	SysSN      string `json:"syssn"`
	Amount     string `json:"amount"`
	TxAmt      int64  `json:"txamt"`
}

// refund runs `qrkiosk refund` and returns its exit code, JSON line and stderr.
func refund(t *testing.T, base, data string, args ...string) (int, refundLine, string) {
	t.Helper()
	p := start(t, kioskEnv(base, data), "qrkiosk", append([]string{"refund", "--json"}, args...)...)
	var line refundLine
	select {
	case l, ok := <-p.Lines:
		if ok {
			if err := json.Unmarshal([]byte(l), &line); err != nil {
				t.Fatalf("refund printed %q", l)
			}
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("refund printed nothing; stderr:\n%s", p.Stderr.String())
	}
	return p.Wait(30 * time.Second), line, p.Stderr.String()
}

// paidCharge charges and pays one order with its own journal directory.
func paidCharge(t *testing.T, base, data string, args ...string) event {
	t.Helper()
	p, created := charge(t, base, []string{"QRKIOSK_DATA=" + data}, args...)
	customer(t, base, "pay", created.SysSN)
	if last, code := p.lastEvent(30 * time.Second); code != 0 || last.Event != "paid" {
		t.Fatalf("charge: exit %d %+v", code, last)
	}
	return created
}

func TestRefunds(t *testing.T) {
	t.Parallel()
	base, _ := startSim(t)
	data := t.TempDir()
	sale := paidCharge(t, base, data, "--amount", "50.00", "--wallet", "alipayhk")
	fpsSale := paidCharge(t, base, data, "--amount", "30.00", "--wallet", "fps")

	// Partial.
	code, line, stderr := refund(t, base, data, "--out-trade-no", sale.OutTradeNo, "--amount", "12.50")
	if code != 0 || line.Event != "refunded" || line.TxAmt != 1250 || !strings.HasPrefix(line.OutTradeNo, "RF") || line.SysSN == "" {
		t.Fatalf("partial refund: exit %d %+v; stderr:\n%s", code, line, stderr)
	}
	// Over-refund: refused here, nothing sent.
	code, _, stderr = refund(t, base, data, "--out-trade-no", sale.OutTradeNo, "--amount", "37.51")
	if code != 64 || !strings.Contains(stderr, "37.50 left to refund") {
		t.Fatalf("over-refund: exit %d; stderr:\n%s", code, stderr)
	}
	// The rest, by default.
	code, line, stderr = refund(t, base, data, "--out-trade-no", sale.OutTradeNo)
	if code != 0 || line.TxAmt != 3750 {
		t.Fatalf("the rest: exit %d %+v; stderr:\n%s", code, line, stderr)
	}
	// Twice.
	code, _, stderr = refund(t, base, data, "--out-trade-no", sale.OutTradeNo)
	if code != 64 || !strings.Contains(stderr, "already fully refunded") {
		t.Fatalf("refund twice: exit %d; stderr:\n%s", code, stderr)
	}
	// FPS.
	code, _, stderr = refund(t, base, data, "--out-trade-no", fpsSale.OutTradeNo)
	if code != 64 || !strings.Contains(stderr, "FPS, which cannot be refunded") {
		t.Fatalf("FPS refund: exit %d; stderr:\n%s", code, stderr)
	}
	// Bad input.
	for _, args := range [][]string{{"--out-trade-no", "QK-NOT-HERE"}, {"--out-trade-no", sale.OutTradeNo, "--amount", "1.234"}, {}} {
		if code, _, stderr := refund(t, base, data, args...); code != 64 {
			t.Errorf("refund %v: exit %d; stderr:\n%s", args, code, stderr)
		}
	}

	refunded := map[string]int64{}
	for _, o := range gatewayOrders(t, base) {
		refunded[o.OutTradeNo] = o.RefundedAmt
	}
	if refunded[sale.OutTradeNo] != 5000 || refunded[fpsSale.OutTradeNo] != 0 {
		t.Fatalf("the gateway refunded %v", refunded)
	}
	d, _ := history(t, base, data)
	if len(d.Refunds) != 2 {
		t.Fatalf("history refunds %+v", d.Refunds)
	}
	nets := map[string]string{}
	for _, tot := range d.Totals {
		nets[tot.PayType] = tot.Paid + " - " + tot.Refunded + " = " + tot.Net
	}
	if nets["801501"] != "50.00 - 50.00 = 0.00" || nets["802001"] != "30.00 - 0.00 = 30.00" {
		t.Fatalf("totals %v", nets)
	}
}
