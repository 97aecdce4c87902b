// Package e2e runs the real binaries against each other: qfpay-sim,
// scanforpay-sim, qrkiosk-relay and qrkiosk, as separate processes on
// loopback.
package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"qrkiosk/internal/proctest"
	"qrkiosk/relay/pgtest"
)

var bin string // folder with the freshly built binaries

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "qrkiosk-e2e-")
	if err != nil {
		panic(err)
	}
	bin = dir
	// Kiosks started without their own QRKIOSK_DATA share one journal here,
	// never the user's real one; it goes with the folder at the end.
	os.Setenv("QRKIOSK_DATA", filepath.Join(dir, "data"))
	for _, pkg := range []struct{ out, path string }{
		{"qrkiosk", ".."}, {"qfpay-sim", "../cmd/qfpay-sim"}, {"scanforpay-sim", "../cmd/scanforpay-sim"}, {"qrkiosk-relay", "../cmd/qrkiosk-relay"},
	} {
		cmd := exec.Command("go", "build", "-o", filepath.Join(dir, pkg.out), pkg.path)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintf(os.Stderr, "building %s: %v\n", pkg.path, err)
			os.Exit(1)
		}
	}
	code := m.Run()
	pgtest.StopShared()
	os.RemoveAll(dir)
	os.Exit(code)
}

const (
	appCode = "E2EAPPCODE0000000000000000000001"
	key     = "E2EKEY00000000000000000000000001"
)

// proc is a started binary whose stdout lines can be read as they come
// (for qrkiosk charge --json, as events).
type proc struct {
	*proctest.Proc
	t *testing.T
}

func start(t *testing.T, env []string, name string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(filepath.Join(bin, name), args...)
	cmd.Env = append(os.Environ(), env...)
	return &proc{Proc: proctest.Start(t, cmd), t: t}
}

// startSim runs qfpay-sim and returns its base URL.
func startSim(t *testing.T, args ...string) (string, *proc) {
	t.Helper()
	p := start(t, nil, "qfpay-sim", append([]string{"--listen", "127.0.0.1:0", "--app-code", appCode, "--key", key}, args...)...)
	return p.Listening(10 * time.Second), p
}

type event struct {
	Event      string `json:"event"`
	OutTradeNo string `json:"out_trade_no"`
	SysSN      string `json:"syssn"`
	QRCode     string `json:"qrcode"`
	Amount     string `json:"amount"`
	TxAmt      int64  `json:"txamt"`
	Currency   string `json:"currency"`
	PayType    string `json:"pay_type"`
	ExpiresAt  string `json:"expires_at"`
	Respcd     string `json:"respcd"`
	Reason     string `json:"reason"`
	Push       bool   `json:"push"`
	Replaces   string `json:"replaces"`
}

func (p *proc) event(timeout time.Duration) event {
	p.t.Helper()
	l := p.Line(timeout)
	var e event
	if err := json.Unmarshal([]byte(l), &e); err != nil {
		p.t.Fatalf("not a JSON event line: %q", l)
	}
	return e
}

// lastEvent reads events until the process ends and returns the last one.
func (p *proc) lastEvent(timeout time.Duration) (event, int) {
	p.t.Helper()
	var last event
	deadline := time.After(timeout)
	for {
		select {
		case l, ok := <-p.Lines:
			if !ok {
				return last, p.Wait(timeout)
			}
			if err := json.Unmarshal([]byte(l), &last); err != nil {
				p.t.Fatalf("not a JSON event line: %q", l)
			}
		case <-deadline:
			p.t.Fatalf("charge did not finish within %v; stderr:\n%s", timeout, p.Stderr.String())
		}
	}
}

func gatewayEnv(base string) []string {
	return []string{"QFPAY_BASE_URL=" + base, "QFPAY_APPCODE=" + appCode, "QFPAY_KEY=" + key, "QRKIOSK_UDID=e2e-kiosk", "QRKIOSK_RELAY_URL=", "QRKIOSK_RELAY_TOKEN="}
}

// customer acts on a simulator's customer page (either gateway's: pay,
// decline...), as a phone would; id is the gateway's order number.
func customer(t *testing.T, base, action, id string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, base+"/sim/"+action+"/"+id, nil)
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("POST /sim/%s/%s: %d %s", action, id, resp.StatusCode, b)
	}
}

type simOrder struct {
	SysSN      string `json:"SysSN"`
	OutTradeNo string `json:"OutTradeNo"`
	Respcd     string `json:"Respcd"`
	Cancel     int    `json:"Cancel"`
	TxAmt      int64  `json:"TxAmt"`
}

func simOrders(t *testing.T, base string) []simOrder {
	t.Helper()
	return proctest.GetJSON[[]simOrder](t, base+"/sim/orders")
}
