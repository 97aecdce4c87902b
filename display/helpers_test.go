package display

import (
	"flag"
	"image"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"qrkiosk/internal/golden"
	"qrkiosk/payment"
)

var update = flag.Bool("update", false, "rewrite the golden PNGs in testdata/")

// fakeClock drives the screen's timers from the test goroutine: time moves
// only when the test says, timers fire when time passes them, and the
// callbacks the screen would hand to fyne.Do queue up until the test runs
// them (Fyne's test driver would run them on the timer goroutine, racing
// with the test).
type fakeClock struct {
	mu      sync.Mutex
	t       time.Time
	waiters []waiter
	queued  chan func()
}

type waiter struct {
	at time.Time
	ch chan time.Time
}

func newFakeClock(t time.Time) *fakeClock {
	return &fakeClock{t: t, queued: make(chan func(), 64)}
}

func (c *fakeClock) clock() clock {
	return clock{now: c.now, after: c.after, do: func(f func()) { c.queued <- f }}
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) after(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	c.waiters = append(c.waiters, waiter{at: c.t.Add(d), ch: ch})
	return ch
}

// pending is how many timers are armed and not yet fired.
func (c *fakeClock) pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.waiters)
}

// waitArmed waits until a timer for the instant at is armed (a stale
// timer of a stopped countdown may still count in pending).
func (c *fakeClock) waitArmed(t *testing.T, at time.Time) {
	t.Helper()
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(time.Millisecond) {
		c.mu.Lock()
		for _, w := range c.waiters {
			if w.at.Equal(at) {
				c.mu.Unlock()
				return
			}
		}
		c.mu.Unlock()
	}
	t.Fatalf("no timer armed for %v", at)
}

// waitPending waits until the screen's goroutines have armed n timers.
func (c *fakeClock) waitPending(t *testing.T, n int) {
	t.Helper()
	for end := time.Now().Add(2 * time.Second); time.Now().Before(end); time.Sleep(time.Millisecond) {
		if c.pending() >= n {
			return
		}
	}
	t.Fatalf("%d timers armed, want %d", c.pending(), n)
}

// advance moves time on and fires the timers that are due.
func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	var keep []waiter
	for _, w := range c.waiters {
		if !w.at.After(c.t) {
			w.ch <- c.t
		} else {
			keep = append(keep, w)
		}
	}
	c.waiters = keep
	c.mu.Unlock()
}

// runQueued runs the UI callbacks that arrive within wait, on the test
// goroutine, and returns how many ran.
func (c *fakeClock) runQueued(wait time.Duration) int {
	n := 0
	deadline := time.After(wait)
	for {
		select {
		case f := <-c.queued:
			f()
			n++
		case <-deadline:
			return n
		}
	}
}

// runUntil runs the UI callbacks as they arrive until cond holds, or
// fails after 5 s: it waits on the event, not for a fixed while, so a
// loaded machine only makes it slower.
func (c *fakeClock) runUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for !cond() {
		select {
		case f := <-c.queued:
			f()
		case <-deadline:
			t.Fatalf("%s: not within 5 s", what)
		}
	}
}

var (
	t0  = time.Date(2025, 3, 14, 15, 9, 26, 0, time.FixedZone("HKT", 8*3600))
	hkd = payment.Currency{Code: "HKD", Exponent: 2, Symbol: "HK$"}
)

func payType(t testing.TB, wallet string) payment.PayType {
	t.Helper()
	p, err := payment.LookupPayType(wallet)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// order is an awaiting-payment snapshot created at t0 with five minutes to
// pay, as the order machine would report it.
func order(t testing.TB) payment.Snapshot {
	return payment.Snapshot{
		OutTradeNo: "QK20250314150926A7F3",
		SysSN:      "20250314150926000123456",
		QRCode:     "http://192.168.1.20:8080/pay/QK20250314150926A7F3?sig=9f2c41d07b",
		Amount:     payment.Amount{Minor: 123450, Currency: hkd},
		PayType:    payType(t, "alipayhk"),
		State:      payment.StateAwaitingPayment,
		Created:    t0,
		Deadline:   t0.Add(5 * time.Minute),
		PushUp:     true,
	}
}

// newTestScreen is a customer screen on a fake clock in a window of size.
func newTestScreen(t *testing.T, cfg ScreenConfig, size fyne.Size) (*Screen, *fakeClock, fyne.Window) {
	t.Helper()
	test.NewTempApp(t)
	clk := newFakeClock(t0)
	s := newScreen(cfg, clk.clock())
	w := test.NewTempWindow(t, s.Content())
	w.SetPadded(false)
	w.Resize(size)
	return s, clk, w
}

func capture(w fyne.Window) *image.NRGBA { return golden.NRGBA(w.Canvas().Capture()) }

func assertGolden(t *testing.T, name string, img *image.NRGBA) {
	t.Helper()
	golden.Assert(t, name, img, *update)
}

// shown is the lines a trilingual text shows, top to bottom.
func shown(t trilingual) []string {
	var out []string
	for _, line := range t {
		if line.Visible() {
			out = append(out, line.Text)
		}
	}
	return out
}
