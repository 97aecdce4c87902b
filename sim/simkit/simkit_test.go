package simkit

import (
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"qrkiosk/internal/proctest"
	"qrkiosk/payment/paymenttest"
)

// receiver is a notify URL that answers each POST from a script and
// records what it got.
type receiver struct {
	mu      sync.Mutex
	answers []string // "STATUS body", one per POST; the last repeats
	got     []*http.Request
	bodies  []string
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.got, rc.bodies = append(rc.got, r), append(rc.bodies, string(b))
	a := rc.answers[min(len(rc.got), len(rc.answers))-1]
	status, body, _ := strings.Cut(a, " ")
	if status == "200" {
		w.WriteHeader(http.StatusOK)
	} else {
		w.WriteHeader(http.StatusInternalServerError)
	}
	io.WriteString(w, body)
}

func (rc *receiver) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.got)
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	paymenttest.Eventually(t, what, 10*time.Second, cond)
}

func newNotifier(t *testing.T, schedule ...time.Duration) (*Notifier, *proctest.Buffer) {
	var log proctest.Buffer
	nf := NewNotifier(schedule, 1, slog.New(slog.NewTextHandler(&log, nil)))
	t.Cleanup(nf.Close)
	return nf, &log
}

// A notification is POSTed again after each wait of the schedule until the
// receiver acknowledges it; each attempt carries the same body and headers.
func TestNotifierRetriesUntilAcknowledged(t *testing.T) {
	rc := &receiver{answers: []string{"500 busy", "200 fail", "200  success\n"}}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	nf, log := newNotifier(t, time.Millisecond, time.Millisecond, time.Millisecond, time.Millisecond)
	var mu sync.Mutex
	delivered := 0
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("X-Sign", "ABC")
	nf.Send(Notification{URL: srv.URL, Body: []byte(`{"n":1}`), Header: h, Ack: "SUCCESS", FoldCase: true,
		Attrs: []any{"out_trade_no", "T1"}, Delivered: func() { mu.Lock(); delivered++; mu.Unlock() }})
	eventually(t, "the acknowledged delivery", func() bool { return strings.Contains(log.String(), "notification delivered") })
	nf.Close()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.got) != 3 || delivered != 1 {
		t.Fatalf("%d POSTs, %d acknowledged; want 3 and 1", len(rc.got), delivered)
	}
	for i, r := range rc.got {
		if r.Header.Get("Content-Type") != "application/json" || r.Header.Get("X-Sign") != "ABC" || rc.bodies[i] != `{"n":1}` {
			t.Fatalf("POST %d: headers %v, body %q", i+1, r.Header, rc.bodies[i])
		}
	}
	for _, want := range []string{`msg="notification not acknowledged; will retry" out_trade_no=T1 attempt=1`, `answered HTTP 200 \"fail\", not 200 SUCCESS`, "notification delivered\" out_trade_no=T1 attempt=3"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log lacks %s:\n%s", want, log.String())
		}
	}
}

// Without FoldCase the acknowledgement must match exactly; after the last
// wait of the schedule the notification is given up.
func TestNotifierGivesUpAfterSchedule(t *testing.T) {
	rc := &receiver{answers: []string{"200 success"}}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	nf, log := newNotifier(t, time.Millisecond, time.Millisecond)
	called := false
	nf.Send(Notification{URL: srv.URL, Body: []byte("x"), Ack: "SUCCESS", Copies: 2, Delivered: func() { called = true }})
	eventually(t, "giving up", func() bool { return strings.Contains(log.String(), "notification given up") })
	nf.Close()
	if rc.count() != 3 || called {
		t.Fatalf("%d POSTs (want 1 + 2 retries, and no second copy after giving up), acknowledged %v", rc.count(), called)
	}
}

// Copies: 2 delivers the notification twice, each acknowledged.
func TestNotifierDuplicate(t *testing.T) {
	rc := &receiver{answers: []string{"200 SUCCESS"}}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	nf, _ := newNotifier(t)
	var mu sync.Mutex
	delivered := 0
	nf.Send(Notification{URL: srv.URL, Ack: "SUCCESS", Copies: 2, Delivered: func() { mu.Lock(); delivered++; mu.Unlock() }})
	eventually(t, "two deliveries", func() bool { mu.Lock(); defer mu.Unlock(); return delivered == 2 })
	nf.Close()
	if rc.count() != 2 {
		t.Fatalf("%d POSTs, want 2", rc.count())
	}
}

// Close ends a delivery that waits for its next retry, at once.
func TestNotifierCloseStopsWaitingDelivery(t *testing.T) {
	rc := &receiver{answers: []string{"500 down"}}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	nf, _ := newNotifier(t, time.Hour)
	nf.Send(Notification{URL: srv.URL, Ack: "SUCCESS"})
	eventually(t, "the first attempt", func() bool { return rc.count() == 1 })
	done := make(chan struct{})
	go func() { nf.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close waited for the hour-long retry")
	}
}

func TestDice(t *testing.T) {
	a, b := NewDice(rand.New(rand.NewPCG(1, 2))), NewDice(rand.New(rand.NewPCG(1, 2)))
	if a.Chance(0) || a.Chance(-1) || !a.Chance(1) || !a.Chance(2) {
		t.Fatal("rates 0 and 1 are never and always")
	}
	// The ends draw nothing: a and b still draw the same sequence.
	hits := 0
	for range 1000 {
		x, y := a.Chance(0.3), b.Chance(0.3)
		if x != y {
			t.Fatal("the same seed drew different faults")
		}
		if x {
			hits++
		}
	}
	if hits < 200 || hits > 400 {
		t.Fatalf("%d of 1000 draws at 0.3", hits)
	}
}

func TestCheckRates(t *testing.T) {
	if err := CheckRates(map[string]float64{"fail-5xx": 0, "notify-dup": 1, "commit-drop": 0.5}); err != nil {
		t.Fatal(err)
	}
	err := CheckRates(map[string]float64{"notify-drop": -0.1, "fail-5xx": 1.5, "notify-dup": 0})
	if err == nil || err.Error() != "--fail-5xx 1.5: must be between 0 and 1" {
		t.Fatalf("%v; want the first bad flag by name", err)
	}
}

func TestSleep(t *testing.T) {
	if !Sleep(context.Background(), 0) || !Sleep(context.Background(), time.Millisecond) {
		t.Fatal("an uncancelled sleep reports true")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if Sleep(ctx, time.Hour) {
		t.Fatal("a cancelled sleep reports false, at once")
	}
}

// A dropped connection leaves the client without an answer.
func TestDropConnection(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { DropConnection(w) }))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("answered %s", resp.Status)
	}
}

// Serve answers until its context ends, then shuts down and returns 0; a
// listener that fails is exit code 1.
func TestServe(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var log proctest.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	code := make(chan int, 1)
	go func() {
		code <- Serve(ctx, ln, http.HandlerFunc(Healthz), 0, slog.New(slog.NewTextHandler(&log, nil)))
	}()
	resp, err := http.Get("http://" + ln.Addr().String() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "ok\n" {
		t.Fatalf("answered %q", b)
	}
	cancel()
	if c := <-code; c != 0 || !strings.Contains(log.String(), "shutting down") {
		t.Fatalf("exit %d after the context ended; log:\n%s", c, log.String())
	}

	ln, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	if c := Serve(context.Background(), ln, http.HandlerFunc(Healthz), 0, slog.New(slog.DiscardHandler)); c != 1 {
		t.Fatalf("exit %d on a closed listener, want 1", c)
	}
}

// The customer page's base URL is the public one given, else the bound
// address.
func TestListen(t *testing.T) {
	ln, base, err := Listen("127.0.0.1:0", "")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if base != "http://"+ln.Addr().String() || strings.HasSuffix(base, ":0") {
		t.Fatalf("base %q for %s", base, ln.Addr())
	}
	ln2, base, err := Listen("127.0.0.1:0", "https://kiosk.example/sim/")
	if err != nil {
		t.Fatal(err)
	}
	ln2.Close()
	if base != "https://kiosk.example/sim" {
		t.Fatalf("base %q", base)
	}
	if _, _, err := Listen(ln.Addr().String(), ""); err == nil {
		t.Fatal("an address in use: no error")
	}
}
