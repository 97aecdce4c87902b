package ui

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"qrkiosk/internal/journal"
	"qrkiosk/internal/proctest"
	"qrkiosk/payment"
)

// TestSmokeDemoUnderXvfb runs the real binary (a debug build, so Fyne's
// thread checks are on) in demo mode in a virtual X server, on each
// gateway's simulator (--demo-gateway), rings up a sale, lets it show the
// QR and countdown for a few seconds, then sends SIGTERM. It fails on a
// crash, a Fyne thread warning, or a sale that never reached the
// (simulated) gateway. (TestDemoSaleOnScanForPay pays a demo sale
// headless; here the simulator listens on the LAN address, which tests
// do not call.)
func TestSmokeDemoUnderXvfb(t *testing.T) {
	if testing.Short() {
		t.Skip("smoke test: runs the real binary for several seconds")
	}
	xvfb, err := exec.LookPath("Xvfb")
	if err != nil {
		t.Skip("Xvfb is not installed (make deps installs it): cannot run the GUI smoke test")
	}
	bin := filepath.Join(t.TempDir(), "bin", "qrkiosk")
	build := exec.Command("go", "build", "-tags", "debug,no_emoji", "-o", bin, "qrkiosk")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}

	display := proctest.StartXvfb(t, xvfb, "-screen", "0", "1920x1080x24", "-nolisten", "tcp")
	for _, gateway := range []string{"qfpay", "scanforpay"} {
		t.Run(gateway, func(t *testing.T) { smokeDemo(t, bin, display, gateway) })
	}
}

// smokeDemo runs one demo session on the gateway's simulator.
func smokeDemo(t *testing.T, bin, display, gateway string) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	// A clean home: no config file (so demo mode), fresh preferences, and
	// not even a cache directory, as for a new user account.
	// The demo's simulator on loopback: tests talk to this machine only.
	cmd := exec.Command(bin, "--demo-gateway", gateway, "--demo-host", "127.0.0.1", "--demo-charge", "12.34")
	cmd.Dir = dir
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "XDG_CONFIG_HOME=" + dir, "XDG_DATA_HOME=" + dir,
		"XDG_CACHE_HOME=" + filepath.Join(dir, "cache"), "DISPLAY=" + display, "QRKIOSK_LOG=info", "QRKIOSK_DATA=" + data,
	}
	var stderr proctest.Buffer
	cmd.Stderr, cmd.Stdout = &stderr, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	select {
	case err := <-exited:
		t.Fatalf("qrkiosk exited after start (%v):\n%s", err, stderr.String())
	case <-time.After(6 * time.Second):
	}
	// A second kiosk on the same journal is refused with one clear line.
	second := exec.Command(bin)
	second.Env = cmd.Env
	if out, err := second.CombinedOutput(); err == nil || !strings.Contains(string(out), "in use by another qrkiosk process") {
		t.Errorf("second kiosk on the same journal: %v\n%s", err, out)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v", err)
		}
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("qrkiosk did not quit on SIGTERM:\n%s", stderr.String())
	}

	log := stderr.String()
	// The live order is withdrawn and settled before the process ends.
	for _, bad := range []string{"Error in Fyne call thread", "Failed to create", "panic:", "fatal error:", "DATA RACE", "stopped before the order was final", "not yet settled"} {
		if strings.Contains(log, bad) {
			t.Errorf("log has %q:\n%s", bad, log)
		}
	}
	for _, want := range []string{`msg="demo mode" gateway_name=` + gateway, `msg="order created"`} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %s:\n%s", want, log)
		}
	}
	// make screenshots pays its sales through the simulator the log names.
	if !simURLRE.MatchString(log) {
		t.Errorf("the screenshot driver finds no demo simulator (%s) in the log:\n%s", simURLRE, log)
	}
	// The sale is in the demo journal, withdrawn (QFPay) or stopped and
	// settled by a final query (ScanForPay, which has no cancel) before
	// the exit.
	j, err := journal.Open(journal.Options{Dir: filepath.Join(data, "demo")})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	day, err := j.Today(context.Background())
	if err != nil || len(day.Orders) != 1 || day.Orders[0].Amount.String() != "12.34" || day.Orders[0].State != payment.StateCancelled || day.Orders[0].Gateway != gateway {
		t.Fatalf("demo journal: %+v, %v", day.Orders, err)
	}
}
