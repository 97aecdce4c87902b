package setup

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"qrkiosk/internal/escpos/escpostest"
	"qrkiosk/internal/lan"
	"qrkiosk/internal/probe"
	"qrkiosk/sim/qfpaysim"
)

// clock is a test clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// logBuffer collects the page's logs.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

const (
	simApp = "SIMAPPCODE0000000000000000000001"
	simKey = "SIMKEY00000000000000000000000001"
)

// kiosk is a setup page served as the kiosk serves it: on the LAN
// server, over HTTPS with the kiosk's own CA, with a QFPay stand-in.
type kiosk struct {
	t      *testing.T
	s      *Server
	url    string
	caPath string
	path   string // config.toml
	sim    string // the stand-in's base URL
	clock  *clock
	logs   *logBuffer

	mu     sync.Mutex
	events []Event
}

func startKiosk(t *testing.T, configText string) *kiosk {
	t.Helper()
	dir := t.TempDir()
	k := &kiosk{t: t, path: filepath.Join(dir, "etc", "config.toml"), clock: &clock{now: time.Now()}, logs: &logBuffer{}}
	if configText != "" {
		os.MkdirAll(filepath.Dir(k.path), 0o755)
		if err := os.WriteFile(k.path, []byte(configText), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	sim := qfpaysim.New(qfpaysim.Config{AppCode: simApp, Key: simKey})
	simSrv := httptest.NewServer(sim)
	t.Cleanup(func() { simSrv.Close(); sim.Close() })
	k.sim = simSrv.URL

	certs, err := lan.EnsureCerts(filepath.Join(dir, "lan"), time.Now(), lan.Hosts{Name: "kiosk-1"})
	if err != nil {
		t.Fatal(err)
	}
	k.caPath = certs.CAPath
	log := slog.New(slog.NewJSONHandler(k.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	k.s = New(Options{Path: k.path, Now: k.clock.Now, Log: log, HashPIN: fakeHash,
		Probe:       probe.Options{QFPayEnvironments: map[string]string{"production": k.sim, "test": k.sim, "sandbox": k.sim}},
		Fingerprint: certs.Fingerprint,
		OnEvent: func(e Event) {
			k.mu.Lock()
			k.events = append(k.events, e)
			k.mu.Unlock()
		}})
	srv := lan.New(lan.Config{TLS: certs.TLSConfig()}, log)
	k.s.Mount(srv)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Shutdown(t.Context()) })
	k.url = "https://" + ln.Addr().String()
	return k
}

// phone is a device on the LAN that trusts the kiosk's CA, at a loopback
// address of its own (127.0.0.x: another device to the kiosk).
func (k *kiosk) phone(ip string) *http.Client {
	k.t.Helper()
	pem, err := os.ReadFile(k.caPath)
	if err != nil {
		k.t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	jar, _ := cookiejar.New(nil)
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	return &http.Client{Jar: jar, Timeout: 60 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, DialContext: dialer.DialContext}}
}

func (k *kiosk) get(c *http.Client, path string) (int, string) {
	k.t.Helper()
	resp, err := c.Get(k.url + path)
	if err != nil {
		k.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// post sends a body as the page's script does (same origin).
func (k *kiosk) post(c *http.Client, path, contentType string, body []byte, hdr ...string) (*http.Response, string) {
	k.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, k.url+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Origin", k.url)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		k.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func (k *kiosk) unlock(c *http.Client, code string) (*http.Response, string) {
	return k.post(c, "/setup/unlock", "application/x-www-form-urlencoded", []byte(url.Values{"code": {code}}.Encode()))
}

func (k *kiosk) postJSON(c *http.Client, path string, v any) (int, map[string]any) {
	k.t.Helper()
	b, _ := json.Marshal(v)
	resp, body := k.post(c, path, "application/json", b)
	var out map[string]any
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		k.t.Fatalf("%s answered %d %q", path, resp.StatusCode, body)
	}
	return resp.StatusCode, out
}

func (k *kiosk) eventKinds() []EventKind {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []EventKind
	for _, e := range k.events {
		out = append(out, e.Kind)
	}
	return out
}

// wrongCode is a code that is not the one showing.
func wrongCode(code string) string {
	if code == "000000" {
		return "000001"
	}
	return "000000"
}

var routes = []struct{ method, path string }{
	{"GET", "/setup/"}, {"GET", "/setup/setup.js"}, {"GET", "/setup/setup.css"}, {"GET", "/setup/api/settings"},
	{"POST", "/setup/unlock"}, {"POST", "/setup/api/test"}, {"POST", "/setup/api/save"}, {"POST", "/setup/api/logo"}, {"POST", "/setup/api/end"},
}

// Off, the page is not there at all: every route answers 404, as for any
// path the kiosk does not serve.
func TestOffServesNothing(t *testing.T) {
	k := startKiosk(t, "")
	c := k.phone("127.0.0.2")
	for _, r := range routes {
		req, _ := http.NewRequest(r.method, k.url+r.path, strings.NewReader("code=123456"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s %s: %d while the page is off", r.method, r.path, resp.StatusCode)
		}
	}
}

// Before the code, only the form that asks for it (and its style) is
// served: no script, no settings, no API.
func TestNothingBeforeTheCode(t *testing.T) {
	k := startKiosk(t, "[qfpay]\nappcode = \"APPX\"\nkey = \"SECRETKEY1\"\n")
	k.s.Open()
	c := k.phone("127.0.0.2")
	status, body := k.get(c, "/setup/")
	if status != 200 || !strings.Contains(body, `action="/setup/unlock"`) || strings.Contains(body, "setup.js") || strings.Contains(body, "APPX") {
		t.Fatalf("before the code: %d %s", status, body)
	}
	for _, path := range []string{"/setup/setup.js"} {
		if status, _ := k.get(c, path); status != http.StatusNotFound {
			t.Errorf("%s: %d before the code", path, status)
		}
	}
	if status, _ := k.get(c, "/setup/setup.css"); status != 200 {
		t.Errorf("the form's style: %d", status)
	}
	for _, p := range []string{"/setup/api/settings"} {
		if status, body := k.get(c, p); status != http.StatusUnauthorized || strings.Contains(body, "APPX") {
			t.Errorf("%s: %d %s", p, status, body)
		}
	}
	for _, p := range []string{"/setup/api/test", "/setup/api/save", "/setup/api/end"} {
		if status, _ := k.postJSON(c, p, map[string]any{"values": map[string]string{}}); status != http.StatusUnauthorized {
			t.Errorf("%s: %d before the code", p, status)
		}
	}
}

// The code is checked with tries counted: each wrong one says how many
// are left, the fifth burns the code (the kiosk is told and must show a
// new one), and then even the right code is refused.
func TestWrongCodes(t *testing.T) {
	k := startKiosk(t, "")
	code, _ := k.s.Open()
	c := k.phone("127.0.0.2")
	for left := 4; left >= 1; left-- {
		resp, body := k.unlock(c, wrongCode(code))
		word := "tries"
		if left == 1 {
			word = "try"
		}
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "Wrong code: "+string(rune('0'+left))+" "+word+" left.") {
			t.Fatalf("wrong code with %d left: %d %s", left, resp.StatusCode, body)
		}
	}
	resp, body := k.unlock(c, wrongCode(code))
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "Too many wrong") {
		t.Fatalf("fifth wrong code: %d %s", resp.StatusCode, body)
	}
	if resp, _ := k.unlock(c, code); resp.StatusCode < 400 || len(resp.Cookies()) != 0 {
		t.Fatalf("the right code after the code was burnt: %d", resp.StatusCode)
	}
	if kinds := k.eventKinds(); len(kinds) == 0 || kinds[len(kinds)-1] != EventCodeBurnt {
		t.Errorf("the kiosk was told %v, want the code burnt", kinds)
	}
	// A new code works again for a device that was not locked out.
	code, _ = k.s.Open()
	if resp, _ := k.unlock(k.phone("127.0.0.3"), code); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("a new code: %d", resp.StatusCode)
	}
}

// The right code opens one session: its cookie is HttpOnly, Secure,
// SameSite=Strict, for this host only, and ends with the code. The code
// is used up: a second phone cannot get in with it.
func TestUnlockSession(t *testing.T) {
	k := startKiosk(t, "merchant_name = \"Shop\"\n[qfpay]\nappcode = \"APPX\"\nkey = \"SECRETKEY1\"\n")
	code, until := k.s.Open()
	c := k.phone("127.0.0.2")
	resp, _ := k.unlock(c, code[:3]+" "+code[3:])
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/setup/" {
		t.Fatalf("unlock: %d %v", resp.StatusCode, resp.Header)
	}
	sc := resp.Header.Get("Set-Cookie")
	for _, want := range []string{cookieName + "=", "Path=/", "HttpOnly", "Secure", "SameSite=Strict", "Max-Age="} {
		if !strings.Contains(sc, want) {
			t.Errorf("cookie %q lacks %s", sc, want)
		}
	}
	if strings.Contains(sc, "Domain=") {
		t.Errorf("cookie %q names a domain", sc)
	}
	if ck := resp.Cookies()[0]; ck.MaxAge > int(time.Until(until)/time.Second)+1 || ck.MaxAge < 590 {
		t.Errorf("cookie lives %d s, want the code's remaining lifetime", ck.MaxAge)
	}
	status, body := k.get(c, "/setup/")
	if status != 200 || !strings.Contains(body, "/setup/setup.js") {
		t.Fatalf("the page after the code: %d %s", status, body)
	}
	status, body = k.get(c, "/setup/api/settings")
	if status != 200 || !strings.Contains(body, `"merchant_name":"Shop"`) || !strings.Contains(body, `"qfpay.key":true`) {
		t.Fatalf("settings: %d %s", status, body)
	}
	if strings.Contains(body, "SECRETKEY1") {
		t.Fatal("the key was sent to the phone")
	}
	if kinds := k.eventKinds(); len(kinds) != 1 || kinds[0] != EventUnlocked {
		t.Errorf("events %v", kinds)
	}
	other := k.phone("127.0.0.3")
	if resp, _ := k.unlock(other, code); resp.StatusCode != http.StatusForbidden {
		t.Errorf("the used code let a second phone in: %d", resp.StatusCode)
	}

	// The cookie is the phone's alone: from another address it is nobody's.
	u, _ := url.Parse(k.url)
	other.Jar.SetCookies(u, c.Jar.Cookies(u))
	if status, _ := k.get(other, "/setup/api/settings"); status != http.StatusUnauthorized {
		t.Errorf("the cookie from another device: %d", status)
	}
	// Another site's page cannot use the phone's session.
	resp, _ = k.post(c, "/setup/api/save", "application/json", []byte(`{"values":{}}`), "Origin", "https://evil.example")
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("a cross-site save: %d", resp.StatusCode)
	}
	resp, _ = k.post(c, "/setup/api/end", "application/json", []byte(`{}`), "Origin", "", "Sec-Fetch-Site", "cross-site")
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("a cross-site call: %d", resp.StatusCode)
	}

	// When the code's time is up the page is off, session and all.
	k.clock.advance(10*time.Minute + time.Second)
	if status, _ := k.get(c, "/setup/api/settings"); status != http.StatusNotFound {
		t.Errorf("after the code's lifetime: %d", status)
	}
}

// Closing the kiosk's dialog ends the session at once.
func TestCloseEndsTheSession(t *testing.T) {
	k := startKiosk(t, "")
	code, _ := k.s.Open()
	c := k.phone("127.0.0.2")
	k.unlock(c, code)
	k.s.Close()
	if status, _ := k.get(c, "/setup/api/settings"); status != http.StatusNotFound {
		t.Errorf("after Close: %d", status)
	}
	k.s.Open()
	if status, _ := k.get(c, "/setup/api/settings"); status != http.StatusUnauthorized {
		t.Errorf("the old cookie under a new code: %d", status)
	}
}

// unlocked is a phone past the code.
func (k *kiosk) unlocked() *http.Client {
	k.t.Helper()
	code, _ := k.s.Open()
	c := k.phone("127.0.0.2")
	if resp, _ := k.unlock(c, code); resp.StatusCode != http.StatusSeeOther {
		k.t.Fatalf("unlock: %d", resp.StatusCode)
	}
	return c
}

func gatewayValues(base, app, key string) map[string]string {
	return map[string]string{"gateway": "qfpay", "qfpay.env": "production", "qfpay.base_url": base, "qfpay.appcode": app, "qfpay.key": key}
}

func firstTest(t *testing.T, out map[string]any) map[string]any {
	t.Helper()
	tests, _ := out["tests"].([]any)
	if len(tests) == 0 {
		t.Fatalf("no test result in %v", out)
	}
	return tests[0].(map[string]any)
}

// Test proves the gateway settings typed, before anything is kept: a
// wrong key is said to be a wrong key.
func TestTestGateway(t *testing.T) {
	k := startKiosk(t, "")
	c := k.unlocked()
	status, out := k.postJSON(c, "/setup/api/test", map[string]any{"part": "gateway", "values": gatewayValues(k.sim, simApp, "WRONGKEY")})
	r := firstTest(t, out)
	if status != 200 || r["ok"] != false || r["text"] != "The QFPay key does not match the app code: the gateway refused the signature (1108)." || r["field"] != "qfpay.key" {
		t.Fatalf("wrong key: %d %v", status, out)
	}
	status, out = k.postJSON(c, "/setup/api/test", map[string]any{"part": "gateway", "values": gatewayValues(k.sim, simApp, simKey)})
	if r := firstTest(t, out); status != 200 || r["ok"] != true {
		t.Fatalf("right key: %d %v", status, out)
	}
	// A value refused by its rule is named before anything is tested.
	status, out = k.postJSON(c, "/setup/api/test", map[string]any{"part": "gateway", "values": map[string]string{"qfpay.env": "staging"}})
	if status != http.StatusUnprocessableEntity || !strings.Contains(toJSON(out), "qfpay.env") {
		t.Fatalf("a refused value: %d %v", status, out)
	}
	if _, err := os.Stat(k.path); !os.IsNotExist(err) {
		t.Error("a test wrote the file")
	}
	if strings.Contains(k.logs.String(), "WRONGKEY") || strings.Contains(k.logs.String(), simKey) {
		t.Error("a key reached the log")
	}
}

func toJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// Save keeps nothing that does not work: a wrong key is refused with the
// gateway's sentence and the file is untouched; fixed, it is written and
// the kiosk is told, and the page ends.
func TestSave(t *testing.T) {
	old := "merchant_name = \"Old\"\n"
	k := startKiosk(t, old)
	c := k.unlocked()
	values := gatewayValues(k.sim, simApp, "WRONGKEY")
	values["merchant_name"] = "New Shop"
	values["manager_pin_hash"] = "2468"
	status, out := k.postJSON(c, "/setup/api/save", map[string]any{"values": values})
	if status != http.StatusConflict || firstTest(t, out)["field"] != "qfpay.key" {
		t.Fatalf("save with a wrong key: %d %v", status, out)
	}
	if b, _ := os.ReadFile(k.path); string(b) != old {
		t.Fatalf("a refused save changed the file: %q", b)
	}
	values["qfpay.key"] = simKey
	status, out = k.postJSON(c, "/setup/api/save", map[string]any{"values": values})
	if status != 200 || out["ok"] != true || out["demo"] == true {
		t.Fatalf("save: %d %v", status, out)
	}
	b, _ := os.ReadFile(k.path)
	for _, want := range []string{`merchant_name = "New Shop"`, `key = "` + simKey + `"`, `manager_pin_hash = "pbkdf2-sha256$1$`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("the file lacks %s:\n%s", want, b)
		}
	}
	if bak, _ := os.ReadFile(k.path + ".bak"); string(bak) != old {
		t.Errorf("backup %q", bak)
	}
	k.mu.Lock()
	last := k.events[len(k.events)-1]
	k.mu.Unlock()
	if last.Kind != EventSaved || last.Config.Demo() || last.Config.MerchantName != "New Shop" {
		t.Errorf("the kiosk was told %+v", last)
	}
	if status, _ := k.get(c, "/setup/api/settings"); status != http.StatusNotFound {
		t.Errorf("the page after saving: %d", status)
	}
	logs := k.logs.String()
	for _, secret := range []string{simKey, "WRONGKEY", "2468", "pbkdf2"} {
		if strings.Contains(logs, secret) {
			t.Errorf("%q reached the log", secret)
		}
	}
	if !strings.Contains(logs, `"changed":["qfpay.appcode","qfpay.key","qfpay.base_url","merchant_name","manager_pin_hash"]`) && !strings.Contains(logs, `"msg":"setup: saved"`) {
		t.Errorf("the save is not logged:\n%s", logs)
	}
}

// A save refused by config check names each setting and changes nothing;
// "Save anyway" keeps settings a test failed, the owner's choice.
func TestSaveRefusedAndForced(t *testing.T) {
	k := startKiosk(t, "")
	c := k.unlocked()
	status, out := k.postJSON(c, "/setup/api/save", map[string]any{"values": map[string]string{"qfpay.appcode": "ONLYAPP", "relay_url": "http://relay"}})
	if status != http.StatusUnprocessableEntity || !strings.Contains(toJSON(out), `"key":"relay_url"`) {
		t.Fatalf("invalid save: %d %v", status, out)
	}
	if _, err := os.Stat(k.path); !os.IsNotExist(err) {
		t.Fatal("a refused save wrote the file")
	}
	status, out = k.postJSON(c, "/setup/api/save", map[string]any{"values": gatewayValues(k.sim, simApp, "WRONGKEY"), "force": true})
	if status != 200 {
		t.Fatalf("forced save: %d %v", status, out)
	}
	if fi, err := os.Stat(k.path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("saved file: %v %v", fi, err)
	}
}

// Bodies the page would never send: refused, each with its reason.
func TestMalformedBodies(t *testing.T) {
	k := startKiosk(t, "")
	c := k.unlocked()
	for _, tc := range []struct{ ct, body string }{
		{"text/plain", `{"values":{}}`},
		{"application/json", `{"values":`},
		{"application/json", `{"values":{},"admin":true}`},
		{"application/json", `{"values":{}}{"values":{}}`},
		{"application/json", `{"part":"gateway","values":{"merchant_name":7}}`},
	} {
		resp, body := k.post(c, "/setup/api/test", tc.ct, []byte(tc.body))
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "error") {
			t.Errorf("%s %q: %d %s", tc.ct, tc.body, resp.StatusCode, body)
		}
	}
	resp, _ := k.post(c, "/setup/api/save", "application/json", bytes.Repeat([]byte("a"), 64<<10))
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("an oversized body: %d", resp.StatusCode)
	}
}

// A flood of codes from one device meets the route's rate limit before
// the code's own tries run out for anyone else.
func TestUnlockFlood(t *testing.T) {
	k := startKiosk(t, "")
	k.s.Open()
	c := k.phone("127.0.0.2")
	limited := 0
	for range 12 {
		resp, _ := k.unlock(c, "999999")
		if resp.StatusCode == http.StatusTooManyRequests {
			limited++
		}
	}
	if limited == 0 {
		t.Fatal("12 codes in a row were all checked")
	}
}

// "Print a test slip" prints on the printer typed, before it is kept.
func TestTestPrinter(t *testing.T) {
	if _, ok := field("printer.address"); !ok {
		t.Skip("config.File has no [printer] table on this branch")
	}
	k := startKiosk(t, "")
	c := k.unlocked()
	p := escpostest.Start(t)
	status, out := k.postJSON(c, "/setup/api/test", map[string]any{"part": "printer", "values": map[string]string{"printer.address": p.Addr(), "printer.width_mm": "58"}})
	if r := firstTest(t, out); status != 200 || r["ok"] != true {
		t.Fatalf("%d %v", status, out)
	}
	if job := p.Next(t, 5*time.Second); len(job) == 0 {
		t.Fatal("nothing printed")
	}
}

// A save whose tests outlast the page (the kiosk closed it meanwhile, or
// its code ran out) writes nothing: the owner's session is over.
func TestSaveAfterThePageClosedWritesNothing(t *testing.T) {
	k := startKiosk(t, "")
	reached, release := make(chan struct{}, 1), make(chan struct{})
	sim, _ := url.Parse(k.sim)
	proxy := httputil.NewSingleHostReverseProxy(sim)
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case reached <- struct{}{}:
		default:
		}
		<-release
		proxy.ServeHTTP(w, r)
	}))
	defer slow.Close()
	c := k.unlocked()
	done := make(chan int, 1)
	go func() {
		status, _ := k.postJSON(c, "/setup/api/save", map[string]any{"values": gatewayValues(slow.URL, simApp, simKey)})
		done <- status
	}()
	<-reached // the save is testing the gateway
	k.s.Close()
	close(release)
	if status := <-done; status != http.StatusForbidden {
		t.Errorf("the save answered %d after the page closed", status)
	}
	if _, err := os.Stat(k.path); !os.IsNotExist(err) {
		t.Fatal("a save after the page closed wrote config.toml")
	}
	for _, e := range k.eventKinds() {
		if e == EventSaved {
			t.Fatal("the kiosk was told of a save")
		}
	}
}
