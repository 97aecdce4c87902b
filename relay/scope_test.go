package relay

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"qrkiosk/payment/qfpay"
	"qrkiosk/relay/relayclient"
	"qrkiosk/relay/store"
	"qrkiosk/relay/wire"
)

const keyB = "k3y-of-merchant-b"

// logBuffer collects a server's log lines for assertions.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// waitLog waits until the log has a line containing every part.
func (l *logBuffer) waitLog(t *testing.T, parts ...string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		for _, line := range strings.Split(l.String(), "\n") {
			all := true
			for _, p := range parts {
				all = all && strings.Contains(line, p)
			}
			if all {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no log line with %q in:\n%s", parts, l.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// twoMerchants is a relay for the one-shop merchant (testKey, shared
// token) plus shop-b with its own key, logging into the returned buffer.
func twoMerchants(t *testing.T, mod func(*Config)) (*testRelay, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	tr := startRelay(t, t.TempDir(), "127.0.0.1:0", func(c *Config) {
		c.Merchants = []Merchant{{ID: "shop-b", Gateway: "qfpay", AppCode: "APPB", Key: keyB}}
		c.Logger = newTestLogger(logs)
		if mod != nil {
			mod(c)
		}
	})
	return tr, logs
}

func postTo(t *testing.T, tr *testRelay, path string, body []byte, key string) (int, string) {
	t.Helper()
	return post(t, http.DefaultClient, tr.url(path), body, map[string]string{"X-QF-SIGN": md5Sign(body, key)})
}

// issue makes a kiosk token in the relay's store.
func issue(t *testing.T, tr *testRelay, merchant, udid string) (string, *store.Token) {
	t.Helper()
	secret, tok, err := IssueToken(context.Background(), tr.s.st, merchant, udid, "test")
	if err != nil {
		t.Fatal(err)
	}
	return secret, tok
}

func dialWith(t *testing.T, tr *testRelay, token, udid string) (*kiosk, *http.Response, error) {
	t.Helper()
	hdr := http.Header{"Authorization": {"Bearer " + token}}
	if udid != "" {
		hdr.Set("X-QRKiosk-UDID", udid)
	}
	ws, resp, err := websocket.DefaultDialer.Dial(tr.wsURL(), hdr)
	if err != nil {
		return nil, resp, err
	}
	t.Cleanup(func() { ws.Close() })
	return &kiosk{t: t, ws: ws}, resp, nil
}

func mustDial(t *testing.T, tr *testRelay, token, udid string) *kiosk {
	t.Helper()
	k, resp, err := dialWith(t, tr, token, udid)
	if err != nil {
		t.Fatalf("dial: %v (%v)", err, resp)
	}
	return k
}

// expectError reads until an error message (skipping notifications it
// must not see: any is a failure) and returns it.
func (k *kiosk) expectError(t *testing.T) wire.RelayFrame {
	t.Helper()
	m, err := k.next(5 * time.Second)
	if err != nil {
		t.Fatalf("waiting for an error: %v", err)
	}
	if m.Type != wire.TypeError {
		t.Fatalf("got %+v, want an error", m)
	}
	return m
}

// Each merchant's notifications arrive on its own path and are checked
// with its key only; the one-shop path stays.
func TestNotifyPerMerchantKey(t *testing.T) {
	tr, logs := twoMerchants(t, nil)
	b := notifBody("payment", "S-B1", "O-B1", "KB")
	for _, tc := range []struct {
		path, key string
		want      int
	}{
		{"/notify/qfpay/shop-b", testKey, 401}, // the other merchant's key
		{"/notify/qfpay", keyB, 401},
		{"/notify/qfpay/default", keyB, 401},
		{"/notify/qfpay/shop-c", keyB, 404},
		{"/notify/scanforpay/shop-b", keyB, 404},
		{"/notify/qfpay/shop-b", keyB, 200},
		{"/notify/qfpay/shop-b", keyB, 200}, // duplicate: SUCCESS again
	} {
		code, got := postTo(t, tr, tc.path, b, tc.key)
		if code != tc.want || (code == 200 && got != "SUCCESS") {
			t.Errorf("POST %s signed with the %s key: %d %q, want %d", tc.path, map[string]string{testKey: "default", keyB: "shop-b"}[tc.key], code, got, tc.want)
		}
	}
	logs.waitLog(t, "no such merchant", "shop-c")
	// Genuine but unstorable as text (PostgreSQL refuses NUL): malformed,
	// not a failed batch for the notifications stored with it.
	nul := bytes.Replace(notifBody("payment", "S-NUL", "O-NUL", "KB"), []byte(`"O-NUL"`), []byte(`"O-\u0000"`), 1)
	if code, _ := postTo(t, tr, "/notify/qfpay/shop-b", nul, keyB); code != 400 {
		t.Errorf("a NUL in out_trade_no: %d, want 400", code)
	}
	a := notifBody("payment", "S-A1", "O-A1", "KA")
	for _, path := range []string{"/notify/qfpay", "/notify/qfpay/default"} {
		if code, _ := postTo(t, tr, path, a, testKey); code != 200 {
			t.Fatalf("%s: %d", path, code)
		}
	}
	recs, _ := tr.s.st.After(context.Background(), 0, 10)
	if len(recs) != 2 || recs[0].Merchant != "shop-b" || recs[1].Merchant != DefaultMerchant {
		t.Fatalf("stored %+v", recs)
	}
	// The shared token sees the one-shop merchant only.
	k := dialKiosk(t, tr, nil)
	if r := k.subscribe("O-A1", ""); len(r) != 1 {
		t.Fatalf("one-shop replay %+v", r)
	}
	if m := k.sendExpectError(t, "O-B1", ""); m.Error != subscriptionRefused || m.OutTradeNo != "O-B1" {
		t.Fatalf("shared token subscribing to shop-b's order: %+v", m)
	}
}

func (k *kiosk) sendExpectError(t *testing.T, otn, udid string) wire.RelayFrame {
	t.Helper()
	k.send(wire.TypeSubscribe, otn, udid)
	return k.expectError(t)
}

// One notification rule on both sides: whatever the relay stores and
// forwards, the kiosk's own check (qfpay.Client.VerifyNotification)
// accepts, and what the kiosk would reject the relay refuses.
func TestRelayAcceptsExactlyWhatTheKioskVerifies(t *testing.T) {
	tr := startRelay(t, t.TempDir(), "127.0.0.1:0", nil)
	kioskQF, err := qfpay.NewClient("APPCODE", testKey)
	if err != nil {
		t.Fatal(err)
	}
	c := relayclient.NewClient(relayclient.Config{URL: tr.wsURL(), Token: testToken, MinBackoff: 20 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go c.Run(ctx)

	sha := func(body []byte) string {
		h := sha256.Sum256(append(append([]byte{}, body...), testKey...))
		return strings.ToUpper(hex.EncodeToString(h[:]))
	}
	for i, tc := range []struct {
		name     string
		hdr      func(body []byte) map[string]string
		accepted bool
	}{
		{"MD5, no sign type", func(b []byte) map[string]string { return map[string]string{"X-QF-SIGN": md5Sign(b, testKey)} }, true},
		{"MD5, sign type MD5", func(b []byte) map[string]string {
			return map[string]string{"X-QF-SIGN": md5Sign(b, testKey), "X-QF-SIGNTYPE": "MD5"}
		}, true},
		{"MD5, sign type md5", func(b []byte) map[string]string {
			return map[string]string{"X-QF-SIGN": md5Sign(b, testKey), "X-QF-SIGNTYPE": "md5"}
		}, true},
		{"SHA256 with its sign type", func(b []byte) map[string]string {
			return map[string]string{"X-QF-SIGN": sha(b), "X-QF-SIGNTYPE": "SHA256"}
		}, false},
		{"SHA256 without a sign type", func(b []byte) map[string]string { return map[string]string{"X-QF-SIGN": sha(b)} }, false},
		{"MD5 lower-case", func(b []byte) map[string]string {
			return map[string]string{"X-QF-SIGN": strings.ToLower(md5Sign(b, testKey))}
		}, false},
	} {
		otn := "O-RULE-" + string(rune('A'+i))
		body := notifBody("payment", "S-RULE-"+string(rune('A'+i)), otn, "")
		hdr := tc.hdr(body)
		_, kioskErr := kioskQF.VerifyNotification(body, hdr["X-QF-SIGN"])
		if (kioskErr == nil) != tc.accepted {
			t.Fatalf("%s: the kiosk's check says %v; the test expects accepted=%v", tc.name, kioskErr, tc.accepted)
		}
		msgs, unsubscribe := c.Subscribe(otn)
		waitUp(t, c)
		code, _ := post(t, http.DefaultClient, tr.url("/notify/qfpay"), body, hdr)
		if tc.accepted {
			if code != 200 {
				t.Fatalf("%s: relay answered %d, want 200", tc.name, code)
			}
			select {
			case m := <-msgs:
				if _, err := kioskQF.VerifyNotification(m.Body, m.Sign); err != nil {
					t.Fatalf("%s: forwarded, but the kiosk rejects it: %v", tc.name, err)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("%s: not delivered", tc.name)
			}
		} else if code != 401 {
			t.Fatalf("%s: relay answered %d, want 401 (the kiosk would reject it)", tc.name, code)
		}
		unsubscribe()
	}
	if n := storedCount(t, tr.s); n != 3 {
		t.Fatalf("%d stored, want the 3 accepted", n)
	}
}

func waitUp(t *testing.T, c *relayclient.Client) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !c.Up() {
		if time.Now().After(deadline) {
			t.Fatal("client not up")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// FuzzOneNotificationRule: for any body and signature headers, the relay
// accepts exactly when the kiosk's check does.
func FuzzOneNotificationRule(f *testing.F) {
	body := notifBody("payment", "S", "O", "U")
	f.Add(body, md5Sign(body, testKey), "")
	f.Add(body, md5Sign(body, testKey), "SHA256")
	f.Add(body, strings.ToLower(md5Sign(body, testKey)), "MD5")
	kioskQF, err := qfpay.NewClient("APPCODE", testKey)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte, sign, signType string) {
		h := http.Header{}
		h.Set("X-QF-SIGN", sign)
		if signType != "" {
			h.Set("X-QF-SIGNTYPE", signType)
		}
		r := httptest.NewRequest(http.MethodPost, "/notify/qfpay", bytes.NewReader(body))
		r.Header = h
		n, err := qfpayGateway{}.Verify(body, r, testKey)
		if err == nil {
			err = n.check()
		}
		_, kerr := kioskQF.VerifyNotification(body, h.Get("X-QF-SIGN"))
		// The signature alone, then signature and content.
		relayOK := err == nil || errors.Is(err, ErrMalformed)
		kioskOK := kerr == nil || errors.Is(kerr, qfpay.ErrMalformedNotification)
		if relayOK && !kioskOK {
			t.Fatalf("the relay accepts what the kiosk rejects: sign %q type %q", sign, signType)
		}
		if err == nil && kerr != nil {
			t.Fatalf("the relay stores what the kiosk cannot read: %v", kerr)
		}
		if kioskOK && !relayOK && (signType == "" || strings.EqualFold(strings.TrimSpace(signType), "MD5")) {
			t.Fatalf("the relay refuses an MD5 notification the kiosk accepts: %v", err)
		}
	})
}

// A kiosk token sees its own device's orders of its own merchant, and
// nothing else: other devices' and merchants' orders are refused, with a
// clear error to the kiosk and a line in the log.
func TestScopedTokenSeesOnlyItsDevice(t *testing.T) {
	tr, logs := twoMerchants(t, nil)
	secretA, tokA := issue(t, tr, DefaultMerchant, "KIOSK-A")
	secretB, _ := issue(t, tr, DefaultMerchant, "KIOSK-B")
	secretOther, _ := issue(t, tr, "shop-b", "KIOSK-A") // same device name, another merchant

	postTo(t, tr, "/notify/qfpay", notifBody("payment", "S-A1", "O-A1", "KIOSK-A"), testKey)
	postTo(t, tr, "/notify/qfpay", notifBody("payment", "S-B1", "O-B1", "KIOSK-B"), testKey)
	postTo(t, tr, "/notify/qfpay/shop-b", notifBody("payment", "S-X1", "O-X1", "KIOSK-A"), keyB)

	a := mustDial(t, tr, secretA, "KIOSK-A")
	if r := a.subscribe("O-A1", ""); len(r) != 1 || r[0].SysSN != "S-A1" {
		t.Fatalf("own order replay: %+v", r)
	}
	if r := a.subscribe("", "KIOSK-A"); len(r) != 1 || r[0].SysSN != "S-A1" {
		t.Fatalf("own device replay (not shop-b's KIOSK-A): %+v", r)
	}
	for _, tc := range []struct{ otn, udid, want string }{
		{"O-B1", "", subscriptionRefused},
		{"O-X1", "", subscriptionRefused},
		{"", "KIOSK-B", "for device KIOSK-A only"},
	} {
		m := a.sendExpectError(t, tc.otn, tc.udid)
		if !strings.Contains(m.Error, tc.want) || m.OutTradeNo != tc.otn || m.UDID != tc.udid {
			t.Errorf("subscribe %q/%q: %+v, want an error saying %q", tc.otn, tc.udid, m, tc.want)
		}
	}
	logs.waitLog(t, "subscription refused", "reason=foreign_order", "token_id="+itoa(tokA.ID), "out_trade_no=O-B1")
	logs.waitLog(t, "subscription refused", "reason=foreign_device", "udid=KIOSK-B")

	// A subscribed to B's order before anything was stored (it would have
	// had to guess 64 random bits): A holds the claim, so B is refused...
	a.subscribe("O-LATER", "")
	b := mustDial(t, tr, secretB, "KIOSK-B")
	if m := b.sendExpectError(t, "O-LATER", ""); m.Error != subscriptionRefused {
		t.Fatalf("device B after A's claim: %+v", m)
	}
	// ... until the gateway names B: then A's subscription is dropped
	// without seeing it, and B's own subscription works (by replay).
	postTo(t, tr, "/notify/qfpay", notifBody("payment", "S-B2", "O-LATER", "KIOSK-B"), testKey)
	if m := a.expectError(t); m.OutTradeNo != "O-LATER" || m.Error != subscriptionRefused {
		t.Fatalf("device A got %+v, want its subscription refused", m)
	}
	if r := b.subscribe("O-LATER", ""); len(r) != 1 || r[0].SysSN != "S-B2" {
		t.Fatalf("device B's own order, named by the gateway: %+v", r)
	}
	logs.waitLog(t, "withheld", "notification_udid=KIOSK-B", "token_udid=KIOSK-A")
	// Notifications that name no device (QFPay's documented fields have
	// no udid; ScanForPay's never do) are the device's that claimed the
	// order by subscribing to it first: live, ...
	a.subscribe("O-NOUDID", "")
	postTo(t, tr, "/notify/qfpay", notifBody("payment", "S-N", "O-NOUDID", ""), testKey)
	if m, err := a.next(5 * time.Second); err != nil || m.SysSN != "S-N" {
		t.Fatalf("device A, its claimed order's notification without udid: %+v %v", m, err)
	}
	if m := b.sendExpectError(t, "O-NOUDID", ""); m.Error != subscriptionRefused {
		t.Fatalf("device B on A's claimed order: %+v", m)
	}
	// ... and by replay when it was paid before the kiosk subscribed.
	postTo(t, tr, "/notify/qfpay", notifBody("payment", "S-EARLY", "O-EARLY", ""), testKey)
	if r := a.subscribe("O-EARLY", ""); len(r) != 1 || r[0].SysSN != "S-EARLY" {
		t.Fatalf("device A, replay of its order paid before it subscribed: %+v", r)
	}
	if r := b.subscribe("", "KIOSK-B"); len(r) != 2 || r[0].SysSN != "S-B1" || r[1].SysSN != "S-B2" {
		t.Fatalf("device B's own replay must not include A's claimed orders: %+v", r)
	}
	logs.waitLog(t, "subscription refused", "out_trade_no=O-NOUDID", "token_udid=KIOSK-B")
	// And A still gets its own.
	postTo(t, tr, "/notify/qfpay", notifBody("refund", "S-A2", "O-A1", "KIOSK-A"), testKey)
	if m, err := a.next(5 * time.Second); err != nil || m.SysSN != "S-A2" {
		t.Fatalf("device A's own refund: %+v %v", m, err)
	}

	// The other merchant's token for a same-named device sees its own only.
	x := mustDial(t, tr, secretOther, "KIOSK-A")
	if r := x.subscribe("", "KIOSK-A"); len(r) != 1 || r[0].SysSN != "S-X1" || r[0].Merchant != "shop-b" {
		t.Fatalf("shop-b's KIOSK-A replay: %+v", r)
	}

	// A token for a merchant this relay does not serve (a typo at token
	// add) is let in, with a warning saying so.
	typo, _ := issue(t, tr, "shop-bb", "KIOSK-A")
	mustDial(t, tr, typo, "KIOSK-A").subscribe("O-T", "")
	logs.waitLog(t, "does not serve", "merchant=shop-bb")

	// A token presented by another device is refused at the handshake.
	_, resp, err := dialWith(t, tr, secretA, "KIOSK-B")
	if err == nil || resp == nil || resp.StatusCode != 403 {
		t.Fatalf("device B with A's token: %v %v, want 403", err, resp)
	}
	logs.waitLog(t, "kiosk refused", "reason=device_mismatch", "udid=KIOSK-B")
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func newTestLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// Revoking a token closes its live connections within seconds, on every
// connection of that token, and it cannot connect again.
func TestRevokedTokenIsDisconnected(t *testing.T) {
	tr, logs := twoMerchants(t, func(c *Config) { c.RevocationPoll = 50 * time.Millisecond })
	secret, tok := issue(t, tr, DefaultMerchant, "KIOSK-A")
	other, _ := issue(t, tr, DefaultMerchant, "KIOSK-B")
	k1 := mustDial(t, tr, secret, "KIOSK-A")
	k2 := mustDial(t, tr, secret, "")
	kb := mustDial(t, tr, other, "KIOSK-B")
	k1.subscribe("O-1", "")
	kb.subscribe("O-2", "")
	if n, err := tr.s.st.RevokeTokens(context.Background(), tok.ID, "", ""); err != nil || n != 1 {
		t.Fatal(n, err)
	}
	revokedAt := time.Now()
	for _, k := range []*kiosk{k1, k2} {
		_, err := k.next(10 * time.Second)
		if !websocket.IsCloseError(err, websocket.ClosePolicyViolation) || !strings.Contains(err.Error(), "token revoked") {
			t.Fatalf("after revocation: %v, want close 1008 token revoked", err)
		}
	}
	t.Logf("disconnected %v after the revocation", time.Since(revokedAt))
	logs.waitLog(t, "token revoked, disconnecting", "token_id="+itoa(tok.ID))
	if _, resp, err := dialWith(t, tr, secret, "KIOSK-A"); err == nil || resp == nil || resp.StatusCode != 401 {
		t.Fatalf("reconnect with a revoked token: %v %v, want 401", err, resp)
	}
	// The other device is untouched.
	postTo(t, tr, "/notify/qfpay", notifBody("payment", "S-2", "O-2", "KIOSK-B"), testKey)
	if m, err := kb.next(5 * time.Second); err != nil || m.SysSN != "S-2" {
		t.Fatalf("other device: %+v %v", m, err)
	}
}

// Limits a buggy or hostile kiosk cannot break: subscriptions per
// connection and connections per token are capped with a clear error;
// binary frames and invalid UTF-8 close the connection.
func TestKioskLimits(t *testing.T) {
	tr, logs := twoMerchants(t, func(c *Config) {
		c.MaxSubscriptions = 3
		c.MaxConnsPerToken = 2
	})
	secret, _ := issue(t, tr, DefaultMerchant, "KIOSK-A")
	k := mustDial(t, tr, secret, "KIOSK-A")
	k.subscribe("O-1", "")
	k.subscribe("O-2", "")
	k.subscribe("O-2", "") // again: not a new one
	k.subscribe("", "KIOSK-A")
	m := k.sendExpectError(t, "O-4", "")
	if m.Error != subscriptionRefused || m.OutTradeNo != "O-4" {
		t.Fatalf("4th subscription: %+v", m)
	}
	logs.waitLog(t, "subscription refused", "reason=too_many_subscriptions", "at most 3", "out_trade_no=O-4")
	if owner, _ := tr.s.st.Claim(context.Background(), DefaultMerchant, "O-4", "KIOSK-Z", tr.s.cfg.Claims); owner != "KIOSK-Z" {
		t.Fatalf("a refused subscription claimed its order for %s", owner)
	}
	k.send(wire.TypeUnsubscribe, "O-1", "")
	if m := k.sendExpectError(t, "O-4", ""); m.Error != subscriptionRefused {
		t.Fatalf("O-4, now KIOSK-Z's: %+v", m)
	}
	k.subscribe("O-5", "") // room again

	second := mustDial(t, tr, secret, "KIOSK-A")
	second.subscribe("O-1", "") // answered: it is registered
	_, resp, err := dialWith(t, tr, secret, "KIOSK-A")
	if err == nil || resp == nil || resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("third connection on one token: %v %v, want 429 with Retry-After before the upgrade", err, resp)
	}
	logs.waitLog(t, "kiosk refused", "reason=too_many_connections")

	for _, tc := range []struct {
		kind int
		data []byte
		code int
	}{
		{websocket.BinaryMessage, []byte(`{"type":"subscribe","out_trade_no":"O-9"}`), websocket.CloseUnsupportedData},
		{websocket.TextMessage, []byte("{\"type\":\"subscribe\",\"out_trade_no\":\"O-\xff\"}"), websocket.CloseInvalidFramePayloadData},
	} {
		k := dialKiosk(t, tr, nil)
		k.ws.WriteMessage(tc.kind, tc.data)
		_, err := k.next(5 * time.Second)
		if !websocket.IsCloseError(err, tc.code) {
			t.Errorf("frame %q: %v, want close %d", tc.data, err, tc.code)
		}
	}
	logs.waitLog(t, "kiosk disconnected", "binary frame")
	logs.waitLog(t, "kiosk disconnected", "UTF-8")
}

// A refused subscription does not keep the Go client's link "down": it
// stops waiting for that acknowledgement.
func TestClientLinkUpDespiteARefusedSubscription(t *testing.T) {
	tr, _ := twoMerchants(t, nil)
	postTo(t, tr, "/notify/qfpay", notifBody("payment", "S-B1", "O-B1", "KIOSK-B"), testKey)
	secret, _ := issue(t, tr, DefaultMerchant, "KIOSK-A")
	c := relayclient.NewClient(relayclient.Config{URL: tr.wsURL(), Token: secret, UDID: "KIOSK-A", MinBackoff: 20 * time.Millisecond})
	_, stopB := c.Subscribe("O-B1") // another device's order, subscribed before connecting
	defer stopB()
	msgs, stopA := c.Subscribe("O-A1")
	defer stopA()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go c.Run(ctx)
	waitUp(t, c)
	postTo(t, tr, "/notify/qfpay", notifBody("payment", "S-A1", "O-A1", "KIOSK-A"), testKey)
	select {
	case m := <-msgs:
		if m.SysSN != "S-A1" || m.Merchant != DefaultMerchant || m.Gateway != "qfpay" {
			t.Fatalf("got %+v", m)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("own notification not delivered")
	}
}

// Behind a proxy that is not --trusted-proxy, --allow-ip qfpay sees the
// proxy's address and refuses everything: the log says what to do.
func TestAllowListRefusalThroughAProxyExplainsItself(t *testing.T) {
	logs := &logBuffer{}
	tr := startRelay(t, t.TempDir(), "127.0.0.1:0", func(c *Config) {
		c.AllowIPs = mustList(t, "qfpay")
		c.Logger = newTestLogger(logs)
	})
	body := notifBody("payment", "S-P", "O-P", "")
	hdr := map[string]string{"X-QF-SIGN": md5Sign(body, testKey), "X-Forwarded-For": "13.228.112.115"}
	for range 3 {
		if code, _ := post(t, http.DefaultClient, tr.url("/notify/qfpay"), body, hdr); code != 403 {
			t.Fatalf("through an untrusted proxy: %d, want 403", code)
		}
	}
	logs.waitLog(t, "came through a proxy", "--trusted-proxy 127.0.0.1")
	if n := strings.Count(logs.String(), "came through a proxy"); n != 1 {
		t.Errorf("the hint was logged %d times for 3 requests, want once a minute", n)
	}
	// Without X-Forwarded-For it is a plain refusal, no hint.
	other := &logBuffer{}
	tr2 := startRelay(t, t.TempDir(), "127.0.0.1:0", func(c *Config) {
		c.AllowIPs = mustList(t, "qfpay")
		c.Logger = newTestLogger(other)
	})
	postTo(t, tr2, "/notify/qfpay", body, testKey)
	other.waitLog(t, "source not in allow-list")
	if strings.Contains(other.String(), "came through a proxy") {
		t.Error("a hint without a proxy")
	}
}

// testGateway is a second gateway as a test registers it: its own
// signature rule (the hex SHA-256 of body+key in a header), no published
// notifier addresses, and its own reply, with the device taken from the
// notify URL's udid parameter.
type testGateway struct{}

func (testGateway) Name() string            { return "testpay" }
func (testGateway) Reply() (string, string) { return "text/plain", "success" }
func (testGateway) AllowListed() bool       { return false }
func testPaySign(body []byte, key string) string {
	return fmt.Sprintf("%x", sha256.Sum256(append(append([]byte{}, body...), key...)))
}

func (testGateway) Verify(raw []byte, r *http.Request, key string) (Notice, error) {
	if r.Header.Get("X-Test-Sign") != testPaySign(raw, key) {
		return Notice{}, ErrNotGenuine
	}
	var b struct{ OrderNo, Status, PartnerOrderNo string }
	if err := json.Unmarshal(raw, &b); err != nil || b.OrderNo == "" {
		return Notice{}, ErrMalformed
	}
	return Notice{EventID: b.OrderNo, Kind: b.Status, OutTradeNo: b.PartnerOrderNo, UDID: r.URL.Query().Get("udid"), SignType: "SHA256"}, nil
}

// Another gateway plugs in beside QFPay: its own path, rule and reply,
// stored and pushed like QFPay's, and a shop on both gateways is one
// merchant whose kiosks see both.
func TestASecondGatewayPlugsIn(t *testing.T) {
	gateways["testpay"] = testGateway{}
	defer delete(gateways, "testpay")
	logs := &logBuffer{}
	tr := startRelay(t, t.TempDir(), "127.0.0.1:0", func(c *Config) {
		c.AllowIPs = mustList(t, "qfpay") // QFPay's list; not testpay's
		c.TrustedProxies = mustList(t, "127.0.0.1")
		c.Merchants = []Merchant{{ID: DefaultMerchant, Gateway: "testpay", Key: "tp-key"},
			{ID: "shop-b", Gateway: "testpay", Key: "tp-key-b"}}
		c.Logger = newTestLogger(logs)
	})
	secret, _ := issue(t, tr, DefaultMerchant, "KIOSK-A")
	k := mustDial(t, tr, secret, "KIOSK-A")
	k.subscribe("", "KIOSK-A")
	body := []byte(`{"orderNo":"SFP-1","status":"paid","partnerOrderNo":"QK-1"}`)
	for _, tc := range []struct {
		path, key string
		want      int
		reply     string
	}{
		{"/notify/testpay?udid=KIOSK-A", "wrong", 401, ""},
		{"/notify/testpay/shop-b?udid=KIOSK-A", "tp-key", 401, ""}, // shop-b's key only
		{"/notify/testpay?udid=KIOSK-A", "tp-key", 200, "success"},
		{"/notify/testpay/default?udid=KIOSK-A", "tp-key", 200, "success"}, // the same, again
	} {
		code, got := post(t, http.DefaultClient, tr.url(tc.path), body, map[string]string{"X-Test-Sign": testPaySign(body, tc.key)})
		if code != tc.want || (code == 200 && got != tc.reply) {
			t.Errorf("%s: %d %q, want %d %q", tc.path, code, got, tc.want, tc.reply)
		}
	}
	m, err := k.next(5 * time.Second)
	if err != nil || m.Gateway != "testpay" || m.SysSN != "SFP-1" || m.OutTradeNo != "QK-1" || string(m.Body) != string(body) || m.Sign != "" {
		t.Fatalf("pushed %+v %v", m, err)
	}
	// QFPay's notification for the same shop (from QFPay's address, as
	// the trusted proxy says) reaches the same kiosk.
	q := notifBody("payment", "S-Q", "QK-2", "KIOSK-A")
	if code, _ := post(t, http.DefaultClient, tr.url("/notify/qfpay"), q, map[string]string{"X-QF-SIGN": md5Sign(q, testKey),
		"X-Forwarded-For": "13.228.112.115"}); code != 200 {
		t.Fatalf("QFPay's: %d", code)
	}
	if m, err := k.next(5 * time.Second); err != nil || m.Gateway != "qfpay" || m.SysSN != "S-Q" {
		t.Fatalf("QFPay's for the same shop: %+v %v", m, err)
	}
	if n := storedCount(t, tr.s); n != 2 {
		t.Fatalf("stored %d, want 2", n)
	}
}

func TestMerchantsFile(t *testing.T) {
	ms, err := ParseMerchants(strings.NewReader("# shops\n\nshop-a  qfpay  APPA  KEYA\nshop-a QFPay APPA2 KEYA2\n"))
	if err == nil {
		t.Fatalf("shop-a twice on qfpay accepted: %+v", ms)
	}
	if !strings.Contains(err.Error(), "line 4") || strings.Contains(err.Error(), "KEYA") {
		t.Fatalf("error %q: want the line, never the key", err)
	}
	gateways["testpay"] = testGateway{}
	defer delete(gateways, "testpay")
	ms, err = ParseMerchants(strings.NewReader("shop-a qfpay APPA KEYA\nshop-a testpay P1 KEYT # a shop on two gateways\n"))
	if err == nil {
		t.Fatal("a trailing comment taken as a fifth field")
	}
	ms, err = ParseMerchants(strings.NewReader("shop-a qfpay APPA KEYA\nshop-a testpay P1 KEYT\n"))
	if err != nil || len(ms) != 2 || ms[1].Gateway != "testpay" || ms[1].Key != "KEYT" {
		t.Fatalf("%+v %v", ms, err)
	}
	for _, bad := range []string{"Shop qfpay A K", "shop paypal A K", "shop qfpay A", "-shop qfpay A K"} {
		if _, err := ParseMerchants(strings.NewReader(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
