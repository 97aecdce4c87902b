package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"qrkiosk/internal/proctest"
)

const (
	sfpPartner = "E2EPARTNER00001"
	sfpStore   = "E2ESTORE0000001"
	sfpKey     = "E2ESFPKEY0000000000000000000001"
)

// startSFP runs scanforpay-sim and returns its base URL.
func startSFP(t *testing.T, args ...string) (string, *proc) {
	t.Helper()
	p := start(t, nil, "scanforpay-sim", append([]string{"--listen", "127.0.0.1:0", "--partner-no", sfpPartner, "--store-no", sfpStore, "--key", sfpKey}, args...)...)
	return p.Listening(10 * time.Second), p
}

// sfpEnv points qrkiosk at a ScanForPay gateway with its own journal.
func sfpEnv(base, data string) []string {
	return []string{"QRKIOSK_GATEWAY=scanforpay", "SCANFORPAY_BASE_URL=" + base, "SCANFORPAY_PARTNER_NO=" + sfpPartner,
		"SCANFORPAY_STORE_NO=" + sfpStore, "SCANFORPAY_KEY=" + sfpKey, "SCANFORPAY_TERMINAL_NO=e2e-kiosk", "SCANFORPAY_NOTIFY_URL=",
		"QFPAY_APPCODE=", "QFPAY_KEY=", "QRKIOSK_RELAY_URL=", "QRKIOSK_RELAY_TOKEN=", "QRKIOSK_DATA=" + data}
}

type sfpOrder struct {
	OrderNo        string
	PartnerOrderNo string
	Wallet         string
	OrderAmount    int64
	Status         int
	TerminalNo     string
	Refunded       int64
	Notified       int
}

func sfpOrders(t *testing.T, base string) []sfpOrder {
	t.Helper()
	return proctest.GetJSON[[]sfpOrder](t, base+"/sim/orders")
}

func sfpCharge(t *testing.T, env []string, args ...string) (*proc, event) {
	t.Helper()
	p := start(t, env, "qrkiosk", append([]string{"charge", "--json"}, args...)...)
	created := p.event(30 * time.Second)
	if created.Event != "created" || created.SysSN == "" || !strings.HasSuffix(created.QRCode, "/sim/pay/"+created.SysSN) {
		t.Fatalf("first event %+v, want created with the QR of the customer page", created)
	}
	return p, created
}

// The first test: with QRKIOSK_GATEWAY=scanforpay and the
// SCANFORPAY_* settings pointing at the simulator, a charge shows the QR
// and ends paid.
func TestScanForPayChargePaid(t *testing.T) {
	t.Parallel()
	base, _ := startSFP(t)
	p, created := sfpCharge(t, sfpEnv(base, t.TempDir()), "--amount", "12.34", "--wallet", "alipay")
	if created.TxAmt != 1234 || created.Amount != "12.34" || created.Currency != "HKD" || created.PayType != "800101" {
		t.Fatalf("created %+v", created)
	}
	customer(t, base, "pay", created.SysSN)
	last, code := p.lastEvent(30 * time.Second)
	if code != 0 || last.Event != "paid" {
		t.Fatalf("exit %d, last event %+v; want 0 and paid", code, last)
	}
	orders := sfpOrders(t, base)
	if len(orders) != 1 || orders[0].Status != 1 || orders[0].Wallet != "Alipay" || orders[0].OrderAmount != 1234 || orders[0].PartnerOrderNo != created.OutTradeNo || orders[0].TerminalNo != "e2e-kiosk" {
		t.Fatalf("gateway holds %+v, want one paid Alipay order of 1234", orders)
	}
}

// A wallet ScanForPay does not take is refused before anything is sent.
func TestScanForPayWalletRefused(t *testing.T) {
	t.Parallel()
	base, _ := startSFP(t)
	p := start(t, sfpEnv(base, t.TempDir()), "qrkiosk", "charge", "--json", "--amount", "5", "--wallet", "payme")
	if code := p.Wait(20 * time.Second); code != 64 || !strings.Contains(p.Stderr.String(), "--wallet payme") {
		t.Fatalf("exit %d: %s", code, p.Stderr.String())
	}
	if n := len(sfpOrders(t, base)); n != 0 {
		t.Fatalf("%d orders reached the gateway", n)
	}
}

// The second test: against a gateway whose answers are signed
// with another key the kiosk never reports paid, even once the customer
// has paid there; the cashier's cancel ends it.
func TestScanForPayForgedAnswersNeverPaid(t *testing.T) {
	t.Parallel()
	base, _ := startSFP(t, "--answer-key", "SOMEONE-ELSES-KEY")
	p := start(t, sfpEnv(base, t.TempDir()), "qrkiosk", "charge", "--json", "--amount", "12.34", "--wallet", "alipay")
	refused := func() int { return strings.Count(p.Stderr.String(), "signature does not verify") }
	var orders []sfpOrder
	for deadline := time.Now().Add(20 * time.Second); len(orders) == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the order never reached the gateway; stderr:\n%s", p.Stderr.String())
		}
		orders = sfpOrders(t, base)
	}
	customer(t, base, "pay", orders[0].OrderNo)
	// Wait until the kiosk has asked about the paid order and refused the
	// answers that say so.
	after := refused()
	for deadline := time.Now().Add(30 * time.Second); refused() < after+2; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the kiosk did not ask again after the payment; stderr:\n%s", p.Stderr.String())
		}
	}
	if err := p.Cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	var lines []string
	for l := range p.Lines {
		lines = append(lines, l)
	}
	code := p.Wait(30 * time.Second)
	out := strings.Join(lines, "\n")
	if strings.Contains(out, `"paid`) || code == 0 {
		t.Fatalf("exit %d, events:\n%s\nthe kiosk believed a forged answer", code, out)
	}
	if code != 3 || !strings.Contains(out, `"event":"cancelled"`) {
		t.Fatalf("exit %d, events:\n%s\nwant 3 and cancelled", code, out)
	}
	if n := len(sfpOrders(t, base)); n != 1 {
		t.Fatalf("%d orders at the gateway; an unknown outcome is settled by query, never a second order", n)
	}
}

// Pushed through the relay: ScanForPay notifies the notifyUrl each order
// names (the relay's /notify/scanforpay), the relay checks the signature
// and pushes, and the kiosk verifies again and ends Paid long before its
// 15 s safety poll.
func TestScanForPayPaidThroughRelay(t *testing.T) {
	t.Parallel()
	rp := start(t, []string{"QRKIOSK_RELAY_TOKEN=", "QFPAY_KEY=", "SCANFORPAY_KEY="}, "qrkiosk-relay",
		"--listen", "127.0.0.1:0", "--scanforpay-key", sfpKey, "--token", "e2e-token", "--data", t.TempDir())
	relayAddr, ok := strings.CutPrefix(rp.Line(10*time.Second), "listening on http://")
	if !ok {
		t.Fatal("relay did not start")
	}
	base, _ := startSFP(t)
	env := append(sfpEnv(base, t.TempDir()), relayEnv(relayAddr)...)
	env = append(env, "SCANFORPAY_NOTIFY_URL=http://"+relayAddr+"/notify/scanforpay")
	p, created := sfpCharge(t, env, "--amount", "42.00", "--wallet", "wechat")
	if !created.Push {
		p.untilEvent("push_up", 15*time.Second)
	}
	payAt := time.Now()
	customer(t, base, "pay", created.SysSN)
	last, code := p.lastEvent(30 * time.Second)
	if took := time.Since(payAt); code != 0 || last.Event != "paid" || took > 5*time.Second {
		t.Fatalf("exit %d, last %+v after %v; want paid by push, not by the 15 s poll", code, last, took)
	}
	if o := sfpOrders(t, base); o[0].Notified != 1 {
		t.Fatalf("notified %d; the relay answers success once stored", o[0].Notified)
	}
}

// sfpRun runs a qrkiosk subcommand and returns its exit code, stdout and
// stderr.
func sfpRun(t *testing.T, env []string, args ...string) (int, string, string) {
	t.Helper()
	p := start(t, env, "qrkiosk", args...)
	out := p.Rest(60 * time.Second)
	return p.Wait(60 * time.Second), strings.Join(out, "\n"), p.Stderr.String()
}

// Refunds, history and reconcile on ScanForPay: a partial refund cannot be
// confirmed afterwards (no refund query) and reconcile says so without
// failing; once the rest is refunded the payment shows refunded in full
// and everything agrees. A refund the gateway answers "dealing" is left
// pending, never sent again, and settled by the next start once done.
func TestScanForPayRefundsAndReconcile(t *testing.T) {
	t.Parallel()
	base, _ := startSFP(t, "--refund-dealing", "0")
	data := t.TempDir()
	env := sfpEnv(base, data)
	p, sale := sfpCharge(t, env, "--amount", "50.00", "--wallet", "wechat")
	customer(t, base, "pay", sale.SysSN)
	if _, code := p.lastEvent(30 * time.Second); code != 0 {
		t.Fatal("charge failed")
	}
	code, out, stderr := sfpRun(t, env, "refund", "--json", "--out-trade-no", sale.OutTradeNo, "--amount", "12.50")
	if code != 0 || !strings.Contains(out, `"event":"refunded"`) || !strings.Contains(out, `"txamt":1250`) {
		t.Fatalf("partial refund: exit %d\n%s\n%s", code, out, stderr)
	}
	code, out, stderr = sfpRun(t, env, "reconcile")
	if code != 0 || !strings.Contains(stderr, "checked by query instead") || !strings.Contains(out, "unconfirmed refund RF") || !strings.Contains(stderr, "cannot confirm") {
		t.Fatalf("reconcile after a partial refund: exit %d\n%s\n%s", code, out, stderr)
	}
	code, out, stderr = sfpRun(t, env, "refund", "--json", "--out-trade-no", sale.OutTradeNo)
	if code != 0 || !strings.Contains(out, `"txamt":3750`) {
		t.Fatalf("the rest: exit %d\n%s\n%s", code, out, stderr)
	}
	code, out, stderr = sfpRun(t, env, "reconcile")
	if code != 0 || out != "" || !strings.Contains(stderr, "agree (journal records checked one by one)") {
		t.Fatalf("reconcile once refunded in full: exit %d\n%s\n%s", code, out, stderr)
	}
	code, out, _ = sfpRun(t, env, "history", "--json")
	var day historyDay
	if err := json.Unmarshal([]byte(out), &day); code != 0 || err != nil || len(day.Totals) != 1 || day.Totals[0].PayType != "800201" ||
		day.Totals[0].Paid != "50.00" || day.Totals[0].Refunded != "50.00" || day.Totals[0].NetMinor != 0 {
		t.Fatalf("history: exit %d, %v\n%s", code, err, out)
	}

	// Dealing.
	dealing, _ := startSFP(t, "--refund-dealing", "1", "--refund-delay", "1s")
	denv := sfpEnv(dealing, t.TempDir())
	p, sale = sfpCharge(t, denv, "--amount", "8.80", "--wallet", "alipay")
	customer(t, dealing, "pay", sale.SysSN)
	p.lastEvent(30 * time.Second)
	code, out, stderr = sfpRun(t, denv, "refund", "--json", "--out-trade-no", sale.OutTradeNo, "--wait", "0s")
	if code != 4 || !strings.Contains(out, `"event":"processing"`) || !strings.Contains(stderr, "refund processing") {
		t.Fatalf("dealing refund: exit %d\n%s\n%s", code, out, stderr)
	}
	for deadline := time.Now().Add(20 * time.Second); sfpOrders(t, dealing)[0].Status != 3; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the simulator never finished the dealing refund")
		}
	}
	code, out, stderr = sfpRun(t, denv, "history", "--json")
	day = historyDay{}
	if err := json.Unmarshal([]byte(out), &day); code != 0 || err != nil || len(day.Refunds) != 1 || day.Refunds[0].State != "refunded" {
		t.Fatalf("history after the refund was done: exit %d, %v\n%s\n%s", code, err, out, stderr)
	}
	resp, err := http.Get(dealing + "/sim/refunds")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var refunds []struct{ RefundNo string }
	if err := json.NewDecoder(resp.Body).Decode(&refunds); err != nil || len(refunds) != 1 {
		t.Fatalf("refunds at the gateway %+v, %v; a dealing refund is never sent again", refunds, err)
	}
}
