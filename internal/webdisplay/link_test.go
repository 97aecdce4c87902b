package webdisplay_test

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"qrkiosk/internal/webdisplay"
	"qrkiosk/internal/webdisplay/displaytest"
	"qrkiosk/payment"
)

// client is a Go stand-in for a tablet: HTTPS and the websocket, trusting
// the kiosk's CA.
type client struct {
	t    *testing.T
	k    *displaytest.Kiosk
	http *http.Client
	tls  *tls.Config
}

func newClient(t *testing.T, k *displaytest.Kiosk) *client {
	t.Helper()
	pem, err := os.ReadFile(k.Certs.CAPath)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	cfg := &tls.Config{RootCAs: pool}
	tr := &http.Transport{TLSClientConfig: cfg}
	t.Cleanup(tr.CloseIdleConnections)
	return &client{t: t, k: k, http: &http.Client{Transport: tr}, tls: cfg}
}

// pair posts body to the pairing route and returns the status and answer.
func (c *client) pair(body string) (int, map[string]string) {
	c.t.Helper()
	resp, err := c.http.Post("https://"+c.k.Link.Addr()+"/display/pair", "application/json", strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var a map[string]string
	json.NewDecoder(resp.Body).Decode(&a)
	return resp.StatusCode, a
}

func (c *client) pairWith(code string) string {
	c.t.Helper()
	status, a := c.pair(fmt.Sprintf(`{"code": %q}`, code))
	if status != http.StatusOK || a["token"] == "" {
		c.t.Fatalf("pairing: %d %v", status, a)
	}
	return a["token"]
}

// dial opens a display's link offering protocols.
func (c *client) dial(protocols ...string) *websocket.Conn {
	c.t.Helper()
	d := websocket.Dialer{TLSClientConfig: c.tls, Subprotocols: protocols}
	h := http.Header{"Origin": {"https://" + c.k.Link.Addr()}}
	ws, _, err := d.Dial("wss://"+c.k.Link.Addr()+"/display/ws", h)
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { ws.Close() })
	return ws
}

func (c *client) connect(token string) *websocket.Conn {
	return c.dial("qrkiosk.display.v1", "token."+token)
}

// msg is one message from the kiosk.
type msg map[string]any

func read(t *testing.T, ws *websocket.Conn) msg {
	t.Helper()
	ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	var m msg
	if err := ws.ReadJSON(&m); err != nil {
		t.Fatalf("reading from the kiosk: %v", err)
	}
	return m
}

// next reads until a message of type typ.
func next(t *testing.T, ws *websocket.Conn, typ string) msg {
	t.Helper()
	for {
		if m := read(t, ws); m["t"] == typ {
			return m
		}
	}
}

// closeCode reads until the kiosk closes the link and returns its code.
func closeCode(t *testing.T, ws *websocket.Conn) int {
	t.Helper()
	ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, _, err := ws.ReadMessage()
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code
		}
		if err != nil {
			t.Fatalf("the link ended without a close code: %v", err)
		}
	}
}

// fakeAfter holds the hub's timers for the test to fire.
type fakeAfter struct {
	mu sync.Mutex
	fs []*fakeTimer
}

type fakeTimer struct {
	f       func()
	stopped bool
}

func (a *fakeAfter) after(d time.Duration, f func()) func() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	ft := &fakeTimer{f: f}
	a.fs = append(a.fs, ft)
	return func() bool {
		a.mu.Lock()
		defer a.mu.Unlock()
		was := !ft.stopped
		ft.stopped = true
		return was
	}
}

// fire runs the timers armed and not stopped.
func (a *fakeAfter) fire() {
	a.mu.Lock()
	fs := a.fs
	a.fs = nil
	var run []func()
	for _, ft := range fs {
		if !ft.stopped {
			ft.stopped = true
			run = append(run, ft.f)
		}
	}
	a.mu.Unlock()
	for _, f := range run {
		f()
	}
}

// TestPairingCode: the code on the kiosk pairs one display, once; wrong
// codes are refused with what is left, and a code is burnt after five.
func TestPairingCode(t *testing.T) {
	d := open(t, t.TempDir(), webdisplay.Config{})
	// The route's rate limit on its own clock, a minute on at each try.
	var mu sync.Mutex
	now := time.Now()
	k := displaytest.Serve(t, d, displaytest.Options{Now: func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(time.Minute)
		return now
	}})
	c := newClient(t, k)

	if status, a := c.pair(`{"code": "123456"}`); status != http.StatusForbidden || !strings.Contains(a["error"], "no code is showing") {
		t.Errorf("no code showing: %d %v", status, a)
	}
	code, _ := d.NewCode()
	wrong := "000000"
	if code == wrong {
		wrong = "000001"
	}
	if status, a := c.pair(fmt.Sprintf(`{"code": %q}`, wrong)); status != http.StatusForbidden || a["error"] != "wrong code: 4 tries left" {
		t.Errorf("wrong code: %d %v", status, a)
	}
	for _, body := range []string{``, `{}`, `{"code": 123456}`, `{"code": "1", "token": "x"}`, `[]`, `{"code": "1"} {}`, `{"code": "1"}}`, `{"Code": "1"}`} {
		if status, _ := c.pair(body); status != http.StatusBadRequest {
			t.Errorf("body %q: %d, want 400", body, status)
		}
	}
	if status, _ := c.pair(`{"code": "` + strings.Repeat("1", 300) + `"}`); status != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized body: %d, want 413", status)
	}
	token := c.pairWith(code[:3] + " " + code[3:])
	if got, _ := d.Code(); got != "" {
		t.Error("the code still shows after it paired a display")
	}
	if status, _ := c.pair(fmt.Sprintf(`{"code": %q}`, code)); status != http.StatusForbidden {
		t.Errorf("the code paired twice: %d", status)
	}
	if p := d.Paired(); len(p) != 1 || p[0].Name != "Browser" {
		t.Errorf("paired: %+v", p)
	}
	ws := c.connect(token)
	if m := read(t, ws); m["t"] != "hello" {
		t.Errorf("first message %v", m)
	}

	// Five wrong tries burn the code.
	code, _ = d.NewCode()
	for i := 0; i < 5; i++ {
		c.pair(`{"code": "` + strings.Repeat(string(rune('1'+i)), 6) + `"}`)
	}
	if got, _ := d.Code(); got != "" {
		t.Error("the code still shows after five wrong tries")
	}
	if status, _ := c.pair(fmt.Sprintf(`{"code": %q}`, code)); status == http.StatusOK {
		t.Error("a burnt code paired a display")
	}
}

// TestPairingFlood: a device trying codes fast is refused by the route
// before any code is checked: a burst of five, then one try every two
// seconds, on top of the code's own five tries.
func TestPairingFlood(t *testing.T) {
	d := open(t, t.TempDir(), webdisplay.Config{})
	k := displaytest.Serve(t, d, displaytest.Options{})
	c := newClient(t, k)
	d.NewCode()
	checked := 0
	for i := 0; i < 20; i++ {
		if status, _ := c.pair(`{"code": "000000"}`); status != http.StatusTooManyRequests {
			checked++
		}
	}
	if checked > 6 {
		t.Errorf("%d of 20 tries in a burst reached the code, want the burst of 5 (and one more if a second passed)", checked)
	}
}

// TestOnlyPairedDisplaysListen: without a valid token, the link is closed
// at once with "unpaired" and nothing of the kiosk's is sent.
func TestOnlyPairedDisplaysListen(t *testing.T) {
	d := open(t, t.TempDir(), webdisplay.Config{})
	k := displaytest.Serve(t, d, displaytest.Options{})
	c := newClient(t, k)
	code, _ := d.NewCode()
	token := c.pairWith(code)
	d.Show(order(t, "alipayhk"))
	forged := []byte(token)
	forged[0] ^= 2
	for name, protos := range map[string][]string{
		"no token":      {"qrkiosk.display.v1"},
		"forged token":  {"qrkiosk.display.v1", "token." + string(forged)},
		"two tokens":    {"qrkiosk.display.v1", "token." + token, "token." + token},
		"no protocol":   {"token." + token},
		"a short token": {"qrkiosk.display.v1", "token.abc"},
	} {
		t.Run(name, func(t *testing.T) {
			ws := c.dial(protos...)
			ws.SetReadDeadline(time.Now().Add(10 * time.Second))
			_, data, err := ws.ReadMessage()
			var ce *websocket.CloseError
			if !errors.As(err, &ce) || ce.Code != 4401 {
				t.Errorf("got %q, %v; want the link closed with 4401", data, err)
			}
		})
	}
	// Another site's page cannot open a link with a stolen token.
	dl := websocket.Dialer{TLSClientConfig: c.tls, Subprotocols: []string{"qrkiosk.display.v1", "token." + token}}
	if _, resp, err := dl.Dial("wss://"+k.Link.Addr()+"/display/ws", http.Header{"Origin": {"https://evil.example"}}); err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-origin link: %v", err)
	}
}

// TestRevokeClosesAtOnce: a revoked display's open link is closed at once,
// and its token opens no other.
func TestRevokeClosesAtOnce(t *testing.T) {
	d := open(t, t.TempDir(), webdisplay.Config{})
	k := displaytest.Serve(t, d, displaytest.Options{})
	c := newClient(t, k)
	code, _ := d.NewCode()
	token := c.pairWith(code)
	ws := c.connect(token)
	next(t, ws, "view")
	p := d.Paired()
	if len(p) != 1 || p[0].Links != 1 {
		t.Fatalf("paired %+v", p)
	}
	if err := d.Revoke(p[0].ID); err != nil {
		t.Fatal(err)
	}
	if code := closeCode(t, ws); code != 4401 {
		t.Errorf("revoked: closed with %d, want 4401", code)
	}
	if code := closeCode(t, c.connect(token)); code != 4401 {
		t.Errorf("a revoked token reconnected: %d", code)
	}
	if err := d.Revoke(p[0].ID); !errors.Is(err, webdisplay.ErrUnknownDisplay) {
		t.Errorf("revoked twice: %v", err)
	}
}

// TestADisplayCannotAct: whatever a display sends ends its link; nothing
// it says reaches the kiosk.
func TestADisplayCannotAct(t *testing.T) {
	var logs bytes.Buffer
	d := open(t, t.TempDir(), webdisplay.Config{Log: slog.New(slog.NewTextHandler(&logs, nil))})
	k := displaytest.Serve(t, d, displaytest.Options{})
	c := newClient(t, k)
	code, _ := d.NewCode()
	ws := c.connect(c.pairWith(code))
	next(t, ws, "view")
	ws.WriteMessage(websocket.TextMessage, []byte(`{"t": "cancel"}`))
	if code := closeCode(t, ws); code != websocket.ClosePolicyViolation {
		t.Errorf("closed with %d, want %d", code, websocket.ClosePolicyViolation)
	}
	if !strings.Contains(logs.String(), "displays only listen") {
		t.Errorf("not logged: %s", logs.String())
	}
}

// TestLinkTakesTheCurrentView: every link starts with the kiosk's current
// view; a result is held, then the welcome; cues reach the displays; the
// heartbeat carries the QR's time left by the kiosk's clock, and a QR
// whose time is up by that clock is never sent.
func TestLinkTakesTheCurrentView(t *testing.T) {
	var clock struct {
		sync.Mutex
		now time.Time
	}
	clock.now = time.Now()
	now := func() time.Time { clock.Lock(); defer clock.Unlock(); return clock.now }
	fa := &fakeAfter{}
	d := open(t, t.TempDir(), webdisplay.Config{Now: now, AfterFunc: fa.after, Timing: webdisplay.Timing{Heartbeat: 50 * time.Millisecond}})
	k := displaytest.Serve(t, d, displaytest.Options{})
	c := newClient(t, k)
	code, _ := d.NewCode()
	token := c.pairWith(code)

	snap := order(t, "wechat")
	snap.Created, snap.Deadline = now(), now().Add(5*time.Minute)
	d.Show(snap)
	snap.State = payment.StateCancelled
	snap.Withdrawn = true
	d.Show(snap) // before anyone connects: never sent
	snap.OutTradeNo, snap.State, snap.Withdrawn = "QK2", payment.StateAwaitingPayment, false
	d.Show(snap)

	ws := c.connect(token)
	hello := read(t, ws)
	if hello["t"] != "hello" || hello["stale_ms"] != 1500.0 || hello["heartbeat_ms"] != 50.0 {
		t.Errorf("hello %v", hello)
	}
	v := read(t, ws)
	if v["t"] != "view" || v["order"] != "QK2" || v["page"] != "awaiting" || v["qr"] == nil || v["lang"] != "zh-Hans" {
		t.Fatalf("first view %v", v)
	}
	if v["left_ms"] != 300000.0 || v["total_ms"] != 300000.0 {
		t.Errorf("time left %v of %v", v["left_ms"], v["total_ms"])
	}
	clock.Lock()
	clock.now = clock.now.Add(time.Minute)
	clock.Unlock()
	if hb := next(t, ws, "hb"); hb["left_ms"] != 240000.0 || hb["seq"] != v["seq"] {
		t.Errorf("heartbeat %v", hb)
	}
	// The kiosk's clock past the deadline: no QR, whatever the display's
	// clock says.
	clock.Lock()
	clock.now = clock.now.Add(5 * time.Minute)
	clock.Unlock()
	if hb := next(t, ws, "hb"); hb["left_ms"] != nil {
		t.Errorf("heartbeat past the deadline %v", hb)
	}
	late := c.connect(token)
	if v := next(t, late, "view"); v["qr"] != nil || v["page"] != "awaiting" {
		t.Errorf("a link opened past the deadline got %v", v)
	}

	snap.State = payment.StatePaid
	d.Show(snap)
	d.Cue("paid")
	if v := next(t, ws, "view"); v["page"] != "result" || v["sign"] != "check" {
		t.Errorf("paid: %v", v)
	}
	if cue := next(t, ws, "cue"); cue["cue"] != "paid" {
		t.Errorf("cue %v", cue)
	}
	fa.fire() // the result's hold is over
	if v := next(t, ws, "view"); v["page"] != "idle" || v["merchant"] != "Lucky Star Café 福星茶餐廳" || len(v["wallets"].([]any)) != 7 {
		t.Errorf("after the hold: %v", v)
	}
	d.Show(snap) // the same result again stays away
	if hb := next(t, ws, "hb"); hb["t"] != "hb" {
		t.Errorf("after a repeated result: %v", hb)
	}
}

// TestAPageReadsAllItAsks: the page's files are served with their types;
// the pairing and websocket routes answer nothing else.
func TestAPageReadsAllItAsks(t *testing.T) {
	d := open(t, t.TempDir(), webdisplay.Config{Logo: testLogo()})
	k := displaytest.Serve(t, d, displaytest.Options{})
	c := newClient(t, k)
	for path, ctype := range map[string]string{
		"/display/":                            "text/html; charset=utf-8",
		"/display/static/app.js":               "text/javascript; charset=utf-8",
		"/display/static/app.css":              "text/css; charset=utf-8",
		"/display/static/manifest.webmanifest": "application/manifest+json",
		"/display/static/icon-192.png":         "image/png",
		"/display/static/logo.png":             "image/png",
		"/display/static/paid.wav":             "audio/wav",
		"/display/static/KioskSansSC.ttf":      "font/ttf",
	} {
		resp, err := c.http.Get("https://" + k.Link.Addr() + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != ctype || len(body) == 0 {
			t.Errorf("%s: %d %q, %d bytes", path, resp.StatusCode, resp.Header.Get("Content-Type"), len(body))
		}
		if path == "/display/" && resp.Header.Get("Content-Security-Policy") == "" {
			t.Error("the page has no Content-Security-Policy")
		}
	}
	for _, path := range []string{"/display/static/../displays.json", "/display/static/index.html", "/display/static/nothing"} {
		resp, err := c.http.Get("https://" + k.Link.Addr() + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Errorf("%s served", path)
		}
	}
}

// TestSilentDisplayDropped: a display whose network went quiet answers no
// ping: its link is dropped (a frozen tablet holds nothing of the kiosk's
// open), and it comes back as a new link when the network does.
func TestSilentDisplayDropped(t *testing.T) {
	d := open(t, t.TempDir(), webdisplay.Config{Timing: webdisplay.Timing{PongWait: 900 * time.Millisecond, WriteWait: 300 * time.Millisecond}})
	k := displaytest.Serve(t, d, displaytest.Options{})
	c := newClient(t, k)
	code, _ := d.NewCode()
	ws := c.connect(c.pairWith(code))
	// The Go client answers pings while it reads.
	go func() {
		for {
			if _, _, err := ws.NextReader(); err != nil {
				return
			}
		}
	}()
	links := func() int { return d.Paired()[0].Links }
	waitFor(t, "the link counted", func() bool { return links() == 1 })
	k.Link.Freeze()
	waitFor(t, "the silent link dropped", func() bool { return links() == 0 })
	k.Link.Thaw()
}

// waitFor polls cond for up to 10 s (a bound for a stuck test, not a
// timing requirement).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("%s: not within 10 s", what)
		}
	}
}
