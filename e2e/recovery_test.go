package e2e

import (
	"encoding/json"
	"strings"
	"syscall"
	"testing"
	"time"

	"qrkiosk/internal/proctest"
	"qrkiosk/payment/paymenttest"
)

// kioskEnv is the gateway environment plus this kiosk's own journal.
func kioskEnv(base, data string) []string {
	return append(gatewayEnv(base), "QRKIOSK_DATA="+data)
}

// historyDay is `qrkiosk history --json`.
type historyDay struct {
	Date   string `json:"date"`
	Orders []struct {
		OutTradeNo    string `json:"out_trade_no"`
		SysSN         string `json:"syssn"`
		State         string `json:"state"`
		TxAmt         int64  `json:"txamt"`
		Amount        string `json:"amount"`
		PayType       string `json:"pay_type"`
		Refunded      string `json:"refunded"`
		RefundedMinor int64  `json:"refunded_minor"`
		PaidOffline   bool   `json:"paid_offline"`
		ReplacedBy    string `json:"replaced_by"`
	} `json:"orders"`
	Refunds []struct {
		OutTradeNo     string `json:"out_trade_no"`
		OrigOutTradeNo string `json:"orig_out_trade_no"`
		TxAmt          int64  `json:"txamt"`
		State          string `json:"state"`
	} `json:"refunds"`
	Totals []struct {
		PayType  string `json:"pay_type"`
		Currency string `json:"currency"`
		Count    int    `json:"count"`
		Paid     string `json:"paid"`
		Refunded string `json:"refunded"`
		Net      string `json:"net"`
		NetMinor int64  `json:"net_minor"`
	} `json:"totals"`
}

// history runs `qrkiosk history --json`, which first recovers whatever the
// last run left unfinished, and returns the day with its stderr.
func history(t *testing.T, base, data string) (historyDay, string) {
	t.Helper()
	p := start(t, kioskEnv(base, data), "qrkiosk", "history", "--json")
	out := p.Rest(45 * time.Second)
	if code := p.Wait(10 * time.Second); code != 0 {
		t.Fatalf("history: exit %d; stderr:\n%s", code, p.Stderr.String())
	}
	var d historyDay
	if err := json.Unmarshal([]byte(strings.Join(out, "\n")), &d); err != nil {
		t.Fatalf("history --json: %v\n%s", err, strings.Join(out, "\n"))
	}
	return d, p.Stderr.String()
}

// simOrderFull is /sim/orders with the refunded amount.
type simOrderFull struct {
	SysSN       string `json:"SysSN"`
	OutTradeNo  string `json:"OutTradeNo"`
	PayType     string `json:"PayType"`
	Respcd      string `json:"Respcd"`
	Cancel      int    `json:"Cancel"`
	TxAmt       int64  `json:"TxAmt"`
	RefundedAmt int64  `json:"RefundedAmt"`
}

func gatewayOrders(t *testing.T, base string) []simOrderFull {
	t.Helper()
	return proctest.GetJSON[[]simOrderFull](t, base+"/sim/orders")
}

// agree asserts that every order appears once in the history, every gateway
// order is among them, and each journal state is what the gateway holds.
func agree(t *testing.T, d historyDay, gw []simOrderFull) {
	t.Helper()
	seen := map[string]int{}
	for _, o := range d.Orders {
		seen[o.OutTradeNo]++
	}
	for otn, n := range seen {
		if n != 1 {
			t.Errorf("order %s appears %d times in the history", otn, n)
		}
	}
	byOTN := map[string]simOrderFull{}
	for _, g := range gw {
		byOTN[g.OutTradeNo] = g
		if seen[g.OutTradeNo] == 0 {
			t.Errorf("the gateway holds %s (respcd %s), the history does not", g.OutTradeNo, g.Respcd)
		}
	}
	for _, o := range d.Orders {
		g, ok := byOTN[o.OutTradeNo]
		want := map[string][]string{
			"paid":             {"0000"},
			"awaiting_payment": {"1143"},
			"cancelled":        {"1142", "1181"},
			"expired":          {"1142", "1181"},
		}[o.State]
		switch {
		case !ok && o.State != "failed":
			t.Errorf("history has %s %s, the gateway has no such order", o.OutTradeNo, o.State)
		case ok && o.State == "failed" && (g.Respcd == "0000" || g.Respcd == "1143"):
			t.Errorf("history has %s failed, the gateway says respcd %s", o.OutTradeNo, g.Respcd)
		case ok && o.State != "failed" && !contains(want, g.Respcd):
			t.Errorf("history has %s %s, the gateway says respcd %s cancel %d", o.OutTradeNo, o.State, g.Respcd, g.Cancel)
		case ok && o.TxAmt != g.TxAmt:
			t.Errorf("history has %s for %d, the gateway %d", o.OutTradeNo, o.TxAmt, g.TxAmt)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func onlyOrder(t *testing.T, d historyDay) (otn, state string, offline bool) {
	t.Helper()
	if len(d.Orders) != 1 {
		t.Fatalf("history has %d orders, want 1: %+v", len(d.Orders), d.Orders)
	}
	return d.Orders[0].OutTradeNo, d.Orders[0].State, d.Orders[0].PaidOffline
}

// Killed while the create is held at the gateway: the gateway still makes
// the order and the restart finds it — but QFPay's query gives no QR back,
// so nobody could scan it: it is withdrawn and the sale goes on under a
// new order with a QR, never a second payable one.
func TestRecoveryKillBeforeCreateResponse(t *testing.T) {
	t.Parallel()
	base, _ := startSim(t, "--latency", "1500ms")
	data := t.TempDir()
	p := start(t, kioskEnv(base, data), "qrkiosk", "charge", "--json", "--amount", "30")
	time.Sleep(700 * time.Millisecond) // the order is journaled and its create is in flight
	p.Cmd.Process.Kill()
	p.Wait(10 * time.Second)
	d, stderr := history(t, base, data)
	gw := gatewayOrders(t, base)
	if len(d.Orders) != 2 || d.Orders[0].State != "cancelled" || d.Orders[0].ReplacedBy != d.Orders[1].OutTradeNo ||
		d.Orders[1].State != "awaiting_payment" || len(gw) != 2 || !strings.Contains(stderr, "recovered order") {
		t.Fatalf("history %+v, gateway %+v; want the lost order withdrawn and replaced by one awaiting payment; stderr:\n%s", d.Orders, gw, stderr)
	}
	agree(t, d, gw)
}

// Killed after the gateway committed the order but before the kiosk heard:
// the restart adopts it (no second order), and a payment made while the
// kiosk was down is found.
func TestRecoveryKillAfterCommitBeforeAnswer(t *testing.T) {
	t.Parallel()
	// Every create reply is dropped and every call held: the kiosk is
	// killed while it asks the gateway what became of its create.
	base, _ := startSim(t, "--commit-drop", "1", "--latency", "1s")
	data := t.TempDir()
	p := start(t, kioskEnv(base, data), "qrkiosk", "charge", "--json", "--amount", "45.60", "--wallet", "payme")
	var gw []simOrderFull
	waitUntil(t, "the order at the gateway", func() bool { gw = gatewayOrders(t, base); return len(gw) == 1 })
	p.Cmd.Process.Kill()
	p.Wait(10 * time.Second)
	customer(t, base, "pay", gw[0].SysSN)
	d, _ := history(t, base, data)
	otn, state, offline := onlyOrder(t, d)
	if otn != gw[0].OutTradeNo || state != "paid" || !offline {
		t.Fatalf("history: %s %s offline=%v; want %s paid offline", otn, state, offline, gw[0].OutTradeNo)
	}
	gw = gatewayOrders(t, base)
	if len(gw) != 1 {
		t.Fatalf("the gateway holds %d orders, want the one", len(gw))
	}
	agree(t, d, gw)
}

// Killed right after the create answer; restarted while the QR is still
// valid: first unpaid (resumed, left pending), then paid while down.
func TestRecoveryKillWhileWaiting(t *testing.T) {
	t.Parallel()
	base, _ := startSim(t)
	data := t.TempDir()
	p, created := charge(t, base, []string{"QRKIOSK_DATA=" + data}, "--amount", "12.34", "--wallet", "wechat")
	p.Cmd.Process.Kill()
	p.Wait(10 * time.Second)

	d, stderr := history(t, base, data)
	if _, state, _ := onlyOrder(t, d); state != "awaiting_payment" || !strings.Contains(stderr, "still awaiting payment") {
		t.Fatalf("state %s, want awaiting_payment; stderr:\n%s", state, stderr)
	}
	agree(t, d, gatewayOrders(t, base))

	customer(t, base, "pay", created.SysSN)
	d, stderr = history(t, base, data)
	if _, state, offline := onlyOrder(t, d); state != "paid" || !offline || !strings.Contains(stderr, "PAID while the kiosk was offline") {
		t.Fatalf("state %s offline=%v; stderr:\n%s", state, offline, stderr)
	}
	agree(t, d, gatewayOrders(t, base))
}

// Killed while waiting; the QR expires at the gateway meanwhile; the next
// charge recovers it before creating its own order.
func TestRecoveryByNextCharge(t *testing.T) {
	t.Parallel()
	base, _ := startSim(t)
	data := t.TempDir()
	env := []string{"QRKIOSK_DATA=" + data}
	p, first := charge(t, base, env, "--amount", "8.80", "--wallet", "payme")
	p.Cmd.Process.Kill()
	p.Wait(10 * time.Second)
	customer(t, base, "expire", first.SysSN)

	p, second := charge(t, base, env, "--amount", "9.90")
	if !strings.Contains(p.Stderr.String(), "recovered order "+first.OutTradeNo) {
		t.Fatalf("the next charge did not report the recovered order; stderr:\n%s", p.Stderr.String())
	}
	customer(t, base, "pay", second.SysSN)
	if last, code := p.lastEvent(30 * time.Second); code != 0 || last.Event != "paid" {
		t.Fatalf("second charge: exit %d, %+v", code, last)
	}
	d, _ := history(t, base, data)
	states := map[string]string{}
	for _, o := range d.Orders {
		states[o.OutTradeNo] = o.State
	}
	if len(d.Orders) != 2 || states[first.OutTradeNo] != "expired" || states[second.OutTradeNo] != "paid" {
		t.Fatalf("history %+v", d.Orders)
	}
	agree(t, d, gatewayOrders(t, base))
}

// SIGINT starts the withdrawal; kill -9 lands while the gateway holds the
// calls. The restart honours the cashier's cancel — or, if the customer
// paid meanwhile, finds the payment.
func TestRecoveryKillDuringCancel(t *testing.T) {
	for _, pay := range []bool{false, true} {
		name := "unpaid"
		if pay {
			name = "paid meanwhile"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			base, _ := startSim(t, "--latency", "600ms")
			data := t.TempDir()
			p, created := charge(t, base, []string{"QRKIOSK_DATA=" + data}, "--amount", "77.70", "--wallet", "wechat")
			if err := p.Cmd.Process.Signal(syscall.SIGINT); err != nil {
				t.Fatal(err)
			}
			// The last query before the reversal takes 600 ms; the reversal
			// is then held another 600 ms: kill during it.
			waitLine(t, p, "cancelling")
			time.Sleep(900 * time.Millisecond)
			p.Cmd.Process.Kill()
			p.Wait(10 * time.Second)
			wantState := "cancelled"
			if pay {
				if gw := gatewayOrders(t, base); gw[0].Respcd == "1143" {
					customer(t, base, "pay", created.SysSN)
					wantState = "paid"
				}
			}
			d, stderr := history(t, base, data)
			if _, state, _ := onlyOrder(t, d); state != wantState {
				t.Fatalf("state %s, want %s; stderr:\n%s", state, wantState, stderr)
			}
			gw := gatewayOrders(t, base)
			if wantState == "cancelled" && gw[0].Cancel != 2 {
				t.Fatalf("the gateway holds %+v, want it withdrawn (cancel=2)", gw)
			}
			agree(t, d, gw)
		})
	}
}

// Two kiosks on one journal: the second is refused and nothing is harmed.
func TestSecondProcessRefused(t *testing.T) {
	t.Parallel()
	base, _ := startSim(t)
	data := t.TempDir()
	p, created := charge(t, base, []string{"QRKIOSK_DATA=" + data}, "--amount", "5")
	h := start(t, kioskEnv(base, data), "qrkiosk", "history")
	if code := h.Wait(10 * time.Second); code != 1 || !strings.Contains(h.Stderr.String(), "in use by another qrkiosk process (pid") {
		t.Fatalf("second process: exit %d, stderr %q", code, h.Stderr.String())
	}
	customer(t, base, "pay", created.SysSN)
	if last, code := p.lastEvent(30 * time.Second); code != 0 || last.Event != "paid" {
		t.Fatalf("the first kiosk was disturbed: exit %d %+v", code, last)
	}
	d, _ := history(t, base, data)
	if _, state, _ := onlyOrder(t, d); state != "paid" {
		t.Fatalf("state %s", state)
	}
}

func waitLine(t *testing.T, p *proc, kind string) {
	t.Helper()
	for {
		if e := p.event(15 * time.Second); e.Event == kind {
			return
		}
	}
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	paymenttest.Eventually(t, what, 15*time.Second, cond)
}
