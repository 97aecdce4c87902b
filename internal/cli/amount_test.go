package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"qrkiosk/payment/qfpay"
	"qrkiosk/sim/qfpaysim"
)

// recordingGateway is the QFPay simulator behind a counter of the calls
// each path received.
type recordingGateway struct {
	sim   *qfpaysim.Sim
	mu    sync.Mutex
	calls map[string]int
}

func (g *recordingGateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	g.calls[r.URL.Path]++
	g.mu.Unlock()
	g.sim.ServeHTTP(w, r)
}

func (g *recordingGateway) count(path string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	if path == "" {
		n := 0
		for _, c := range g.calls {
			n += c
		}
		return n
	}
	return g.calls[path]
}

// A comma is read only as a thousands separator: `--amount 1,00` is not
// HK$100.00 nor `12,50` HK$1,250.00. Such an amount is refused with the
// rule (exit 64) and nothing reaches the gateway, for a charge and for a
// refund; correctly grouped thousands still charge what they say.
func TestAmountWithAMisplacedCommaIsRefused(t *testing.T) {
	sim := qfpaysim.New(qfpaysim.Config{AppCode: "APP", Key: "K"})
	gw := &recordingGateway{sim: sim, calls: map[string]int{}}
	srv := httptest.NewServer(gw)
	t.Cleanup(func() { srv.Close(); sim.Close() })
	sim.SetBaseURL(srv.URL)
	env := func(out, errb *bytes.Buffer) Env {
		return Env{Stdout: out, Stderr: errb, Getenv: noConfig(t, "QFPAY_BASE_URL", srv.URL, "QFPAY_APPCODE", "APP", "QFPAY_KEY", "K")}
	}
	data := t.TempDir()
	// Were an amount taken, the charge would wait for a payment that never
	// comes: the deadline only keeps a failing test from hanging.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	for _, amount := range []string{"1,00", "12,50", "1,0,0", "1,2345", ",100", "0,500"} {
		var out, errb bytes.Buffer
		code := Main(ctx, env(&out, &errb), []string{"--data", data, "charge", "--amount", amount, "--json"}, nil)
		want := `--amount "` + amount + `": a comma may only separate thousands (1,234.50); write the decimals after a point`
		if code != ExitUsage || !strings.Contains(errb.String(), want) {
			t.Errorf("charge --amount %s: exit %d, stderr %q; want exit 64 and %q", amount, code, errb.String(), want)
		}
		if n := gw.count(""); n != 0 {
			t.Fatalf("charge --amount %s: the gateway got %d calls (%d orders); want none", amount, n, len(sim.Orders()))
		}
	}

	go func() {
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			if o := sim.Orders(); len(o) == 1 {
				sim.Pay(o[0].SysSN)
				return
			}
		}
	}()
	var out, errb bytes.Buffer
	if code := Main(ctx, env(&out, &errb), []string{"--data", data, "charge", "--amount", "1,234.50", "--json"}, nil); code != ExitPaid {
		t.Fatalf("charge --amount 1,234.50: exit %d\n%s\n%s", code, out.String(), errb.String())
	}
	var created struct {
		OutTradeNo string `json:"out_trade_no"`
		TxAmt      int64  `json:"txamt"`
	}
	first, _, _ := strings.Cut(out.String(), "\n")
	if err := json.Unmarshal([]byte(first), &created); err != nil || created.TxAmt != 123450 || sim.Orders()[0].TxAmt != 123450 {
		t.Fatalf("charge --amount 1,234.50 created %q (%v); want txamt 123450", first, err)
	}

	errb.Reset()
	code := Main(ctx, env(&out, &errb), []string{"--data", data, "refund", "--out-trade-no", created.OutTradeNo, "--amount", "1,00"}, nil)
	if code != ExitUsage || !strings.Contains(errb.String(), `--amount "1,00": a comma may only separate thousands`) {
		t.Fatalf("refund --amount 1,00: exit %d, stderr %q; want exit 64 and the comma rule", code, errb.String())
	}
	if n := gw.count(qfpay.PathRefund); n != 0 || sim.Orders()[0].RefundedAmt != 0 {
		t.Fatalf("refund --amount 1,00: %d refund calls, %d refunded; want none", n, sim.Orders()[0].RefundedAmt)
	}
}
