package e2e

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"qrkiosk/internal/proctest"
	"qrkiosk/relay"
	"qrkiosk/relay/pgtest"
	"qrkiosk/relay/relayclient"
	"qrkiosk/relay/sqlitestore"
)

const keyB = "E2EKEY0000000000000000000000000B"

// relayProc is one qrkiosk-relay process and its address.
type relayProc struct {
	*proc
	addr string
}

// startRelayProc runs qrkiosk-relay with secrets in the environment and
// files, as the README has it, and waits for its address.
func startRelayProc(t *testing.T, env []string, args ...string) relayProc {
	t.Helper()
	env = append([]string{"QFPAY_KEY=" + key, "QRKIOSK_RELAY_TOKEN=", "QRKIOSK_RELAY_DATABASE=", "QRKIOSK_RELAY_DATABASE_FILE="}, env...)
	p := start(t, env, "qrkiosk-relay", append([]string{"--listen", "127.0.0.1:0"}, args...)...)
	addr, ok := strings.CutPrefix(p.Listening(30*time.Second), "http://")
	if !ok {
		t.Fatal("the relay does not listen on http://")
	}
	return relayProc{p, addr}
}

// pgRelays starts n relays on one fresh PostgreSQL database, serving the
// one-shop merchant (key) and shop-b (keyB). It returns them and the
// environment that points the token commands at the same database.
func pgRelays(t *testing.T, n int) ([]relayProc, []string) {
	t.Helper()
	url := pgtest.NewDatabase(t)
	dir := t.TempDir()
	dbFile := filepath.Join(dir, "database")
	merchants := filepath.Join(dir, "merchants")
	os.WriteFile(dbFile, []byte(url+"\n"), 0o600)
	os.WriteFile(merchants, []byte("shop-b qfpay APPB "+keyB+"\n"), 0o600)
	var rs []relayProc
	for i := range n {
		rs = append(rs, startRelayProc(t, []string{"QRKIOSK_RELAY_DATABASE_FILE=" + dbFile},
			"--merchants", merchants, "--instance", fmt.Sprintf("relay-%c", 'a'+i)))
	}
	return rs, []string{"QRKIOSK_RELAY_DATABASE_FILE=" + dbFile}
}

// tokenAdd runs `qrkiosk-relay token add` and returns the printed token.
func tokenAdd(t *testing.T, env []string, merchant, udid string) string {
	t.Helper()
	p := start(t, env, "qrkiosk-relay", "token", "add", "--merchant", merchant, "--udid", udid)
	tok := p.Line(30 * time.Second)
	if code := p.Wait(30 * time.Second); code != 0 || !strings.HasPrefix(tok, relay.TokenPrefix) {
		t.Fatalf("token add: exit %d, %q, %s", code, tok, p.Stderr.String())
	}
	return tok
}

func signMD5(body []byte, k string) string {
	sum := md5.Sum(append(append([]byte{}, body...), k...))
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

func notification(syssn, otn, udid string) []byte {
	return fmt.Appendf(nil, `{"notify_type":"payment","status":"1","respcd":"0000","syssn":%q,"out_trade_no":%q,`+
		`"txamt":"1500","txcurrcd":"HKD","pay_type":"800101","udid":%q,"sysdtm":"2025-01-02 10:00:00"}`, syssn, otn, udid)
}

// notify posts a signed notification as QFPay would; ok means SUCCESS.
func notify(addr, path string, body []byte, k string) (ok bool, err error) {
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+path, bytes.NewReader(body))
	req.Header.Set("X-QF-SIGN", signMD5(body, k))
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	return resp.StatusCode == 200 && string(got) == "SUCCESS", nil
}

func mustNotify(t *testing.T, addr, path string, body []byte, k string) {
	t.Helper()
	if ok, err := notify(addr, path, body, k); !ok {
		t.Fatalf("notify %s%s: %v", addr, path, err)
	}
}

// balancer is a TCP load balancer in front of the relays, as an operator
// runs one: each new connection goes to the next backend that accepts it.
type balancer struct {
	ln       net.Listener
	backends []string
	mu       sync.Mutex
	next     int
}

func startBalancer(t *testing.T, backends ...string) *balancer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &balancer{ln: ln, backends: backends}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go b.serve(c)
		}
	}()
	return b
}

func (b *balancer) addr() string { return b.ln.Addr().String() }

func (b *balancer) serve(c net.Conn) {
	defer c.Close()
	b.mu.Lock()
	first := b.next
	b.next++
	b.mu.Unlock()
	for i := range b.backends {
		up, err := net.DialTimeout("tcp", b.backends[(first+i)%len(b.backends)], time.Second)
		if err != nil {
			continue
		}
		defer up.Close()
		go func() { io.Copy(up, c); up.(*net.TCPConn).CloseWrite() }()
		io.Copy(c, up)
		return
	}
}

// follower is a kiosk's relay client, collecting what it is pushed.
type follower struct {
	c    *relayclient.Client
	mu   sync.Mutex
	seen map[string]int // syssn → times delivered
}

func follow(t *testing.T, url, token, udid string, otns ...string) *follower {
	t.Helper()
	f := &follower{seen: map[string]int{}, c: relayclient.NewClient(relayclient.Config{URL: "ws://" + url + "/ws", Token: token,
		UDID: udid, MinBackoff: 50 * time.Millisecond, MaxBackoff: 500 * time.Millisecond})}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	for _, otn := range otns {
		msgs, _ := f.c.Subscribe(otn)
		go func() {
			for m := range msgs {
				f.mu.Lock()
				f.seen[m.SysSN]++
				f.mu.Unlock()
			}
		}()
	}
	go f.c.Run(ctx)
	waitFor(t, "the kiosk's link up", 15*time.Second, f.c.Up)
	return f
}

func (f *follower) has(syssn string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.seen[syssn] > 0
}

func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Two relays on one PostgreSQL: the gateway notifies one, a kiosk on the
// other is paid by push. Then one relay is killed (-9) while notifications
// keep coming through the load balancer: every one answered SUCCESS
// reaches its kiosk, and the kiosk that was on the dead relay reconnects
// to the other and replays what it missed.
func TestTwoRelaysOnePostgres(t *testing.T) {
	rs, tokEnv := pgRelays(t, 2)
	a, b := rs[0], rs[1]

	// A real charge: qfpay-sim notifies relay a, the kiosk is on relay b
	// with its own token (udid e2e-kiosk, which it sends on every order).
	kioskTok := tokenAdd(t, tokEnv, "default", "e2e-kiosk")
	base, _ := startSim(t, "--notify-url", "http://"+a.addr+"/notify/qfpay")
	p, created := charge(t, base, []string{"QRKIOSK_RELAY_URL=ws://" + b.addr + "/ws", "QRKIOSK_RELAY_TOKEN=" + kioskTok},
		"--amount", "42.00")
	if !created.Push {
		p.untilEvent("push_up", 15*time.Second)
	}
	payAt := time.Now()
	customer(t, base, "pay", created.SysSN)
	last, code := p.lastEvent(30 * time.Second)
	if code != 0 || last.Event != "paid" {
		t.Fatalf("exit %d, last %+v; want 0 and paid", code, last)
	}
	if took := time.Since(payAt); took > 5*time.Second {
		t.Fatalf("paid after %v: the notification at relay a should reach the kiosk on relay b by push", took)
	}

	// Kiosks behind a load balancer (round robin: kiosk-x lands on a,
	// kiosk-y on b), as the gateway is.
	lb := startBalancer(t, a.addr, b.addr)
	const n = 40
	otns := make([]string, n)
	var otnsX, otnsY []string // each kiosk follows its own orders
	for i := range otns {
		otns[i] = fmt.Sprint("O-FAULT-", i)
		if i%2 == 0 {
			otnsX = append(otnsX, otns[i])
		} else {
			otnsY = append(otnsY, otns[i])
		}
	}
	tokX, tokY := tokenAdd(t, tokEnv, "default", "kiosk-x"), tokenAdd(t, tokEnv, "default", "kiosk-y")
	kx := follow(t, lb.addr(), tokX, "kiosk-x", otnsX...)
	ky := follow(t, lb.addr(), tokY, "kiosk-y", otnsY...)
	if !strings.Contains(a.Stderr.String(), "udid=kiosk-x") || !strings.Contains(b.Stderr.String(), "udid=kiosk-y") {
		t.Fatalf("the kiosks are not one on each relay:\na: %s\nb: %s", a.Stderr.String(), b.Stderr.String())
	}

	answered := map[string]string{} // syssn → device
	for i := range n {
		dev := []string{"kiosk-x", "kiosk-y"}[i%2]
		syssn := fmt.Sprint("S-FAULT-", i)
		// Half of them name no device, as QFPay's documented fields do:
		// they reach the kiosk that claimed the order by following it.
		named := dev
		if i%4 >= 2 {
			named = ""
		}
		body := notification(syssn, otns[i], named)
		if i == n/2 {
			a.Cmd.Process.Signal(syscall.SIGKILL)
			a.Wait(10 * time.Second)
		}
		// The gateway retries until SUCCESS, through the balancer.
		waitFor(t, "SUCCESS for "+syssn, 30*time.Second, func() bool {
			ok, _ := notify(lb.addr(), "/notify/qfpay", body, key)
			return ok
		})
		answered[syssn] = dev
	}
	for syssn, dev := range answered {
		f := map[string]*follower{"kiosk-x": kx, "kiosk-y": ky}[dev]
		waitFor(t, syssn+" at "+dev, 30*time.Second, func() bool { return f.has(syssn) })
	}
	for syssn := range answered {
		if ky.has(syssn) && answered[syssn] != "kiosk-y" || kx.has(syssn) && answered[syssn] != "kiosk-x" {
			t.Fatalf("%s reached a kiosk that is not its device", syssn)
		}
	}
	if !strings.Contains(b.Stderr.String(), "kiosk connected") || !strings.Contains(b.Stderr.String(), "udid=kiosk-x") {
		t.Fatalf("kiosk-x did not reconnect to relay b (or connections are not logged at info):\n%s", b.Stderr.String())
	}
}

// Scoped tokens end to end: a kiosk with a token for device A cannot
// subscribe to device B's orders or another merchant's (refused with a
// clear error, logged), and a revoked token is disconnected.
func TestKioskTokensAreScopedAndRevocable(t *testing.T) {
	rs, tokEnv := pgRelays(t, 2)
	a, b := rs[0], rs[1]
	mustNotify(t, a.addr, "/notify/qfpay", notification("S-B", "O-B", "dev-b"), key)
	mustNotify(t, a.addr, "/notify/qfpay/shop-b", notification("S-X", "O-X", "dev-a"), keyB)
	mustNotify(t, a.addr, "/notify/qfpay", notification("S-A", "O-A", "dev-a"), key)
	tokA := tokenAdd(t, tokEnv, "default", "dev-a")

	ws, _, err := websocket.DefaultDialer.Dial("ws://"+b.addr+"/ws",
		http.Header{"Authorization": {"Bearer " + tokA}, "X-QRKiosk-UDID": {"dev-a"}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	next := func() map[string]any {
		t.Helper()
		var m map[string]any
		ws.SetReadDeadline(time.Now().Add(10 * time.Second))
		if err := ws.ReadJSON(&m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	ws.WriteJSON(map[string]string{"type": "subscribe", "out_trade_no": "O-A"})
	if m := next(); m["type"] != "notification" || m["syssn"] != "S-A" {
		t.Fatalf("own order: %v", m)
	}
	if m := next(); m["type"] != "subscribed" {
		t.Fatalf("own order: %v, want the acknowledgement", m)
	}
	for _, c := range []struct{ otn, udid, want string }{
		{"O-B", "", "subscription refused: no push for this order; poll the gateway"}, // device B's
		{"O-X", "", "subscription refused: no push for this order; poll the gateway"}, // shop-b's, same device name (the same words)
		{"", "dev-b", "for device dev-a only"},
	} {
		ws.WriteJSON(map[string]string{"type": "subscribe", "out_trade_no": c.otn, "udid": c.udid})
		m := next()
		if m["type"] != "error" || !strings.Contains(fmt.Sprint(m["error"]), c.want) {
			t.Fatalf("subscribe %s/%s: %v, want an error saying %q", c.otn, c.udid, m, c.want)
		}
	}
	waitFor(t, "the refusals in relay b's log", 10*time.Second, func() bool {
		log := b.Stderr.String()
		return strings.Contains(log, "subscription refused") && strings.Contains(log, "out_trade_no=O-X") &&
			strings.Contains(log, "reason=foreign_device")
	})

	rv := start(t, tokEnv, "qrkiosk-relay", "token", "revoke", "--merchant", "default", "--udid", "dev-a")
	if code := rv.Wait(30 * time.Second); code != 0 {
		t.Fatalf("token revoke: %d %s", code, rv.Stderr.String())
	}
	revoked := time.Now()
	ws.SetReadDeadline(time.Now().Add(15 * time.Second))
	for {
		if _, _, err = ws.ReadMessage(); err != nil {
			break
		}
	}
	if !websocket.IsCloseError(err, websocket.ClosePolicyViolation) {
		t.Fatalf("after revocation: %v, want close 1008", err)
	}
	t.Logf("disconnected %v after `token revoke` returned", time.Since(revoked).Round(time.Millisecond))
	if _, resp, err := websocket.DefaultDialer.Dial("ws://"+a.addr+"/ws", http.Header{"Authorization": {"Bearer " + tokA}}); err == nil || resp.StatusCode != 401 {
		t.Fatalf("revoked token at relay a: %v", err)
	}
}

// The relay refuses to start, before it says it is listening, on a data
// directory it cannot write, and beside another relay on the same one.
func TestRelayRefusesUnusableDataDirectory(t *testing.T) {
	var cred *syscall.Credential
	parent, err := os.MkdirTemp("", "qrkiosk-e2e-relay-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(parent) })
	data := filepath.Join(parent, "data")
	os.Mkdir(data, 0o700)
	if os.Geteuid() == 0 { // root writes anywhere: run the relay as nobody
		u, err := user.Lookup("nobody")
		if err != nil {
			t.Fatal(err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		for _, d := range []string{parent, bin} {
			os.Chmod(d, 0o755)
		}
		os.Chown(data, uid, gid)
	}
	run := func() *proc {
		p := startAs(t, cred, []string{"QFPAY_KEY=" + key, "QRKIOSK_RELAY_TOKEN="}, "qrkiosk-relay", "--listen", "127.0.0.1:0", "--data", data)
		return p
	}
	first := run()
	if l := first.Line(30 * time.Second); !strings.HasPrefix(l, "listening on") {
		t.Fatalf("first relay: %q", l)
	}
	second := run()
	if code := second.Wait(30 * time.Second); code != 1 || !strings.Contains(second.Stderr.String(), "in use by another qrkiosk-relay (pid "+strconv.Itoa(first.Cmd.Process.Pid)) {
		t.Fatalf("second relay on the same data: exit %d, %s", code, second.Stderr.String())
	}
	first.Cmd.Process.Signal(syscall.SIGTERM)
	if code := first.Wait(30 * time.Second); code != 0 {
		t.Fatalf("first relay exit %d", code)
	}
	if fi, err := os.Stat(filepath.Join(data, sqlitestore.JournalFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("journal %v %v, want mode 0600", fi, err)
	}

	os.Chmod(data, 0o500) // read-only: SQLite cannot create its -wal file
	defer os.Chmod(data, 0o700)
	ro := run()
	code := ro.Wait(30 * time.Second)
	select {
	case l, ok := <-ro.Lines:
		if ok {
			t.Fatalf("a relay on a read-only directory printed %q", l)
		}
	default:
	}
	if code != 1 || !strings.Contains(ro.Stderr.String(), "start") {
		t.Fatalf("relay on a read-only data directory: exit %d, %s", code, ro.Stderr.String())
	}
	t.Logf("on a read-only directory: %s", strings.TrimSpace(ro.Stderr.String()))
}

// startAs is start with the process run under cred (nil: as this user).
func startAs(t *testing.T, cred *syscall.Credential, env []string, name string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(filepath.Join(bin, name), args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	return &proc{Proc: proctest.Start(t, cmd), t: t}
}
