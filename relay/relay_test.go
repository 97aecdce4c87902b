package relay

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"

	"qrkiosk/relay/internal/storesql"
	"qrkiosk/relay/internal/storetest"
	"qrkiosk/relay/prommetrics"
	"qrkiosk/relay/relayclient"
	"qrkiosk/relay/sqlitestore"
	"qrkiosk/relay/store"
	"qrkiosk/relay/wire"
)

const (
	testKey   = "k3y-for-tests-only"
	testToken = "kiosk-token"
)

// md5Sign computes X-QF-SIGN independently of the code under test.
func md5Sign(body []byte, key string) string {
	sum := md5.Sum(append(append([]byte{}, body...), key...))
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

func notifBody(kind, syssn, otn, udid string) []byte {
	return fmt.Appendf(nil, `{"notify_type":%q,"status":"1","respcd":"0000","syssn":%q,"out_trade_no":%q,`+
		`"txamt":"1500","txcurrcd":"HKD","pay_type":"800101","udid":%q,"sysdtm":"2025-01-02 10:00:00"}`,
		kind, syssn, otn, udid)
}

type testRelay struct {
	s    *Server
	hs   *http.Server
	addr string
	dir  string
}

// sqliteAt opens the journal in dir for a server, which owns it from
// then on.
func sqliteAt(t testing.TB, dir string) store.Store {
	t.Helper()
	st, err := sqlitestore.Open(dir, sqlitestore.Options{Lock: true})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// startRelay starts a relay on the SQLite journal in dir, or, with dir
// "", on the store mod sets.
func startRelay(t *testing.T, dir, addr string, mod func(*Config)) *testRelay {
	t.Helper()
	cfg := Config{Key: testKey, Token: testToken, Metrics: prommetrics.New()}
	if dir != "" {
		cfg.Store = sqliteAt(t, dir)
	}
	if mod != nil {
		mod(&cfg)
	}
	s, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var ln net.Listener
	for i := 0; ; i++ { // re-listening on a just-freed port can race briefly
		ln, err = net.Listen("tcp", addr)
		if err == nil || i == 50 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	tr := &testRelay{s: s, hs: &http.Server{Handler: s.Handler(), ReadTimeout: 10 * time.Second}, addr: ln.Addr().String(), dir: dir}
	go tr.hs.Serve(ln)
	t.Cleanup(tr.stop)
	return tr
}

func (tr *testRelay) stop() {
	tr.hs.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	tr.s.Shutdown(ctx)
}

func (tr *testRelay) url(path string) string { return "http://" + tr.addr + path }
func (tr *testRelay) wsURL() string          { return "ws://" + tr.addr + "/ws" }

func post(t *testing.T, c *http.Client, url string, body []byte, hdr map[string]string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Error(err)
		return 0, ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func postSigned(t *testing.T, tr *testRelay, body []byte) {
	t.Helper()
	code, got := post(t, http.DefaultClient, tr.url("/notify/qfpay"), body, map[string]string{"X-QF-SIGN": md5Sign(body, testKey)})
	if code != 200 || got != "SUCCESS" {
		t.Fatalf("signed notification: %d %q, want 200 SUCCESS", code, got)
	}
}

// kiosk is a bare websocket client speaking the protocol by hand.
type kiosk struct {
	t  *testing.T
	ws *websocket.Conn
}

func dialKiosk(t *testing.T, tr *testRelay, dial *websocket.Dialer) *kiosk {
	t.Helper()
	if dial == nil {
		dial = websocket.DefaultDialer
	}
	ws, _, err := dial.Dial(tr.wsURL(), http.Header{"Authorization": {"Bearer " + testToken}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	return &kiosk{t: t, ws: ws}
}

func (k *kiosk) send(typ, otn, udid string) {
	k.t.Helper()
	if err := k.ws.WriteJSON(wire.KioskFrame{Type: typ, OutTradeNo: otn, UDID: udid}); err != nil {
		k.t.Fatal(err)
	}
}

func (k *kiosk) next(timeout time.Duration) (wire.RelayFrame, error) {
	k.ws.SetReadDeadline(time.Now().Add(timeout))
	var m wire.RelayFrame
	_, data, err := k.ws.ReadMessage()
	if err != nil {
		return m, err
	}
	return m, json.Unmarshal(data, &m)
}

// subscribe sends a subscription and returns what was replayed before the ack.
func (k *kiosk) subscribe(otn, udid string) []wire.RelayFrame {
	k.t.Helper()
	k.send(wire.TypeSubscribe, otn, udid)
	var replay []wire.RelayFrame
	for {
		m, err := k.next(5 * time.Second)
		if err != nil {
			k.t.Fatalf("waiting for ack: %v", err)
		}
		if m.Type == wire.TypeSubscribed {
			if m.Replayed == nil || *m.Replayed != len(replay) {
				k.t.Fatalf("ack says %v replayed, got %d", m.Replayed, len(replay))
			}
			return replay
		}
		replay = append(replay, m)
	}
}

func counter(t *testing.T, s *Server, result string) float64 {
	t.Helper()
	return metric(t, s, "qrkiosk_relay_notifications_total", result)
}

// metric reads a counter or gauge of s's Prometheus metrics: name's, or
// with label its series of that label value.
func metric(t *testing.T, s *Server, name, label string) float64 {
	t.Helper()
	fams, err := s.cfg.Metrics.(*prommetrics.Metrics).Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if label != "" && (len(m.GetLabel()) != 1 || m.GetLabel()[0].GetValue() != label) {
				continue
			}
			if m.GetGauge() != nil {
				return m.GetGauge().GetValue()
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0 // a series not yet created counts nothing
}

func storedCount(t *testing.T, s *Server) int64 {
	t.Helper()
	n, err := s.st.Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestForgedNotificationsAreNeitherStoredNorForwarded(t *testing.T) {
	tr := startRelay(t, t.TempDir(), "127.0.0.1:0", nil)
	k := dialKiosk(t, tr, nil)
	k.subscribe("O-1", "KIOSK-1")

	good := notifBody("payment", "S-1", "O-1", "KIOSK-1")
	var reser map[string]any
	json.Unmarshal(good, &reser)
	reserialised, _ := json.MarshalIndent(reser, "", " ")
	tampered := bytes.Replace(good, []byte(`"1500"`), []byte(`"1"`), 1)

	cases := []struct {
		name string
		body []byte
		hdr  map[string]string
		want int
	}{
		{"wrong key", good, map[string]string{"X-QF-SIGN": md5Sign(good, "not-the-key")}, 401},
		{"missing header", good, nil, 401},
		{"body changed after signing", tampered, map[string]string{"X-QF-SIGN": md5Sign(good, testKey)}, 401},
		{"JSON re-serialised", reserialised, map[string]string{"X-QF-SIGN": md5Sign(good, testKey)}, 401},
		{"lower-case signature", good, map[string]string{"X-QF-SIGN": strings.ToLower(md5Sign(good, testKey))}, 401},
		{"empty body", nil, map[string]string{"X-QF-SIGN": md5Sign(nil, testKey)}, 401},
		{"SHA256 claimed, MD5 sent", good, map[string]string{"X-QF-SIGN": md5Sign(good, testKey), "X-QF-SIGNTYPE": "SHA256"}, 401},
		{"unknown sign type", good, map[string]string{"X-QF-SIGN": md5Sign(good, testKey), "X-QF-SIGNTYPE": "CRC32"}, 401},
		{"signed but not JSON", []byte("hello"), map[string]string{"X-QF-SIGN": md5Sign([]byte("hello"), testKey)}, 400},
		{"too large", bytes.Repeat([]byte("x"), MaxNotifyBody+1), map[string]string{"X-QF-SIGN": "X"}, 413},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _ := post(t, http.DefaultClient, tr.url("/notify/qfpay"), tc.body, tc.hdr)
			if code != tc.want {
				t.Errorf("status %d, want %d", code, tc.want)
			}
		})
	}
	if n := storedCount(t, tr.s); n != 0 {
		t.Fatalf("%d forged notifications stored", n)
	}
	// The first thing the kiosk receives must be the genuine one.
	postSigned(t, tr, good)
	m, err := k.next(5 * time.Second)
	if err != nil || m.Type != wire.TypeNotification || m.SysSN != "S-1" || !bytes.Equal(m.Body, good) {
		t.Fatalf("first message %+v, %v; want the genuine notification", m, err)
	}
	if got := counter(t, tr.s, resultRejected); got != 9 {
		t.Errorf("rejected = %v, want 9", got)
	}
}

func TestConcurrentDuplicatesBroadcastOnce(t *testing.T) {
	tr := startRelay(t, t.TempDir(), "127.0.0.1:0", nil)
	k := dialKiosk(t, tr, nil)
	k.subscribe("O-dup", "")
	body := notifBody("payment", "S-dup", "O-dup", "K")
	sign := md5Sign(body, testKey)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1000}, Timeout: 20 * time.Second}
	const copies = 1000
	var wg sync.WaitGroup
	start := make(chan struct{})
	bad := make(chan string, copies)
	for range copies {
		wg.Go(func() {
			<-start
			code, got := post(t, client, tr.url("/notify/qfpay"), body, map[string]string{"X-QF-SIGN": sign})
			if code != 200 || got != "SUCCESS" {
				bad <- fmt.Sprintf("%d %q", code, got)
			}
		})
	}
	close(start)
	wg.Wait()
	close(bad)
	for b := range bad {
		t.Fatalf("a copy was answered %s", b)
	}
	m, err := k.next(5 * time.Second)
	if err != nil || m.Type != wire.TypeNotification || m.SysSN != "S-dup" {
		t.Fatalf("got %+v, %v", m, err)
	}
	if m, err := k.next(300 * time.Millisecond); err == nil {
		t.Fatalf("second broadcast: %+v", m)
	}
	if n := storedCount(t, tr.s); n != 1 {
		t.Fatalf("stored %d, want 1", n)
	}
	if d := counter(t, tr.s, resultDuplicate); d != copies-1 {
		t.Fatalf("duplicates = %v, want %d", d, copies-1)
	}
}

func TestReplayOnSubscribeAndAfterRestart(t *testing.T) {
	dir := t.TempDir()
	tr := startRelay(t, dir, "127.0.0.1:0", nil)
	pay := notifBody("payment", "S-10", "O-10", "KIOSK-A")
	refund := notifBody("refund", "S-11", "O-10", "KIOSK-A")
	postSigned(t, tr, pay)
	postSigned(t, tr, refund)
	postSigned(t, tr, notifBody("payment", "S-12", "O-other", "KIOSK-B"))

	check := func(tr *testRelay) {
		t.Helper()
		k := dialKiosk(t, tr, nil)
		replay := k.subscribe("O-10", "")
		if len(replay) != 2 || !bytes.Equal(replay[0].Body, pay) || !bytes.Equal(replay[1].Body, refund) ||
			replay[0].Sign != md5Sign(pay, testKey) || !replay[0].Replay || replay[1].NotifyType != "refund" {
			t.Fatalf("replay by out_trade_no: %+v", replay)
		}
		byUDID := k.subscribe("", "KIOSK-B")
		if len(byUDID) != 1 || byUDID[0].SysSN != "S-12" {
			t.Fatalf("replay by udid: %+v", byUDID)
		}
	}
	check(tr)
	tr.stop()
	tr2 := startRelay(t, dir, "127.0.0.1:0", nil)
	check(tr2)
	// A duplicate of a notification stored before the restart is still one.
	postSigned(t, tr2, pay)
	if n := storedCount(t, tr2.s); n != 3 {
		t.Fatalf("stored %d after restart, want 3", n)
	}
}

// A kiosk that stops reading must not delay delivery to the others, and
// is dropped once its queue fills.
func TestStalledClientDoesNotDelayOthers(t *testing.T) {
	tr := startRelay(t, t.TempDir(), "127.0.0.1:0", func(c *Config) {
		c.SendQueue = 4
		c.WriteTimeout = 500 * time.Millisecond
	})
	// A tiny receive buffer so the stalled socket's window fills quickly.
	small := &websocket.Dialer{NetDial: func(network, addr string) (net.Conn, error) {
		d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
			return rc.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		}}
		return d.Dial(network, addr)
	}}
	stalled := dialKiosk(t, tr, small)
	stalled.subscribe("", "SHOP")
	fast := dialKiosk(t, tr, nil)
	fast.subscribe("O-shared", "")

	arrived := make(chan string, 512)
	go func() {
		for {
			m, err := fast.next(10 * time.Second)
			if err != nil {
				close(arrived)
				return
			}
			arrived <- m.SysSN
		}
	}()
	pad := strings.Repeat("x", 60<<10)
	const n = 150
	var worst time.Duration
	for i := range n {
		syssn := fmt.Sprintf("S-%d", i)
		body := bytes.Replace(notifBody("payment", syssn, "O-shared", "SHOP"), []byte(`"sysdtm"`),
			[]byte(`"goods_name":"`+pad+`","sysdtm"`), 1)
		postSigned(t, tr, body)
		// The broadcast is queued before SUCCESS is sent: from here on only
		// the fast kiosk's own writer stands between it and the message.
		replied := time.Now()
		select {
		case got := <-arrived:
			if got != syssn {
				t.Fatalf("fast kiosk got %q, want %q", got, syssn)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("notification %d not delivered to the fast kiosk within 5s", i)
		}
		worst = max(worst, time.Since(replied))
	}
	t.Logf("worst reply-to-delivery with a stalled peer: %v", worst)
	if worst > time.Second {
		t.Errorf("fast kiosk delayed up to %v", worst)
	}
	if metric(t, tr.s, "qrkiosk_relay_slow_clients_dropped_total", "") < 1 {
		t.Errorf("stalled kiosk was not dropped")
	}
}

func TestWebsocketAuth(t *testing.T) {
	tr := startRelay(t, t.TempDir(), "127.0.0.1:0", nil)
	cases := []struct {
		name string
		url  string
		hdr  http.Header
		ok   bool
	}{
		{"no token", tr.wsURL(), nil, false},
		{"wrong bearer", tr.wsURL(), http.Header{"Authorization": {"Bearer nope"}}, false},
		{"basic scheme", tr.wsURL(), http.Header{"Authorization": {"Basic " + testToken}}, false},
		{"wrong query", tr.wsURL() + "?token=nope", nil, false},
		{"bearer", tr.wsURL(), http.Header{"Authorization": {"Bearer " + testToken}}, true},
		{"query", tr.wsURL() + "?token=" + testToken, nil, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ws, resp, err := websocket.DefaultDialer.Dial(tc.url, tc.hdr)
			if tc.ok {
				if err != nil {
					t.Fatal(err)
				}
				ws.Close()
				return
			}
			if err == nil {
				ws.Close()
				t.Fatal("connected without a valid token")
			}
			if resp == nil || resp.StatusCode != 401 {
				t.Fatalf("want 401 before the upgrade, got %v", resp)
			}
		})
	}
}

func TestAllowListAndProxies(t *testing.T) {
	ps, err := ParseAllowList("qfpay, 10.0.0.0/8,::1")
	if err != nil || len(ps) != 5 {
		t.Fatalf("%v %v", ps, err)
	}
	for _, bad := range []string{"qfpay,nonsense", "10.0.0.0/99"} {
		if _, err := ParseAllowList(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	s, err := NewServer(Config{Key: testKey, Token: testToken, Metrics: prommetrics.New(), Store: sqliteAt(t, t.TempDir()),
		AllowIPs:       mustList(t, "qfpay"),
		TrustedProxies: mustList(t, "127.0.0.1")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(context.Background())
	body := notifBody("payment", "S-ip", "O-ip", "")
	for _, tc := range []struct {
		remote, xff string
		want        int
	}{
		{"13.228.112.115:443", "", 200},
		{"192.0.2.1:1234", "", 403},
		{"127.0.0.1:5555", "18.138.115.47", 200},
		{"127.0.0.1:5555", "18.138.115.47, 192.0.2.9", 403}, // right-most untrusted hop counts
		{"192.0.2.1:1234", "18.138.115.47", 403},            // XFF only from trusted proxies
	} {
		req := httptest.NewRequest(http.MethodPost, "/notify/qfpay", bytes.NewReader(body))
		req.RemoteAddr = tc.remote
		req.Header.Set("X-QF-SIGN", md5Sign(body, testKey))
		if tc.xff != "" {
			req.Header.Set("X-Forwarded-For", tc.xff)
		}
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, req)
		if rec.Code != tc.want {
			t.Errorf("%s xff=%q: %d, want %d", tc.remote, tc.xff, rec.Code, tc.want)
		}
	}
}

func mustList(t *testing.T, s string) []netip.Prefix {
	ps, err := ParseAllowList(s)
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

func TestConfigRequired(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Token: "t", Store: sqliteAt(t, t.TempDir())}, "merchant is required"},
		{Config{Key: "k", Token: "t"}, "Store"},
		// The shared token sees the one-shop merchant: there must be one.
		{Config{Merchants: []Merchant{{ID: "shop-a", Gateway: "qfpay", Key: "k"}}, Token: "t", Store: sqliteAt(t, t.TempDir())}, "shared Token"},
		{Config{Key: "k", Merchants: []Merchant{{ID: DefaultMerchant, Gateway: "qfpay", Key: "k2"}}, Store: sqliteAt(t, t.TempDir())}, "configured twice"},
		{Config{Merchants: []Merchant{{ID: "Shop A", Gateway: "qfpay", Key: "k"}}, Store: sqliteAt(t, t.TempDir())}, "merchant id"},
		{Config{Merchants: []Merchant{{ID: "shop-a", Gateway: "paypal", Key: "k"}}, Store: sqliteAt(t, t.TempDir())}, "gateway"},
		// Kept for less than a reconnecting kiosk replays.
		{Config{Key: "k", Token: "t", Store: sqliteAt(t, t.TempDir()), Retain: time.Hour}, "Retain"},
	} {
		s, err := NewServer(tc.cfg)
		if err == nil {
			s.Shutdown(context.Background())
			t.Errorf("%+v accepted", tc.cfg)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v; want it to mention %q", tc.cfg, err, tc.want)
		}
	}
	// Kiosks with their own tokens need no shared one.
	s, err := NewServer(Config{Merchants: []Merchant{{ID: "shop-a", Gateway: "qfpay", Key: "k"}}, Store: sqliteAt(t, t.TempDir())})
	if err != nil {
		t.Fatal(err)
	}
	s.Shutdown(context.Background())
}

func TestShutdownGoingAwayAndOperations(t *testing.T) {
	tr := startRelay(t, t.TempDir(), "127.0.0.1:0", nil)
	for path, want := range map[string]string{
		"/healthz": "ok",
		"/metrics": "qrkiosk_relay_connected_kiosks",
	} {
		resp, err := http.Get(tr.url(path))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), want) {
			t.Errorf("%s: %d %.200s", path, resp.StatusCode, b)
		}
	}
	k := dialKiosk(t, tr, nil)
	k.subscribe("O-x", "")
	tr.stop()
	_, err := k.next(5 * time.Second)
	if !websocket.IsCloseError(err, websocket.CloseGoingAway) {
		t.Fatalf("want close 1001 going away, got %v", err)
	}
}

func TestClientReconnectsResubscribesAndGetsReplay(t *testing.T) {
	dir := t.TempDir()
	trA := startRelay(t, dir, "127.0.0.1:0", nil)
	addr := trA.addr
	c := relayclient.NewClient(relayclient.Config{URL: trA.wsURL(), Token: testToken, UDID: "KIOSK-9",
		MinBackoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond})
	msgs, unsubscribe := c.Subscribe("O-9")
	defer unsubscribe()
	// Two orders followed at once (a finished one still listening for a
	// late payment, and the live one) each learn every change.
	links := make([]<-chan bool, 2)
	for i := range links {
		var stop func()
		links[i], stop = c.WatchLink()
		defer stop()
	}
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() { c.Run(ctx); close(ran) }()
	defer func() { cancel(); <-ran }()

	waitLink := func(want bool) {
		t.Helper()
		for i, link := range links {
			select {
			case got := <-link:
				if got != want {
					t.Fatalf("watcher %d: link %v, want %v", i, got, want)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("watcher %d: no link change to %v", i, want)
			}
		}
		if c.Up() != want {
			t.Fatalf("Up() = %v, want %v", c.Up(), want)
		}
	}
	waitMsg := func(syssn string, replay bool) relayclient.Message {
		t.Helper()
		select {
		case m := <-msgs:
			if m.SysSN != syssn || m.Replay != replay {
				t.Fatalf("got %s replay=%v, want %s replay=%v", m.SysSN, m.Replay, syssn, replay)
			}
			return m
		case <-time.After(5 * time.Second):
			t.Fatalf("no message %s", syssn)
		}
		return relayclient.Message{}
	}

	waitLink(true)
	pay := notifBody("payment", "S-9", "O-9", "KIOSK-9")
	postSigned(t, trA, pay)
	m := waitMsg("S-9", false)
	if !bytes.Equal(m.Body, pay) || m.Sign != md5Sign(pay, testKey) || m.SignType != "MD5" || m.ReceivedAt.IsZero() {
		t.Fatalf("message altered: %+v", m)
	}

	trA.stop()
	waitLink(false)

	// While the client is away, a refund arrives at the restarted relay
	// before it accepts connections (served through its handler directly).
	trB := startRelayAt(t, dir, addr, func(s *Server) {
		refund := notifBody("refund", "S-9R", "O-9", "KIOSK-9")
		req := httptest.NewRequest(http.MethodPost, "/notify/qfpay", bytes.NewReader(refund))
		req.Header.Set("X-QF-SIGN", md5Sign(refund, testKey))
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, req)
		if rec.Code != 200 {
			t.Fatalf("refund: %d", rec.Code)
		}
	})
	_ = trB
	waitLink(true)
	waitMsg("S-9", true) // replayed: duplicates are expected and harmless
	waitMsg("S-9R", true)

	unsubscribe()
	if _, open := <-msgs; open {
		t.Fatal("channel still open after unsubscribe")
	}
}

// startRelayAt is startRelay with a hook run before the listener opens.
func startRelayAt(t *testing.T, dir, addr string, before func(*Server)) *testRelay {
	t.Helper()
	s, err := NewServer(Config{Key: testKey, Token: testToken, Metrics: prommetrics.New(), Store: sqliteAt(t, dir)})
	if err != nil {
		t.Fatal(err)
	}
	before(s)
	var ln net.Listener
	for i := 0; i < 100; i++ {
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	tr := &testRelay{s: s, hs: &http.Server{Handler: s.Handler()}, addr: addr, dir: dir}
	go tr.hs.Serve(ln)
	t.Cleanup(tr.stop)
	return tr
}

func FuzzNotify(f *testing.F) {
	f.Add(notifBody("payment", "S", "O", "U"), true)
	f.Add([]byte(`{"syssn":1}`), true)
	f.Add([]byte(`{}`), false)
	s, err := NewServer(Config{Key: testKey, InsecureNoAuth: true, Metrics: prommetrics.New(), Store: sqliteAt(f, f.TempDir())})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Shutdown(context.Background()) })
	f.Fuzz(func(t *testing.T, body []byte, signed bool) {
		sign := "0123456789ABCDEF0123456789ABCDEF"
		if signed {
			sign = md5Sign(body, testKey)
		}
		req := httptest.NewRequest(http.MethodPost, "/notify/qfpay", bytes.NewReader(body))
		req.Header.Set("X-QF-SIGN", sign)
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, req)
		switch {
		case !signed && rec.Code != 401 && md5Sign(body, testKey) != sign:
			t.Fatalf("unsigned body answered %d", rec.Code)
		case signed && len(body) > 0 && len(body) <= MaxNotifyBody && rec.Code != 200 && rec.Code != 400:
			t.Fatalf("signed body answered %d", rec.Code)
		case rec.Code == 200 && rec.Body.String() != "SUCCESS":
			t.Fatalf("200 without SUCCESS")
		}
	})
}

func FuzzServerRequest(f *testing.F) {
	f.Add([]byte(`{"type":"subscribe","out_trade_no":"O"}`))
	f.Add([]byte(`{"type":"unsubscribe","udid":"U"}`))
	f.Add([]byte(`[`))
	tr := startRelayF(f)
	f.Fuzz(func(t *testing.T, frame []byte) {
		ws, _, err := websocket.DefaultDialer.Dial(tr.wsURL(), http.Header{"Authorization": {"Bearer " + testToken}})
		if err != nil {
			t.Fatal(err)
		}
		defer ws.Close()
		ws.WriteMessage(websocket.TextMessage, frame)
		ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"subscribe","out_trade_no":"probe"}`))
		for { // the relay must still answer after any frame (unless too large, or not UTF-8: refused)
			ws.SetReadDeadline(time.Now().Add(5 * time.Second))
			var m wire.RelayFrame
			if err := ws.ReadJSON(&m); err != nil {
				if len(frame) > wire.MaxInboundFrame {
					return
				}
				if !utf8.Valid(frame) && websocket.IsCloseError(err, websocket.CloseInvalidFramePayloadData) {
					return
				}
				t.Fatalf("relay stopped answering after %q: %v", frame, err)
			}
			if m.Type == wire.TypeSubscribed && m.OutTradeNo == "probe" {
				return
			}
		}
	})
}

func startRelayF(f *testing.F) *testRelay {
	s, err := NewServer(Config{Key: testKey, Token: testToken, Metrics: prommetrics.New(), Store: sqliteAt(f, f.TempDir())})
	if err != nil {
		f.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.Fatal(err)
	}
	tr := &testRelay{s: s, hs: &http.Server{Handler: s.Handler()}, addr: ln.Addr().String()}
	go tr.hs.Serve(ln)
	f.Cleanup(tr.stop)
	return tr
}

// plantOld stores n notifications received age ago, and one received
// now, straight into the journal of dir.
func plantOld(t *testing.T, dir string, n int, age time.Duration) {
	t.Helper()
	st, err := sqlitestore.Open(dir, sqlitestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	old := time.Now().Add(-age)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			storetest.MustAppend(t, st, storetest.Record(DefaultMerchant, fmt.Sprintf("S-OLD-%d", i), "payment", fmt.Sprintf("O-OLD-%d", i), "KIOSK-A", old))
		})
	}
	wg.Wait()
	storetest.MustAppend(t, st, storetest.Record(DefaultMerchant, "S-NEW", "payment", "O-NEW", "KIOSK-A", time.Now()))
}

// A relay running for years does not fill its disk: notifications older
// than the retention period are deleted (in chunks, so deliveries do not
// wait), recent ones are kept and still replayed; Retain < 0 keeps all.
func TestOldNotificationsArePruned(t *testing.T) {
	const old = 2*storesql.PruneChunk + 7
	dir := t.TempDir()
	plantOld(t, dir, old, Defaults().Retain+24*time.Hour)
	tr := startRelay(t, dir, "127.0.0.1:0", nil)
	// The counter is added once the whole pruning pass returns, just after
	// the rows are gone: wait for both.
	pruned := func() float64 { return metric(t, tr.s, "qrkiosk_relay_notifications_pruned_total", "") }
	deadline := time.Now().Add(10 * time.Second)
	for storedCount(t, tr.s) != 1 || pruned() != old {
		if time.Now().After(deadline) {
			t.Fatalf("10 s after start: %d notifications stored, want the 1 recent one; pruned counter %v, want %d",
				storedCount(t, tr.s), pruned(), old)
		}
		time.Sleep(20 * time.Millisecond)
	}
	k := dialKiosk(t, tr, nil)
	if r := k.subscribe("O-NEW", ""); len(r) != 1 || r[0].SysSN != "S-NEW" {
		t.Fatalf("recent notification not replayed: %+v", r)
	}
	if r := k.subscribe("O-OLD-0", ""); len(r) != 0 {
		t.Fatalf("pruned notification replayed: %+v", r)
	}
	// A new notification is stored and delivered as before.
	postSigned(t, tr, notifBody("payment", "S-LATER", "O-NEW", "KIOSK-A"))
	if n := storedCount(t, tr.s); n != 2 {
		t.Fatalf("stored %d, want 2", n)
	}

	keep := t.TempDir()
	plantOld(t, keep, 3, 10*Defaults().Retain)
	tr2 := startRelay(t, keep, "127.0.0.1:0", func(c *Config) { c.Retain = -1 })
	// With Retain < 0 the passes still run (unpaid claims expire) and
	// keep every notification.
	var passes float64
	for deadline := time.Now().Add(10 * time.Second); passes == 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
		passes = metric(t, tr2.s, "qrkiosk_relay_prune_passes_total", "")
	}
	tr2.stop()
	st, err := sqlitestore.Open(keep, sqlitestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	n, err := st.Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n != 4 || passes == 0 {
		t.Fatalf("Retain < 0 kept %d of 4 after %v retention passes", n, passes)
	}
}
