package relay

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"qrkiosk/relay/pgstore"
	"qrkiosk/relay/pgtest"
	"qrkiosk/relay/store"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.StopShared()
	os.Exit(code)
}

// twoInstances starts two relays on one PostgreSQL database.
func twoInstances(t *testing.T, url string, mod func(*Config)) (a, b *testRelay) {
	t.Helper()
	for i, p := range []**testRelay{&a, &b} {
		*p = startRelay(t, "", "127.0.0.1:0", func(c *Config) {
			c.Store = pgAt(t, url)
			c.Instance = fmt.Sprintf("relay-%c", 'a'+i)
			if mod != nil {
				mod(c)
			}
		})
	}
	return a, b
}

// pgAt connects to the database of url for a server, which owns the
// store from then on.
func pgAt(t *testing.T, url string) store.Store {
	t.Helper()
	st, err := pgstore.Open(context.Background(), url, pgstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func waitListening(t *testing.T, st store.Store) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, up := st.Listener(); up {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("listener not up")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A notification posted to one instance reaches kiosks on the other,
// live and by replay; the same notification posted to both at once is
// stored and delivered once.
func TestTwoInstancesShareNotifications(t *testing.T) {
	a, b := twoInstances(t, pgtest.NewDatabase(t), nil)
	if a.s.Storage() != "postgres" {
		t.Fatalf("storage %s", a.s.Storage())
	}
	postSigned(t, a, notifBody("payment", "S-OLD", "O-OLD", "K"))
	// Once b has followed it, S-OLD can only come by replay (before that
	// it may come twice: at-least-once, but this test counts).
	waitFanout(t, b.s, 1)
	kb := dialKiosk(t, b, nil)
	if r := kb.subscribe("O-OLD", ""); len(r) != 1 || r[0].SysSN != "S-OLD" {
		t.Fatalf("replay on b of a's notification: %+v", r)
	}
	kb.subscribe("O-1", "")
	ka := dialKiosk(t, a, nil)
	ka.subscribe("O-1", "")
	body := notifBody("payment", "S-1", "O-1", "K")
	sign := md5Sign(body, testKey)
	var wg sync.WaitGroup
	for i := range 40 { // the gateway retrying through a load balancer
		tr := []*testRelay{a, b}[i%2]
		wg.Go(func() {
			code, got := post(t, http.DefaultClient, tr.url("/notify/qfpay"), body, map[string]string{"X-QF-SIGN": sign})
			if code != 200 || got != "SUCCESS" {
				t.Errorf("copy %d: %d %q", i, code, got)
			}
		})
	}
	wg.Wait()
	// A marker after the copies: every instance pushes in id order, so a
	// copy stored or pushed twice would arrive before it.
	postSigned(t, b, notifBody("refund", "S-1R", "O-1", "K"))
	for name, k := range map[string]*kiosk{"a": ka, "b": kb} {
		for _, want := range []string{"S-1", "S-1R"} {
			m, err := k.next(5 * time.Second)
			if err != nil || m.SysSN != want || m.Replay {
				t.Fatalf("kiosk on %s: %+v %v; want %s once, live", name, m, err, want)
			}
		}
	}
	if n := storedCount(t, a.s); n != 3 {
		t.Fatalf("stored %d, want 3", n)
	}
	if d := counter(t, a.s, resultDuplicate) + counter(t, b.s, resultDuplicate); d != 39 {
		t.Fatalf("duplicates %v, want 39", d)
	}
}

// With the LISTEN connections cut (a failover, a network blip) nothing is
// lost: the instance catches up from the table.
func TestTwoInstancesSurviveDroppedListener(t *testing.T) {
	url := pgtest.NewDatabase(t)
	a, b := twoInstances(t, url, nil)
	kb := dialKiosk(t, b, nil)
	kb.subscribe("", "K")
	for i := range 3 {
		waitListening(t, a.s.st)
		waitListening(t, b.s.st)
		if n := pgtest.Terminate(t, url, "qrkiosk-relay-listen"); n != 2 {
			t.Fatalf("cut %d listeners, want both", n)
		}
		syssn := fmt.Sprint("S-CUT-", i)
		postSigned(t, a, notifBody("payment", syssn, fmt.Sprint("O-CUT-", i), "K"))
		m, err := kb.next(10 * time.Second)
		if err != nil || m.SysSN != syssn {
			t.Fatalf("after cutting the listeners: %+v %v", m, err)
		}
	}
}

// A token revoked through one instance's store disconnects the kiosk on
// the other.
func TestRevocationReachesEveryInstance(t *testing.T) {
	a, b := twoInstances(t, pgtest.NewDatabase(t), func(c *Config) { c.RevocationPoll = 100 * time.Millisecond })
	secret, tok := issue(t, a, DefaultMerchant, "KIOSK-A")
	k := mustDial(t, b, secret, "KIOSK-A")
	k.subscribe("O-1", "")
	if _, err := a.s.st.RevokeTokens(context.Background(), tok.ID, "", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := k.next(10 * time.Second); err == nil || !strings.Contains(err.Error(), "token revoked") {
		t.Fatalf("kiosk on b after revocation on a: %v", err)
	}
}

// waitFanout waits until s has read n notifications back from the store.
func waitFanout(t *testing.T, s *Server, n float64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		fanned := metric(t, s, "qrkiosk_relay_fanout_notifications_total", "")
		if fanned >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the fan-out read %v notifications, want %v", fanned, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// Readiness tells the truth: with the database down /readyz is 503 (the
// load balancer stops sending notifications here) while /healthz stays
// 200 (nothing to restart), and notifications get 503 so the gateway
// retries. When the database is back, so is everything, including pushes
// from the other instance.
func TestReadinessFollowsTheDatabase(t *testing.T) {
	if testing.Short() {
		t.Skip("starts its own PostgreSQL cluster")
	}
	pgtest.Shared(t) // fails clearly when PostgreSQL is missing
	cl, err := pgtest.Start(pgtest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Stop()
	url, err := cl.CreateDatabase("ready")
	if err != nil {
		t.Fatal(err)
	}
	a, b := twoInstances(t, url, nil)
	if code, body := get(t, a.url("/readyz")); code != 200 || !strings.Contains(body, "ready") ||
		!strings.Contains(body, "instance relay-a") || !strings.Contains(body, "storage postgres") {
		t.Fatalf("/readyz %d %q", code, body)
	}
	kb := dialKiosk(t, b, nil)
	kb.subscribe("O-DOWN", "")

	if err := cl.Restart(); err != nil { // every connection dropped
		t.Fatal(err)
	}
	postSigned(t, a, notifBody("payment", "S-DOWN", "O-DOWN", "K")) // pool reconnects
	if m, err := kb.next(10 * time.Second); err != nil || m.SysSN != "S-DOWN" {
		t.Fatalf("after a database restart: %+v %v", m, err)
	}

	cl.Down()
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, body := get(t, a.url("/readyz"))
		if code == 503 && strings.Contains(body, "cannot commit a write") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz with the database down: %d %q", code, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if code, _ := get(t, a.url("/healthz")); code != 200 {
		t.Fatalf("/healthz with the database down: %d, want 200 (alive)", code)
	}
	body := notifBody("payment", "S-UP", "O-DOWN", "K")
	if code, _ := post(t, &http.Client{Timeout: 30 * time.Second}, a.url("/notify/qfpay"), body,
		map[string]string{"X-QF-SIGN": md5Sign(body, testKey)}); code != 503 {
		t.Fatalf("notification with the database down: %d, want 503", code)
	}
	if err := cl.Up(); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(20 * time.Second)
	for {
		if code, _ := get(t, a.url("/readyz")); code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("/readyz not 200 after the database came back")
		}
		time.Sleep(100 * time.Millisecond)
	}
	postSigned(t, a, body) // the gateway's retry
	if m, err := kb.next(10 * time.Second); err != nil || m.SysSN != "S-UP" {
		t.Fatalf("after the database came back: %+v %v", m, err)
	}
}

func TestHealthAndReadinessOnSQLite(t *testing.T) {
	tr := startRelay(t, t.TempDir(), "127.0.0.1:0", func(c *Config) { c.Instance = "shop-relay" })
	if code, body := get(t, tr.url("/healthz")); code != 200 || body != "ok\n" {
		t.Fatalf("/healthz %d %q", code, body)
	}
	if code, body := get(t, tr.url("/readyz")); code != 200 || !strings.HasPrefix(body, "ready\n") ||
		!strings.Contains(body, "storage sqlite") || !strings.Contains(body, "instance shop-relay") {
		t.Fatalf("/readyz %d %q", code, body)
	}
	if code, body := get(t, tr.url("/metrics")); code != 200 ||
		!strings.Contains(body, `qrkiosk_relay_instance_info{instance_name="shop-relay",storage="sqlite"} 1`) ||
		!strings.Contains(body, "qrkiosk_relay_ready 1") {
		t.Fatalf("/metrics %d %.300s", code, body)
	}
}
