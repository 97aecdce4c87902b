// Package chromiumtest runs Debian's headless Chromium for tests and drives
// it over the DevTools protocol: navigate, evaluate JavaScript, set the
// viewport, take screenshots, go offline, grant permissions. A CA is
// trusted the way a Debian POS machine trusts the kiosk's: certutil into
// the NSS database under a temporary HOME. It is for tests only.
package chromiumtest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Options say how to start the browser.
type Options struct {
	// TrustCAs are PEM CA certificate files the browser trusts, imported
	// into $HOME/.pki/nssdb as README tells a POS machine to.
	TrustCAs []string
	// PublicAddrs ("127.0.0.1:PORT") are loopback servers the browser
	// counts as public internet sites, so a page from one of them reaching
	// another loopback server is what a POS page on an Odoo server reaching
	// the kiosk is: a public site calling a device on the local network.
	PublicAddrs []string
	// LocalAddrs ("127.0.0.1:PORT") are loopback servers the browser
	// counts as on the local network (a private LAN address), as the
	// kiosk is for a POS on another machine.
	LocalAddrs []string
	// Args are further Chromium switches.
	Args []string
}

// Browser is a headless Chromium started for one test; it is killed, with
// every process it started, when the test ends.
type Browser struct {
	t    testing.TB
	Home string // the temporary HOME, with .pki/nssdb
	cdp  *conn
	cmd  *exec.Cmd
	out  *lines
}

// Start starts headless Chromium, or skips the test when chromium (or
// certutil, for TrustCAs) is not installed.
func Start(t testing.TB, opts Options) *Browser {
	t.Helper()
	bin, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium is not installed (make deps installs it for the browser tests: apt-get install chromium libnss3-tools)")
	}
	home := t.TempDir()
	if len(opts.TrustCAs) > 0 {
		trustCAs(t, home, opts.TrustCAs)
	}
	profile := filepath.Join(home, "profile")
	args := []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--disable-crash-reporter", "--no-default-browser-check",
		"--user-data-dir=" + profile, "--remote-debugging-port=0",
	}
	var spaces []string
	for _, a := range opts.PublicAddrs {
		spaces = append(spaces, a+"=public")
	}
	for _, a := range opts.LocalAddrs {
		spaces = append(spaces, a+"=local")
	}
	if len(spaces) > 0 {
		args = append(args, "--ip-address-space-overrides="+strings.Join(spaces, ","))
	}
	args = append(append(args, opts.Args...), "about:blank")
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"), "XDG_CACHE_HOME="+filepath.Join(home, ".cache"))
	// Its own process group: the cleanup kills the renderers and helpers
	// too, not only the browser process.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out := &lines{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	b := &Browser{t: t, Home: home, cmd: cmd, out: out}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		if b.cdp != nil {
			b.cdp.close()
		}
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
		killStragglers(t, home)
		if t.Failed() {
			t.Logf("chromium output (D-Bus complaints left out):\n%s", out.withoutDBus())
		}
	})

	wsURL, err := devToolsURL(profile, exited)
	if err != nil {
		t.Fatalf("chromium: %v; output:\n%s", err, out.String())
	}
	if b.cdp, err = dial(wsURL); err != nil {
		t.Fatalf("chromium DevTools: %v", err)
	}
	return b
}

// killStragglers kills what left the process group: Chromium starts its
// crash handlers in sessions of their own. They are known by the
// temporary HOME on their command line.
func killStragglers(t testing.TB, home string) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		pids := processesUsing(home)
		if len(pids) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("chromium processes %v still run after being killed", pids)
			return
		}
		for _, pid := range pids {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// processesUsing is the processes whose command line mentions dir.
func processesUsing(dir string) []int {
	var pids []int
	cmdlines, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, f := range cmdlines {
		b, err := os.ReadFile(f)
		if err != nil || !bytes.Contains(b, []byte(dir)) {
			continue
		}
		if pid, err := strconv.Atoi(filepath.Base(filepath.Dir(f))); err == nil && pid != os.Getpid() {
			pids = append(pids, pid)
		}
	}
	return pids
}

// devToolsURL waits for the DevToolsActivePort file Chromium writes into
// its profile once it listens (port, then path).
func devToolsURL(profile string, exited <-chan struct{}) (string, error) {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		b, err := os.ReadFile(filepath.Join(profile, "DevToolsActivePort"))
		if f := strings.Fields(string(b)); err == nil && len(f) == 2 {
			if _, err := strconv.Atoi(f[0]); err == nil {
				return "ws://127.0.0.1:" + f[0] + f[1], nil
			}
		}
		select {
		case <-exited:
			return "", fmt.Errorf("it exited before listening for DevTools")
		case <-time.After(50 * time.Millisecond):
		}
	}
	return "", fmt.Errorf("it did not listen for DevTools within 30s")
}

// trustCAs makes the NSS database a Debian user's Chromium reads and
// trusts each CA in it for websites — README's step for a POS machine.
func trustCAs(t testing.TB, home string, cas []string) {
	t.Helper()
	certutil, err := exec.LookPath("certutil")
	if err != nil {
		t.Skip("certutil is not installed (make deps installs it for the browser tests: apt-get install libnss3-tools)")
	}
	db := filepath.Join(home, ".pki", "nssdb")
	if err := os.MkdirAll(db, 0o700); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) {
		if out, err := exec.Command(certutil, append([]string{"-d", "sql:" + db}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("certutil %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	run("-N", "--empty-password")
	for i, ca := range cas {
		run("-A", "-t", "C,,", "-n", fmt.Sprintf("qrkiosk-%d", i), "-i", ca)
	}
}

// Version is the browser's product string ("Chrome/156.0.8078.129").
func (b *Browser) Version() string {
	b.t.Helper()
	var v struct {
		Product string `json:"product"`
	}
	if err := b.cdp.call("", "Browser.getVersion", nil, &v); err != nil {
		b.t.Fatal(err)
	}
	return v.Product
}

// GrantPermissions grants origin the permissions (DevTools names such as
// "localNetworkAccess"), as a user answering the browser's prompt would.
func (b *Browser) GrantPermissions(origin string, permissions ...string) error {
	return b.cdp.call("", "Browser.grantPermissions", map[string]any{"origin": origin, "permissions": permissions}, nil)
}

// Output is what the browser printed on stdout and stderr so far.
func (b *Browser) Output() string { return b.out.String() }

// lines collects the browser's output for a failing test's log.
type lines struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() < 1<<20 {
		l.b.Write(p)
	}
	return len(p), nil
}

// withoutDBus is the output less the lines of a browser looking for a
// desktop bus that a test machine has not got.
func (l *lines) withoutDBus() string {
	var keep []string
	for _, line := range strings.Split(l.String(), "\n") {
		if !strings.Contains(line, ":ERROR:dbus/") {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "\n")
}

func (l *lines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
