package packaging

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"qrkiosk/internal/proctest"
)

// kiosk is the packaged qrkiosk started by the unit's command line.
type kiosk struct {
	cmd    *exec.Cmd
	log    *proctest.Buffer
	notify *net.UnixConn // the fake systemd's NOTIFY_SOCKET
	exited chan struct{}
	err    error
}

// startKiosk runs argv (from kioskCommand) with the unit's environment, a
// fresh home, the X display and a fake systemd listening on NOTIFY_SOCKET
// with a 2 s watchdog. An arm64 binary runs under qemu-aarch64-static with
// the arm64 libraries that multiarch installed.
func startKiosk(t *testing.T, x xvfb, argv, unitEnv []string, extra ...string) *kiosk {
	t.Helper()
	home := t.TempDir()
	sock := filepath.Join(t.TempDir(), "notify")
	notify, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { notify.Close() })
	if q := archs[arch].qemu; q != "" {
		if _, err := exec.LookPath(q); err != nil {
			t.Skipf("%s is not installed (make deps-arm64 installs it)", q)
		}
		argv = append([]string{q}, argv...)
	}
	cmd := exec.Command(argv[0], append(argv[1:], extra...)...)
	cmd.Dir = home
	cmd.Env = append([]string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + home, "XDG_CONFIG_HOME=" + filepath.Join(home, ".config"),
		"XDG_CACHE_HOME=" + filepath.Join(home, ".cache"), "DISPLAY=" + x.display,
		"NOTIFY_SOCKET=" + sock, "WATCHDOG_USEC=2000000", "QEMU_LD_PREFIX=/",
		// The demo answers a POS: its LAN server stays on this machine.
		"QRKIOSK_ECR_LISTEN=127.0.0.1:0",
	}, unitEnv...)
	k := &kiosk{cmd: cmd, log: &proctest.Buffer{}, notify: notify, exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = k.log, k.log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		k.err = cmd.Wait()
		close(k.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-k.exited:
		default:
			cmd.Process.Kill()
			<-k.exited
		}
		if t.Failed() {
			t.Logf("kiosk log:\n%s", k.log.String())
		}
	})
	return k
}

// expectNotify waits for the next message to the fake systemd.
func (k *kiosk) expectNotify(t *testing.T, want string, timeout time.Duration) {
	t.Helper()
	k.notify.SetReadDeadline(time.Now().Add(timeout))
	buf := make([]byte, 256)
	n, err := k.notify.Read(buf)
	if err != nil {
		t.Fatalf("waiting for %s from the kiosk: %v\n%s", want, err, k.log.String())
	}
	if got := string(buf[:n]); got != want {
		t.Fatalf("the kiosk told systemd %q, want %q", got, want)
	}
}

// stop sends SIGTERM, as systemctl stop does, and waits for a clean exit.
func (k *kiosk) stop(t *testing.T, timeout time.Duration) {
	t.Helper()
	k.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-k.exited:
		if k.err != nil {
			t.Errorf("exit after SIGTERM: %v\n%s", k.err, k.log.String())
		}
	case <-time.After(timeout):
		t.Fatalf("no exit within %v of SIGTERM:\n%s", timeout, k.log.String())
	}
}

// kill is a crash (or the watchdog's SIGABRT's end): no clean-up at all.
func (k *kiosk) kill(t *testing.T) {
	t.Helper()
	k.cmd.Process.Kill()
	<-k.exited
}

// installConfig does what postinst does: the packaged default settings
// become /etc/qrkiosk/config.toml, mode 0600; prefix and suffix are the
// settings a merchant adds around it (top-level keys before, tables after).
func installConfig(t *testing.T, root, prefix, suffix string) {
	t.Helper()
	def, err := os.ReadFile(filepath.Join(root, "usr/share/qrkiosk/config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "etc/qrkiosk"), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := prefix + string(def) + suffix
	if err := os.WriteFile(filepath.Join(root, "etc/qrkiosk/config.toml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "var/lib/qrkiosk"), 0o700); err != nil {
		t.Fatal(err)
	}
}

// TestUnitCommandLineShowsDemoQR: the packaged kiosk, started by the
// unit's own command line with the packaged default settings (demo mode),
// tells systemd it is ready, pings the watchdog from its event loop, rings
// up --demo-charge 5.00 and shows a QR that leads to the demo's pay page
// for that order. For arm64 the binary runs under qemu.
func TestUnitCommandLineShowsDemoQR(t *testing.T) {
	needPackages(t)
	root := extract(t, "qrkiosk")
	u := readUnit(t, filepath.Join(root, "lib/systemd/system/qrkiosk.service"))
	argv, env := kioskCommand(t, u, root)
	installConfig(t, root, "", "")
	x := startXvfb(t)
	slow := time.Duration(1)
	if archs[arch].qemu != "" {
		slow = 6 // emulated: every instruction, and llvmpipe's too
	}
	k := startKiosk(t, x, argv, env, "--demo-charge", "5.00")
	k.expectNotify(t, "READY=1", slow*30*time.Second)
	k.expectNotify(t, "WATCHDOG=1", slow*10*time.Second)
	url := x.waitQR(t, k, slow*30*time.Second)

	syssn := regexpFind(t, k.log.String(), `msg="order created" syssn=(\d+)`)
	if !strings.HasPrefix(url, "http://") || !strings.HasSuffix(url, "/sim/pay/"+syssn) {
		t.Errorf("the QR says %q, want the demo's pay page http://…/sim/pay/%s", url, syssn)
	}
	if !strings.Contains(k.log.String(), "amount=5.00") {
		t.Errorf("the demo charge was not for 5.00:\n%s", k.log.String())
	}
	k.stop(t, slow*20*time.Second)
}
