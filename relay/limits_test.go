package relay

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

func refusedCount(t *testing.T, s *Server, reason string) float64 {
	t.Helper()
	return metric(t, s, "qrkiosk_relay_kiosks_refused_total", reason)
}

// rawHandshake sends a websocket upgrade on c and reads the answer.
func rawHandshake(t *testing.T, c net.Conn, br *bufio.Reader, host, token, forwardedFor string) *http.Response {
	t.Helper()
	req := "GET /ws HTTP/1.1\r\nHost: " + host + "\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nAuthorization: Bearer " + token + "\r\n"
	if forwardedFor != "" {
		req += "X-Forwarded-For: " + forwardedFor + "\r\n"
	}
	if _, err := io.WriteString(c, req+"\r\n"); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// A refused handshake is answered and the connection closed at once:
// thousands of clients with bad tokens cannot keep thousands of sockets
// (and file descriptors) open on the relay after their 401.
func TestRefusedHandshakeClosesTheConnection(t *testing.T) {
	tr := startRelay(t, t.TempDir(), "127.0.0.1:0", nil)
	c, err := net.Dial("tcp", tr.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	resp := rawHandshake(t, c, br, tr.addr, "not-a-token", "")
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("bad token: %d, want 401", resp.StatusCode)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := br.ReadByte(); !errors.Is(err, io.EOF) {
		t.Fatalf("after the 401 the relay kept the connection open: %v, want EOF", err)
	}
	if !resp.Close {
		t.Fatalf("the 401 says Connection: %q, want close", resp.Header.Get("Connection"))
	}
}

// A source that keeps failing to log in is answered 429 before any token
// look-up once its refusals are used up, other sources are not, and the
// log holds a bounded number of lines (the metric counts them all).
func TestBadTokenFloodIsRateLimitedAndSampled(t *testing.T) {
	tr, logs := twoMerchants(t, func(c *Config) {
		c.RefusalsPerMinute = 5
		c.TrustedProxies = mustList(t, "127.0.0.1")
	})
	const attempts = 200
	codes := map[int]int{}
	for i := range attempts {
		c, err := net.Dial("tcp", tr.addr)
		if err != nil {
			t.Fatal(err)
		}
		resp := rawHandshake(t, c, bufio.NewReader(c), tr.addr, fmt.Sprint("bad-", i), "192.0.2.7")
		c.Close()
		codes[resp.StatusCode]++
		if resp.StatusCode == http.StatusTooManyRequests && resp.Header.Get("Retry-After") == "" {
			t.Fatal("429 without Retry-After")
		}
	}
	if codes[401] != 5 || codes[429] != attempts-5 {
		t.Fatalf("answers %v, want 5 × 401 then 429", codes)
	}
	if n := refusedCount(t, tr.s, reasonRateLimited); n != attempts-5 {
		t.Fatalf("rate_limited counted %v, want %d", n, attempts-5)
	}
	if n := strings.Count(logs.String(), "kiosk refused"); n > sampleBurst {
		t.Fatalf("%d refusals logged %d lines, want at most %d", attempts, n, sampleBurst)
	}
	// Another address, and a kiosk with a good token, are let in.
	_, resp, err := websocket.DefaultDialer.Dial(tr.wsURL(), http.Header{"Authorization": {"Bearer " + testToken},
		"X-Forwarded-For": {"192.0.2.8"}})
	if err != nil {
		t.Fatalf("kiosk from another address: %v %v", err, resp)
	}
	// The limited address is refused even with a good token (it is not
	// looked up): the price of a shared NAT with a misbehaving client.
	_, resp, err = websocket.DefaultDialer.Dial(tr.wsURL(), http.Header{"Authorization": {"Bearer " + testToken},
		"X-Forwarded-For": {"192.0.2.7"}})
	if err == nil || resp == nil || resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("good token from the limited address: %v %v, want 429", err, resp)
	}
}

// Caps on connections refuse before the upgrade, in total (503) and per
// token (429), each counted under its reason.
func TestConnectionCaps(t *testing.T) {
	tr, logs := twoMerchants(t, func(c *Config) { c.MaxConns = 2 })
	dialKiosk(t, tr, nil)
	dialKiosk(t, tr, nil)
	_, resp, err := websocket.DefaultDialer.Dial(tr.wsURL(), http.Header{"Authorization": {"Bearer " + testToken}})
	if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" || !resp.Close {
		t.Fatalf("third connection with MaxConns 2: %v %v, want 503 with Retry-After and Connection: close", err, resp)
	}
	if n := refusedCount(t, tr.s, reasonRelayFull); n != 1 {
		t.Fatalf("relay_full counted %v", n)
	}
	logs.waitLog(t, "kiosk refused", "reason=relay_full")
}

// A revoked token gets the very answer an unknown one gets: whoever holds
// a stolen token cannot learn that it once worked. The log and the metric
// keep the difference.
func TestRevokedAndUnknownTokensLookAlike(t *testing.T) {
	tr, logs := twoMerchants(t, nil)
	secret, tok := issue(t, tr, DefaultMerchant, "KIOSK-A")
	if _, err := tr.s.st.RevokeTokens(context.Background(), tok.ID, "", ""); err != nil {
		t.Fatal(err)
	}
	answer := func(token string) (int, http.Header, string) {
		_, resp, err := websocket.DefaultDialer.Dial(tr.wsURL(), http.Header{"Authorization": {"Bearer " + token}})
		if err == nil || resp == nil {
			t.Fatalf("token %q: connected or no answer: %v", token, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Header.Del("Date")
		return resp.StatusCode, resp.Header, string(body)
	}
	rs, rh, rb := answer(secret)
	us, uh, ub := answer(TokenPrefix + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	if rs != 401 || rs != us || rb != ub || fmt.Sprint(rh) != fmt.Sprint(uh) {
		t.Fatalf("revoked: %d %v %q\nunknown: %d %v %q\nwant the same 401", rs, rh, rb, us, uh, ub)
	}
	logs.waitLog(t, "kiosk refused", "reason=revoked", "token_id="+itoa(tok.ID))
	logs.waitLog(t, "kiosk refused", "reason=unauthorized")
	if refusedCount(t, tr.s, reasonRevoked) != 1 || refusedCount(t, tr.s, reasonUnauthorized) != 1 {
		t.Fatal("the metric does not tell revoked from unknown")
	}
}

func TestSourceLimiterForgetsWhenFull(t *testing.T) {
	l := newSourceLimiter(1)
	l.max = 3
	now := time.Now()
	addr := func(i int) netip.Addr { return netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}) }
	for i := range 10 {
		l.refused(addr(i), now)
		if len(l.sources) > l.max {
			t.Fatalf("%d sources remembered, at most %d", len(l.sources), l.max)
		}
	}
	if limited, _ := l.limited(addr(9), now); !limited {
		t.Fatal("the latest source was forgotten")
	}
	// One IPv6 subscriber's /64 is one source.
	a, b := netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8::ffff:2")
	l.refused(a, now)
	if limited, _ := l.limited(b, now); !limited {
		t.Fatal("another address of the same /64 is a new source")
	}
	if limited, wait := l.limited(b, now.Add(time.Minute)); limited || wait != 0 {
		t.Fatalf("a minute later: limited %v, wait %v", limited, wait)
	}
}

func TestLogSamplerCountsWhatItLeavesOut(t *testing.T) {
	l := newLogSampler()
	now := time.Now()
	logged := 0
	for range 100 {
		if ok, _ := l.allow(now); ok {
			logged++
		}
	}
	if logged != sampleBurst {
		t.Fatalf("logged %d of a burst of 100, want %d", logged, sampleBurst)
	}
	ok, left := l.allow(now.Add(sampleEvery))
	if !ok || left != 100-sampleBurst {
		t.Fatalf("after %v: logged %v, left out %d, want %d", sampleEvery, ok, left, 100-sampleBurst)
	}
}
