package packaging

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"qrkiosk/internal/proctest"
)

const (
	simAppCode = "PKGAPPCODE0000000000000000000001"
	simKey     = "PKGKEY00000000000000000000000001"
)

// startSim runs the packaged qfpay-sim on loopback and returns its base URL.
func startSim(t *testing.T, root string) string {
	t.Helper()
	p := proctest.Start(t, exec.Command(filepath.Join(root, "usr/bin/qfpay-sim"), "--listen", "127.0.0.1:0", "--app-code", simAppCode, "--key", simKey))
	return p.Listening(20 * time.Second)
}

type simOrder struct {
	SysSN      string `json:"SysSN"`
	OutTradeNo string `json:"OutTradeNo"`
	Respcd     string `json:"Respcd"`
	TxAmt      int64  `json:"TxAmt"`
}

func simOrders(t *testing.T, base string) []simOrder {
	t.Helper()
	return proctest.GetJSON[[]simOrder](t, base+"/sim/orders")
}

// typeOnKiosk types keys into the kiosk's window as a keyboard would.
func typeOnKiosk(t *testing.T, x xvfb, text string, keys ...string) {
	t.Helper()
	xdotool, err := exec.LookPath("xdotool")
	if err != nil {
		t.Skip("xdotool is not installed (make deps installs it)")
	}
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(xdotool, args...)
		cmd.Env = append(os.Environ(), "DISPLAY="+x.display)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("xdotool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}
	win := strings.Fields(run("search", "--sync", "--onlyvisible", "--name", "^qrkiosk"))
	if len(win) == 0 {
		t.Fatal("no kiosk window")
	}
	run("windowfocus", "--sync", win[0])
	run("type", "--delay", "80", text)
	for _, k := range keys {
		run("key", k)
	}
}

// TestUnitRestartResumesSale: the kiosk started by the unit's command line
// against a gateway (the packaged simulator, on loopback) is killed while
// its QR is on the screen, as a crash or the watchdog would; started again
// by the same command line, as Restart=always does, it shows the same QR
// from its journal without a second order, and the sale ends paid.
func TestUnitRestartResumesSale(t *testing.T) {
	needPackages(t)
	if archs[arch].qemu != "" {
		t.Skip("tested on the build machine's own architecture (make test); the arm64 run checks the demo QR")
	}
	root := extract(t, "qrkiosk", "qrkiosk-relay")
	base := startSim(t, root)
	installConfig(t, root, "pin = \"2468\"\n", fmt.Sprintf("\n[qfpay]\nbase_url = %q\nappcode = %q\nkey = %q\n", base, simAppCode, simKey))
	u := readUnit(t, filepath.Join(root, "lib/systemd/system/qrkiosk.service"))
	argv, env := kioskCommand(t, u, root)
	x := startXvfb(t)

	k := startKiosk(t, x, argv, env)
	k.expectNotify(t, "READY=1", 30*time.Second)
	typeOnKiosk(t, x, "5.00", "Return")
	url := x.waitQR(t, k, 30*time.Second)
	orders := simOrders(t, base)
	if len(orders) != 1 || orders[0].TxAmt != 500 || url != base+"/sim/pay/"+orders[0].SysSN {
		t.Fatalf("QR %q; gateway orders %+v; want one order of 500 whose pay page is the QR", url, orders)
	}

	k.kill(t)
	k = startKiosk(t, x, argv, env)
	k.expectNotify(t, "READY=1", 30*time.Second)
	if again := x.waitQR(t, k, 30*time.Second); again != url {
		t.Fatalf("after the restart the QR says %q, want the live order's %q", again, url)
	}
	if orders := simOrders(t, base); len(orders) != 1 {
		t.Fatalf("the restart made another order: %+v", orders)
	}
	if !strings.Contains(k.log.String(), "order left unfinished resumed") {
		t.Errorf("the kiosk did not say it resumed the order:\n%s", k.log.String())
	}

	// The customer pays the resumed order: the kiosk shows it paid.
	req, _ := http.NewRequest(http.MethodPost, url, nil)
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("paying: %s", resp.Status)
	}
	x.waitNoQR(t, k, 30*time.Second)
	k.stop(t, 20*time.Second)

	// The journal holds the one sale, paid.
	hist := exec.Command(argv[0], "history", "--json")
	hist.Env = append(os.Environ(), env...)
	out, err := hist.Output()
	if err != nil {
		t.Fatalf("qrkiosk history: %v\n%s", err, out)
	}
	var day struct {
		Orders []struct {
			OutTradeNo string `json:"out_trade_no"`
			State      string `json:"state"`
			TxAmt      int64  `json:"txamt"`
		} `json:"orders"`
	}
	if err := json.Unmarshal(out, &day); err != nil {
		t.Fatalf("history --json: %v\n%s", err, out)
	}
	if len(day.Orders) != 1 || day.Orders[0].State != "paid" || day.Orders[0].TxAmt != 500 || day.Orders[0].OutTradeNo != orders[0].OutTradeNo {
		t.Fatalf("journal: %+v; want %s paid for 500", day.Orders, orders[0].OutTradeNo)
	}
}
