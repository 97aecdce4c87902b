package e2e

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// setSimClock moves the simulator's clock (forward only), as the month
// turning while a kiosk is off does.
func setSimClock(t *testing.T, base string, to time.Time) {
	t.Helper()
	resp, err := http.PostForm(base+"/sim/clock", url.Values{"set": {to.Format(time.RFC3339)}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if body, _ := io.ReadAll(resp.Body); resp.StatusCode != http.StatusOK {
		t.Fatalf("moving the sim clock: %d %s", resp.StatusCode, body)
	}
}

// QFPay's query only sees the current month unless given a syssn or a
// window. A kiosk killed before it heard its create's answer (so it has no
// syssn), whose customer paid, restarted after the month turned: it still
// finds the sale, paid.
func TestMonthTurnsWhileTheKioskIsOff(t *testing.T) {
	t.Parallel()
	base, _ := startSim(t, "--commit-drop", "1", "--latency", "1s")
	data := t.TempDir()
	p := start(t, kioskEnv(base, data), "qrkiosk", "charge", "--json", "--amount", "88.80", "--wallet", "payme")
	var gw []simOrderFull
	waitUntil(t, "the order at the gateway", func() bool { gw = gatewayOrders(t, base); return len(gw) == 1 })
	p.Cmd.Process.Kill()
	p.Wait(10 * time.Second)
	customer(t, base, "pay", gw[0].SysSN)

	hk := time.FixedZone("UTC+8", 8*3600)
	now := time.Now().In(hk)
	setSimClock(t, base, time.Date(now.Year(), now.Month()+1, 1, 9, 0, 0, 0, hk))
	d, stderr := history(t, base, data)
	otn, state, offline := onlyOrder(t, d)
	if otn != gw[0].OutTradeNo || state != "paid" || !offline {
		t.Fatalf("history after the month turned: %s %s offline=%v; want %s paid while offline\n%s", otn, state, offline, gw[0].OutTradeNo, stderr)
	}
}

// A refund QFPay answers "processing" (1143) is pending, never failed and
// never sent twice: refund --wait settles it when QFPay does; a shorter
// wait says "refund processing" (exit 4) and the next start settles it.
func TestRefundProcessingAtTheGateway(t *testing.T) {
	t.Parallel()
	base, _ := startSim(t, "--refund-processing", "4s")
	data := t.TempDir()
	paid := paidCharge(t, base, data, "--amount", "50", "--wallet", "alipayhk")

	code, line, stderr := refund(t, base, data, "--out-trade-no", paid.OutTradeNo, "--amount", "10", "--wait", "1s")
	if code != 4 || line.Event != "processing" || !strings.Contains(stderr, "refund processing") {
		t.Fatalf("exit %d %+v; want 4 and processing\n%s", code, line, stderr)
	}
	// While it is processing it blocks another refund of the same order.
	if code, _, stderr := refund(t, base, data, "--out-trade-no", paid.OutTradeNo, "--amount", "5"); code != 64 || !strings.Contains(stderr, "still processing") {
		t.Fatalf("a second refund meanwhile: exit %d\n%s", code, stderr)
	}
	d, _ := history(t, base, data)
	if len(d.Refunds) != 1 || d.Totals[0].Refunded != "0.00" {
		t.Fatalf("history %+v: a processing refund counts nowhere as refunded", d)
	}
	time.Sleep(4 * time.Second) // the gateway finishes it
	d, _ = history(t, base, data)
	if len(d.Refunds) != 1 || d.Refunds[0].State != "refunded" || d.Totals[0].Refunded != "10.00" {
		t.Fatalf("history %+v: the next start settles it as refunded", d)
	}
	if gw := gatewayOrders(t, base); len(gw) != 1 || gw[0].RefundedAmt != 1000 {
		t.Fatalf("gateway %+v: exactly one refund of 10.00", gw)
	}

	// With the default wait the command itself sees it through.
	code, line, stderr = refund(t, base, data, "--out-trade-no", paid.OutTradeNo, "--amount", "15")
	if code != 0 || line.Event != "refunded" {
		t.Fatalf("exit %d %+v; want 0 and refunded\n%s", code, line, stderr)
	}
}
