package lan

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// logLines collects JSON log records.
type logLines struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// records are the logged records whose message is msg.
func (l *logLines) records(msg string) []map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.buf.String()), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

type testServer struct {
	*Server
	URL    string
	Client *http.Client
	Certs  *Certs
	Log    *logLines
	Clock  *clock
}

// startServer serves s on 127.0.0.1 with the test CA; routes adds the
// routes. Its client trusts ca.crt alone, as a POS does.
func startServer(t *testing.T, cfg Config, routes func(*Server)) *testServer {
	t.Helper()
	return serveWith(t, ensure(t, t.TempDir(), time.Now(), Hosts{Name: "kiosk-1"}), cfg, routes)
}

// serveWith is startServer with the certificates given.
func serveWith(t *testing.T, certs *Certs, cfg Config, routes func(*Server)) *testServer {
	t.Helper()
	cfg.TLS = certs.TLSConfig()
	clk := &clock{now: t0}
	if cfg.Now == nil {
		cfg.Now = clk.Now
	}
	logs := &logLines{}
	s := New(cfg, slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	routes(s)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s.Shutdown(ctx)
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	})
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: caPool(t, certs)}}
	t.Cleanup(tr.CloseIdleConnections)
	return &testServer{Server: s, URL: "https://" + ln.Addr().String(), Client: &http.Client{Transport: tr}, Certs: certs, Log: logs, Clock: clk}
}

func (ts *testServer) do(t *testing.T, method, path string, body io.Reader, header http.Header) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, ts.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := ts.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

var ok = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, `{"respcd":"0000"}`)
})

func TestEveryAnswerCarriesSecurityHeaders(t *testing.T) {
	ts := startServer(t, Config{}, func(s *Server) {
		s.Handle("POST /api/pos/{endpoint}", ok, Route{CrossOrigin: true})
		s.Handle("GET /setup/", ok, Route{Page: true})
		s.Handle("GET /display/app.js", ok, Route{Cache: time.Hour})
	})
	for _, tc := range []struct {
		method, path      string
		status            int
		cacheControl, csp string
	}{
		{"POST", "/api/pos/trade", 200, "no-store", ""},
		{"GET", "/setup/", 200, "no-store", PageCSP},
		{"GET", "/display/app.js", 200, "max-age=3600", ""},
		{"GET", "/nothing-here", 404, "no-store", ""},
	} {
		resp := ts.do(t, tc.method, tc.path, nil, nil)
		h := resp.Header
		if resp.StatusCode != tc.status || h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "no-referrer" ||
			h.Get("Cache-Control") != tc.cacheControl || h.Get("Content-Security-Policy") != tc.csp {
			t.Errorf("%s %s: %d %v", tc.method, tc.path, resp.StatusCode, h)
		}
	}
}

func TestBodyCap(t *testing.T) {
	var reached atomic.Int32
	echoLen := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
		if _, err := io.ReadAll(r.Body); err != nil {
			http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
		}
	})
	ts := startServer(t, Config{}, func(s *Server) { s.Handle("POST /api/pos/{endpoint}", echoLen, Route{MaxBody: 100}) })

	if resp := ts.do(t, "POST", "/api/pos/trade", strings.NewReader(strings.Repeat("a", 100)), nil); resp.StatusCode != 200 {
		t.Errorf("a body at the cap: %d", resp.StatusCode)
	}
	// Content-Length over the cap: refused before the handler runs.
	reached.Store(0)
	if resp := ts.do(t, "POST", "/api/pos/trade", strings.NewReader(strings.Repeat("a", 101)), nil); resp.StatusCode != 413 || reached.Load() != 0 {
		t.Errorf("a body over the cap: %d, handler ran %d times", resp.StatusCode, reached.Load())
	}
	// Chunked, no length to refuse up front: the handler's read stops at the cap.
	chunked := io.MultiReader(strings.NewReader(strings.Repeat("a", 5000)))
	if resp := ts.do(t, "POST", "/api/pos/trade", chunked, nil); resp.StatusCode != 413 {
		t.Errorf("a chunked body over the cap: %d", resp.StatusCode)
	}
	if n := len(ts.Log.records("lan: refused")); n != 2 {
		t.Errorf("%d refusals logged, want both oversized bodies", n)
	}
}

func TestRateLimitPerSource(t *testing.T) {
	ts := startServer(t, Config{}, func(s *Server) {
		s.Handle("POST /api/pos/{endpoint}", ok, Route{Rate: 1, Burst: 3, CrossOrigin: true})
		s.Handle("GET /setup/", ok, Route{Rate: 1, Burst: 3})
	})
	for i := range 3 {
		if resp := ts.do(t, "POST", "/api/pos/trade", nil, nil); resp.StatusCode != 200 {
			t.Fatalf("request %d of the burst: %d", i+1, resp.StatusCode)
		}
	}
	resp := ts.do(t, "POST", "/api/pos/trade", nil, http.Header{"Origin": {"https://odoo.example"}})
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "1" || !resp.Close ||
		resp.Header.Get("Access-Control-Allow-Origin") != "https://odoo.example" {
		t.Errorf("over the burst: %d Retry-After %q close %v %v", resp.StatusCode, resp.Header.Get("Retry-After"), resp.Close, resp.Header)
	}
	// Each route has its own budget.
	if resp := ts.do(t, "GET", "/setup/", nil, nil); resp.StatusCode != 200 {
		t.Errorf("another route: %d", resp.StatusCode)
	}
	ts.Clock.Add(time.Second)
	if resp := ts.do(t, "POST", "/api/pos/trade", nil, nil); resp.StatusCode != 200 {
		t.Errorf("a second later: %d", resp.StatusCode)
	}
}

func TestLimiterSourcesAreSeparateAndBounded(t *testing.T) {
	l := newLimiter(1, 1)
	a, b := netip.MustParseAddr("192.168.1.5"), netip.MustParseAddr("192.168.1.6")
	if ok, _ := l.allow(a, t0); !ok {
		t.Fatal("first request refused")
	}
	if ok, wait := l.allow(a, t0); ok || wait != time.Second {
		t.Errorf("a again: allowed %v, wait %v", ok, wait)
	}
	if ok, _ := l.allow(b, t0); !ok {
		t.Error("another device paid for the first one's requests")
	}
	for i := range 3 * maxSources {
		ip := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		l.allow(ip, t0)
	}
	if n := len(l.sources); n > maxSources {
		t.Errorf("%d sources remembered, want at most %d", n, maxSources)
	}
}

func TestRefusalsAreLoggedSampled(t *testing.T) {
	ts := startServer(t, Config{LogEvery: time.Minute}, func(s *Server) {
		s.Handle("GET /setup/", ok, Route{Rate: 1, Burst: 1})
	})
	for range 21 {
		ts.do(t, "GET", "/setup/", nil, nil)
	}
	if n := len(ts.Log.records("lan: refused")); n != sampleFirst {
		t.Fatalf("%d refusals logged in full, want the first %d", n, sampleFirst)
	}
	if n := len(ts.Log.records("lan: more refusals not logged")); n != 0 {
		t.Fatalf("a count logged before the minute ended")
	}
	ts.Clock.Add(time.Minute)
	ts.do(t, "GET", "/setup/", nil, nil) // allowed: the bucket refilled
	ts.do(t, "GET", "/setup/", nil, nil)
	counts := ts.Log.records("lan: more refusals not logged")
	if len(counts) != 1 || counts[0]["count"] != float64(20-sampleFirst) || counts[0]["reason"] != "rate limit" {
		t.Fatalf("count lines %v, want one of %d rate limits", counts, 20-sampleFirst)
	}
	if n := len(ts.Log.records("lan: refused")); n != sampleFirst+1 {
		t.Errorf("%d refusals logged in full, want %d (a new minute)", n, sampleFirst+1)
	}
	// Nothing the caller sent besides method and path is logged.
	for _, r := range ts.Log.records("lan: refused") {
		if r["path"] != "/setup/" || r["source"] != "127.0.0.1" {
			t.Errorf("record %v", r)
		}
	}
}

func TestCORSPreflight(t *testing.T) {
	ts := startServer(t, Config{}, func(s *Server) {
		s.Handle("POST /api/pos/{endpoint}", ok, Route{CrossOrigin: true})
		s.Handle("POST /setup/pair", ok, Route{})
	})
	origin := "https://odoo.shop.example"
	pre := http.Header{"Origin": {origin}, "Access-Control-Request-Method": {"POST"}, "Access-Control-Request-Headers": {"content-type"}}

	resp := ts.do(t, "OPTIONS", "/api/pos/trade", nil, pre)
	h := resp.Header
	if resp.StatusCode != 204 || h.Get("Access-Control-Allow-Origin") != origin || h.Get("Access-Control-Allow-Methods") != "POST, OPTIONS" ||
		h.Get("Access-Control-Allow-Headers") != "Content-Type, Accept" || h.Get("Access-Control-Max-Age") != "600" ||
		!strings.Contains(strings.Join(h.Values("Vary"), ","), "Origin") {
		t.Errorf("preflight: %d %v", resp.StatusCode, h)
	}
	if h.Get("Access-Control-Allow-Private-Network") != "" {
		t.Error("Private Network Access allowed without being asked")
	}

	pna := pre.Clone()
	pna.Set("Access-Control-Request-Private-Network", "true")
	if resp := ts.do(t, "OPTIONS", "/api/pos/trade", nil, pna); resp.Header.Get("Access-Control-Allow-Private-Network") != "true" {
		t.Errorf("Private Network Access preflight: %v", resp.Header)
	}

	post := ts.do(t, "POST", "/api/pos/trade", strings.NewReader(`"x"`), http.Header{"Origin": {origin}, "Content-Type": {"application/json"}})
	if post.StatusCode != 200 || post.Header.Get("Access-Control-Allow-Origin") != origin || post.Header.Get("Vary") != "Origin" {
		t.Errorf("the call: %d %v", post.StatusCode, post.Header)
	}

	// An OPTIONS that is no preflight gets no CORS answer.
	if resp := ts.do(t, "OPTIONS", "/api/pos/trade", nil, nil); resp.StatusCode != 405 || resp.Header.Get("Allow") != "POST, OPTIONS" {
		t.Errorf("a bare OPTIONS: %d %v", resp.StatusCode, resp.Header)
	}
	// Routes not marked cross-origin stay closed to other origins.
	resp = ts.do(t, "OPTIONS", "/setup/pair", nil, pre)
	if resp.StatusCode == 204 || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("a same-origin route answered a preflight: %d %v", resp.StatusCode, resp.Header)
	}
	if resp := ts.do(t, "POST", "/setup/pair", nil, http.Header{"Origin": {origin}}); resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("a same-origin route let another origin read it: %v", resp.Header)
	}
	// The preflight is in the debug log with what the browser asked.
	var found bool
	for _, r := range ts.Log.records("lan: request") {
		if r["method"] == "OPTIONS" && r["Access-Control-Request-Private-Network"] == "true" && r["Origin"] == origin {
			found = true
		}
	}
	if !found {
		t.Error("the preflight is not in the debug log")
	}
}

func TestConnectionCap(t *testing.T) {
	ts := startServer(t, Config{MaxConns: 2}, func(s *Server) { s.Handle("GET /setup/", ok, Route{}) })
	addr := strings.TrimPrefix(ts.URL, "https://")
	cfg := &tls.Config{RootCAs: caPool(t, ts.Certs), ServerName: "127.0.0.1"}
	var open []*tls.Conn
	for range 2 {
		c, err := tls.Dial("tcp", addr, cfg)
		if err != nil {
			t.Fatalf("connection under the cap: %v", err)
		}
		open = append(open, c)
	}
	if c, err := tls.Dial("tcp", addr, cfg); err == nil {
		c.Close()
		t.Fatal("a third connection was served")
	}
	if len(ts.Log.records("lan: refused")) != 1 {
		t.Error("the refused connection was not logged")
	}
	open[0].Close()
	// The server sees the close when it reads it; then a place is free.
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := tls.Dial("tcp", addr, cfg)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no connection accepted after one closed")
		}
		time.Sleep(20 * time.Millisecond)
	}
	open[1].Close()
}

func TestSlowClientsAreDropped(t *testing.T) {
	ts := startServer(t, Config{ReadHeaderTimeout: 200 * time.Millisecond, MaxHeaderBytes: 4 << 10}, func(s *Server) { s.Handle("GET /setup/", ok, Route{}) })
	addr := strings.TrimPrefix(ts.URL, "https://")
	cfg := &tls.Config{RootCAs: caPool(t, ts.Certs), ServerName: "127.0.0.1"}

	c, err := tls.Dial("tcp", addr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "GET /setup/ HTTP/1.1\r\nHost: x\r\n") // and never the blank line
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err == nil || isTimeout(err) {
		t.Fatalf("a client trickling its headers was kept: %v", err)
	}

	resp := ts.do(t, "GET", "/setup/", nil, http.Header{"X-Big": {strings.Repeat("a", 8<<10)}})
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("oversized headers: %d", resp.StatusCode)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// Shutdown closes websockets, which http.Server.Shutdown leaves open, and
// waits for their handlers.
func TestShutdownClosesWebsockets(t *testing.T) {
	handlerDone := make(chan struct{})
	up := websocket.Upgrader{}
	ws := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(handlerDone)
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		c.WriteMessage(websocket.TextMessage, []byte("hello"))
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				return
			}
		}
	})
	ts := startServer(t, Config{}, func(s *Server) { s.Handle("GET /display/ws", ws, Route{}) })
	d := websocket.Dialer{TLSClientConfig: &tls.Config{RootCAs: caPool(t, ts.Certs)}}
	conn, _, err := d.Dial("wss"+strings.TrimPrefix(ts.URL, "https")+"/display/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, msg, err := conn.ReadMessage(); err != nil || string(msg) != "hello" {
		t.Fatalf("%q %v", msg, err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := ts.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	select {
	case <-handlerDone:
	default:
		t.Error("Shutdown returned with the websocket handler still running")
	}
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, _, err := conn.ReadMessage(); err == nil || isTimeout(err) {
		t.Errorf("the display's websocket stayed open: %v", err)
	}
}

func TestServeNeedsTLS(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	err = New(Config{}, slog.New(slog.DiscardHandler)).Serve(ln)
	if err == nil || !strings.Contains(err.Error(), "TLS") {
		t.Errorf("got %v", err)
	}
}
