package ui

import (
	"context"
	"crypto/x509"
	"fmt"
	"image"
	"image/color"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"qrkiosk/internal/chromiumtest"
	"qrkiosk/internal/ecr/posclient"
	"qrkiosk/internal/lan"
)

// The shop's POS drives the real kiosk window: the tests here play Odoo's
// pos_qfpay with posclient (Odoo's exact request format, its own encoder)
// and its /qfpay/notify webhook with posclient's Receiver (which verifies
// as Odoo's controller does), and in a real Chromium from a page on
// another origin. The kiosk runs as shipped, in demo mode, under Xvfb.

const (
	xPOSKey    = "0123456789abcdef0123456789ABCDEF"
	xNotifyKey = "my_qfpay_notification_key"
	// simulatePay is the demo's Simulate payment button.
	simulatePay = "f2b54e"
)

// odooHook is the POS's webhook as Odoo's controller checks it.
type odooHook struct {
	*httptest.Server
	mu      sync.Mutex
	notices []*posclient.Notice
}

func newOdooHook(t *testing.T) *odooHook {
	h := &odooHook{}
	h.Server = httptest.NewServer(&posclient.Receiver{NotifyKey: xNotifyKey, Log: slog.New(slog.DiscardHandler), OnNotice: func(n *posclient.Notice) {
		h.mu.Lock()
		h.notices = append(h.notices, n)
		h.mu.Unlock()
	}})
	t.Cleanup(h.Close)
	return h
}

// wait returns the webhook's n-th notice (1-based) once it came.
func (h *odooHook) wait(t *testing.T, n int) *posclient.Notice {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		h.mu.Lock()
		got := len(h.notices)
		h.mu.Unlock()
		if got >= n {
			h.mu.Lock()
			defer h.mu.Unlock()
			return h.notices[n-1]
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the webhook has no notice %d", n)
	return nil
}

func (h *odooHook) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.notices)
}

// posKiosk is the real kiosk (dual layout at 2560×800, the two windows
// apart) answering a POS on loopback, and where a POS reaches it.
type posKiosk struct {
	*xsession
	url, ca           string
	cashier, customer image.Rectangle
	hook              *odooHook
	pos               *posclient.Client
}

var ecrURLRE = regexp.MustCompile(`msg="ecr: answering the POS" url=(https://\S+)/api/pos/`)

func startPOSKiosk(t *testing.T, env ...string) *posKiosk {
	t.Helper()
	needX(t)
	hook := newOdooHook(t)
	cfg := filepath.Join(t.TempDir(), "config.toml")
	body := fmt.Sprintf("[ecr]\nlisten = \"127.0.0.1:0\"\npos_key = %q\nnotify_url = %q\nnotify_key = %q\n", xPOSKey, hook.URL+"/qfpay/notify", xNotifyKey)
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startKiosk(t, 2560, 800, append([]string{"QRKIOSK_CONFIG=" + cfg}, env...))
	cw, xw := s.window("cashier"), s.window("customer display")
	s.xdotool("windowmove", cw, "0", "0")
	s.xdotool("windowmove", xw, "1240", "40")
	k := &posKiosk{xsession: s, hook: hook, cashier: s.bounds(cw), customer: s.bounds(xw)}
	deadline := time.Now().Add(20 * time.Second)
	for k.url == "" {
		if m := ecrURLRE.FindStringSubmatch(s.log.String()); m != nil {
			k.url = m[1]
		} else if time.Now().After(deadline) {
			t.Fatalf("the kiosk does not answer a POS:\n%s", s.log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	k.ca = filepath.Join(s.cmd.Args[2], "lan", "ca.crt")
	pem, err := os.ReadFile(k.ca)
	if err != nil {
		t.Fatal(err)
	}
	k.pos = posclient.New(strings.TrimPrefix(k.url, "https://"), xPOSKey, poolOf(t, pem))
	s.waitFor("idle on both screens", 20*time.Second, func(img image.Image) bool {
		return customerState(img, k.customer) == "idle" && customerState(img, k.cashier) == "idle"
	})
	return k
}

// send is the POS's request, held until the kiosk answers.
func (k *posKiosk) send(endpoint string, p posclient.Payload) <-chan *posclient.Answer {
	out := make(chan *posclient.Answer, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		a, err := k.pos.Send(ctx, endpoint, p)
		if err != nil {
			k.t.Errorf("%s: %v", endpoint, err)
			a = &posclient.Answer{}
		}
		out <- a
	}()
	return out
}

func (k *posKiosk) answer(ch <-chan *posclient.Answer) *posclient.Answer {
	k.t.Helper()
	select {
	case a := <-ch:
		return a
	case <-time.After(60 * time.Second):
		k.t.Fatalf("no answer from the kiosk:\n%s", k.log.String())
		return nil
	}
}

// payOnScreen waits for the sale's QR on the customer window, checks that
// the QR leads to a payment of want, and pays it with the demo's Simulate
// payment, tapped where the cashier window draws it.
func (k *posKiosk) payOnScreen(want string) string {
	k.t.Helper()
	img, _ := k.waitFor("the POS's sale as a QR on the customer window", 15*time.Second, func(img image.Image) bool {
		return strings.HasPrefix(customerState(img, k.customer), "qr:")
	})
	qr := strings.TrimPrefix(customerState(img, k.customer), "qr:")
	resp, err := http.Get(qr)
	if err != nil {
		k.t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), want) {
		k.t.Fatalf("the QR %s leads to a page without %s:\n%.400s", qr, want, page)
	}
	var pay image.Rectangle
	img, _ = k.waitFor("Simulate payment enabled", 10*time.Second, func(img image.Image) bool {
		var ok bool
		pay, ok = lowest(blobs(img, k.cashier, hexColor(simulatePay), 2000))
		return ok
	})
	k.tap(center(pay))
	k.waitFor("Paid on the customer window", 15*time.Second, func(img image.Image) bool { return customerState(img, k.customer) == "paid" })
	return qr
}

func hexColor(s string) color.NRGBA {
	var c color.NRGBA
	fmt.Sscanf(s, "%02x%02x%02x", &c.R, &c.G, &c.B)
	c.A = 0xff
	return c
}

// waitLog waits for the n-th log line containing s.
func (k *posKiosk) waitLog(s string, n int) {
	k.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for strings.Count(k.log.String(), s) < n {
		if time.Now().After(deadline) {
			k.t.Fatalf("the kiosk did not log %q %d times:\n%s", s, n, k.log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// typeOnCashier types on the keyboard into the cashier window (the window
// under the pointer gets the keys: there is no window manager) at a
// person's pace, which the scanner detector leaves alone.
func (k *posKiosk) typeOnCashier(text string, keys ...string) {
	k.xdotool("mousemove", fmt.Sprint(k.cashier.Min.X+200), fmt.Sprint(k.cashier.Min.Y+2))
	if text != "" {
		k.xdotool("type", "--delay", "150", text)
	}
	for _, key := range keys {
		time.Sleep(200 * time.Millisecond)
		k.xdotool("key", key)
	}
}

// TestPOSDrivesTheRealWindow is issue 22's "done when" with Odoo's own
// request format: a POS with the wrong key changes nothing; a sale from the
// POS shows its QR on the customer window (leading to a payment of the
// POS's amount), is paid with Simulate payment, answered 6000 and notified
// to the webhook, which verifies it as Odoo does; a refund moves money
// only after the manager PIN is typed on the kiosk, and the same refund
// replayed is declined there and moves nothing.
func TestPOSDrivesTheRealWindow(t *testing.T) {
	k := startPOSKiosk(t)
	const ref = "0f1e2d3c-4b5a-4968-8776-5a4b3c2d1e0f--12--7"

	wrong := posclient.New(strings.TrimPrefix(k.url, "https://"), "fedcba9876543210fedcba9876543210", poolOf(t, mustRead(t, k.ca)))
	if a, err := wrong.Send(context.Background(), "trade", posclient.Trade(posclient.Number(12.34), "alipay", ref)); err != nil || a.Respcd != "5001" {
		t.Fatalf("wrong key: %+v %v", a, err)
	}
	time.Sleep(time.Second)
	if st := customerState(k.shot(), k.customer); st != "idle" || strings.Contains(k.log.String(), "till: sale started") {
		t.Fatalf("a request with the wrong key changed the screen (%q) or started a sale", st)
	}

	trade := k.send("trade", posclient.Trade(posclient.Number(12.34), "alipay", ref))
	k.payOnScreen("HK$12.34")
	a := k.answer(trade)
	if !a.OK() || !strings.Contains(a.Data, `"out_trade_no":"`+ref+`"`) || !strings.Contains(a.Data, `"txamt":"1234"`) {
		t.Fatalf("trade answer %+v", a)
	}
	n := k.hook.wait(t, 1)
	if !n.Paid() || n.Refund() || n.TradeNo != ref || n.LineUUID != "0f1e2d3c-4b5a-4968-8776-5a4b3c2d1e0f" || n.SysSN == "" || n.ChnlSN == "" {
		t.Fatalf("payment notice %+v", n)
	}

	// The refund waits for the manager PIN on the kiosk (demo: 0000).
	refund := k.send("cancel", posclient.Refund(n.SysSN, "2.00"))
	k.waitLog("manager PIN asked", 1)
	time.Sleep(500 * time.Millisecond)
	select {
	case a := <-refund:
		t.Fatalf("the refund was answered before the manager PIN: %+v", a)
	default:
	}
	k.typeOnCashier("0000", "Return")
	if a := k.answer(refund); !a.OK() || !strings.Contains(a.Data, `"txamt":"200"`) {
		t.Fatalf("refund answer %+v", a)
	}
	rn := k.hook.wait(t, 2)
	if !rn.Paid() || !rn.Refund() || rn.TradeNo != ref {
		t.Fatalf("refund notice %+v", rn)
	}

	// The same request replayed: shown on the kiosk again; declined there
	// (Esc), it moves nothing.
	replay := k.send("cancel", posclient.Refund(n.SysSN, "2.00"))
	k.waitLog("manager PIN asked", 2)
	k.typeOnCashier("", "Escape")
	if a := k.answer(replay); a.OK() || !strings.Contains(a.Resperr, "declined at the kiosk; nothing was refunded") {
		t.Fatalf("replayed refund answer %+v", a)
	}
	time.Sleep(500 * time.Millisecond)
	if k.hook.count() != 2 {
		t.Fatalf("%d notices after the declined replay", k.hook.count())
	}
	k.stop()
	out := k.history(t)
	if !strings.Contains(out, "1 order(s)") || strings.Count(out, "RF") != 1 {
		t.Fatalf("history after the sale, one refund and a replay:\n%s", out)
	}
}

// history is `qrkiosk history --demo` on the stopped kiosk's journal.
func (k *posKiosk) history(t *testing.T) string {
	t.Helper()
	cmd := exec.Command(k.cmd.Path, "--data", k.cmd.Args[2], "history", "--demo")
	cmd.Env = k.cmd.Env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("history: %v\n%s", err, out)
	}
	return string(out)
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func poolOf(t *testing.T, pem []byte) *x509.CertPool {
	t.Helper()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatal("no certificate in the kiosk's CA file")
	}
	return pool
}

// odooFetch is the call Odoo's pos_qfpay page makes (qfpay.js), its answer
// kept on the page for the test to read.
const odooFetch = `window.answer = undefined;
fetch(%q, {method: "POST", headers: {Accept: "application/json", "Content-Type": "application/json"}, body: JSON.stringify(%q)})
	.then(r => r.json()).then(a => { window.answer = a }, e => { window.answer = {error: String(e)} });
"sent"`

// TestPOSPageInChromiumDrivesTheRealWindow: the same sale from a POS that
// is a web page, as Odoo's is: served over HTTPS from its own origin (a
// public site, for the browser) and calling the kiosk on the local network
// with Odoo's exact fetch, in a real Chromium that trusts the kiosk's CA
// as README tells a POS machine to and whose user allowed the POS site
// local network access. The kiosk answers the preflight and the call; the
// page reads the payment's data once the customer has paid with Simulate
// payment, and the webhook gets the notice.
func TestPOSPageInChromiumDrivesTheRealWindow(t *testing.T) {
	// Debug: the LAN server logs each request's preflight headers.
	k := startPOSKiosk(t, "QRKIOSK_LOG=debug")
	posPage, posCA := servePOSPage(t)
	b := chromiumtest.Start(t, chromiumtest.Options{
		TrustCAs:    []string{k.ca, posCA},
		PublicAddrs: []string{strings.TrimPrefix(posPage, "https://")},
		LocalAddrs:  []string{strings.TrimPrefix(k.url, "https://")},
	})
	t.Logf("browser %s", b.Version())
	if err := b.GrantPermissions(posPage, "localNetwork"); err != nil {
		t.Fatal(err)
	}
	p := b.NewPage()
	if err := p.Navigate(posPage + "/pos/ui"); err != nil {
		t.Fatal(err)
	}
	const ref = "9d2b7a1e-3c4f-4e5a-8b6c-7d8e9f0a1b2c--3--5"
	body, err := posclient.Trade(posclient.Number(8.8), "wx", ref).Body(xPOSKey)
	if err != nil {
		t.Fatal(err)
	}
	var sent string
	if err := p.Eval(fmt.Sprintf(odooFetch, k.url+"/api/pos/trade", strings.Trim(string(body), `"`)), &sent); err != nil || sent != "sent" {
		t.Fatalf("fetch: %v", err)
	}
	k.payOnScreen("HK$8.80")
	var answer map[string]any
	deadline := time.Now().Add(30 * time.Second)
	for answer == nil {
		if err := p.Eval("window.answer", &answer); err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("the page got no answer; console %q, failures %+v", p.Console(), p.NetworkFailures())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if answer["respcd"] != "6000" {
		t.Fatalf("the page read %v; console %q, failures %+v", answer, p.Console(), p.NetworkFailures())
	}
	// Odoo JSON.parses the data.
	var syssn string
	if err := p.Eval("JSON.parse(window.answer.data).syssn", &syssn); err != nil || syssn == "" {
		t.Fatalf("data %v: %v", answer["data"], err)
	}
	if n := k.hook.wait(t, 1); !n.Paid() || n.TradeNo != ref || n.SysSN != syssn {
		t.Fatalf("notice %+v", n)
	}
	if !regexp.MustCompile(`method=OPTIONS path=/api/pos/trade .*Origin=`+regexp.QuoteMeta(posPage)).MatchString(k.log.String()) &&
		!strings.Contains(k.log.String(), "ecr: request") {
		t.Fatalf("no preflight and call seen:\n%s", k.log.String())
	}
}

// servePOSPage serves a page standing for Odoo's POS over HTTPS from its
// own origin, with a certificate of its own CA; it returns the origin and
// that CA's file.
func servePOSPage(t *testing.T) (origin, caFile string) {
	t.Helper()
	certs, err := lan.EnsureCerts(t.TempDir(), time.Now(), lan.Hosts{Name: "odoo"})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{
		TLSConfig: certs.TLSConfig(),
		ErrorLog:  log.New(io.Discard, "", 0),
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, "<!doctype html><title>Point of Sale</title>")
		}),
	}
	go srv.ServeTLS(ln, "", "")
	t.Cleanup(func() { srv.Close() })
	return "https://" + ln.Addr().String(), certs.CAPath
}
