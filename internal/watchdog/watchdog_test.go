package watchdog

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// listen is a fake systemd: a datagram socket at name (a path, or @abstract).
func listen(t *testing.T, name string) *net.UnixConn {
	t.Helper()
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// recv waits for the next message.
func recv(t *testing.T, c *net.UnixConn) string {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 256)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatalf("no notification: %v", err)
	}
	return string(buf[:n])
}

// none asserts that no message is waiting now (the sender's side is known to
// be done, so there is nothing to wait for).
func none(t *testing.T, c *net.UnixConn) {
	t.Helper()
	c.SetReadDeadline(time.Now())
	buf := make([]byte, 256)
	if n, err := c.Read(buf); err == nil {
		t.Fatalf("unexpected notification %q", buf[:n])
	}
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestNotifyPathAndAbstractSocket(t *testing.T) {
	for _, name := range []string{
		filepath.Join(t.TempDir(), "notify"),
		fmt.Sprintf("@qrkiosk-watchdog-test-%d", os.Getpid()),
	} {
		c := listen(t, name)
		n, err := New(env(map[string]string{EnvSocket: name}))
		if err != nil || n == nil {
			t.Fatalf("New(%q): %v, %v", name, n, err)
		}
		if err := n.Notify("READY=1"); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := recv(t, c); got != "READY=1" {
			t.Errorf("%s: got %q", name, got)
		}
	}
}

func TestNewWithoutOrWithBadSocket(t *testing.T) {
	if n, err := New(env(nil)); n != nil || err != nil {
		t.Errorf("no NOTIFY_SOCKET: %v, %v; want nothing to do", n, err)
	}
	if _, err := New(env(map[string]string{EnvSocket: "run/notify"})); err == nil {
		t.Error("a relative socket path was accepted")
	}
}

func TestInterval(t *testing.T) {
	for _, tc := range []struct {
		usec string
		want time.Duration
		bad  bool
	}{
		{"", 0, false},
		{"30000000", 15 * time.Second, false},
		{" 2000000 ", time.Second, false},
		{"0", 0, true},
		{"-5", 0, true},
		{"30s", 0, true},
	} {
		got, err := Interval(env(map[string]string{EnvInterval: tc.usec}))
		if got != tc.want || (err != nil) != tc.bad {
			t.Errorf("WATCHDOG_USEC=%q: %v, %v; want %v, error %v", tc.usec, got, err, tc.want, tc.bad)
		}
	}
}

// eventLoop stands in for the GUI's: it runs what do hands it, one at a
// time, and can be frozen like a hung window.
type eventLoop struct {
	queue  chan func()
	queued chan struct{} // one value per call of do
}

func newEventLoop(t *testing.T) *eventLoop {
	l := &eventLoop{queue: make(chan func(), 16), queued: make(chan struct{}, 16)}
	go func() {
		for f := range l.queue {
			f()
		}
	}()
	t.Cleanup(func() { close(l.queue) })
	return l
}

func (l *eventLoop) do(f func()) {
	l.queue <- f
	l.queued <- struct{}{}
}

// freeze blocks the loop until the returned function is called.
func (l *eventLoop) freeze() (thaw func()) {
	frozen, release := make(chan struct{}), make(chan struct{})
	l.queue <- func() { close(frozen); <-release }
	<-frozen
	return func() { close(release) }
}

func TestLoopPingsOnlyFromARunningEventLoop(t *testing.T) {
	name := filepath.Join(t.TempDir(), "notify")
	sock := listen(t, name)
	n, _ := New(env(map[string]string{EnvSocket: name}))
	loop := newEventLoop(t)
	ticks := make(chan time.Time) // unbuffered: a send returns once Run has it
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		Loop{Notifier: n, Do: loop.do, Ticks: ticks}.Run(ctx)
		close(done)
	}()

	if got := recv(t, sock); got != "READY=1" {
		t.Fatalf("first message %q, want READY=1", got)
	}
	<-loop.queued
	for range 2 {
		ticks <- time.Time{}
		if got := recv(t, sock); got != "WATCHDOG=1" {
			t.Fatalf("got %q, want WATCHDOG=1", got)
		}
		<-loop.queued
	}

	// A hung window: the ping handed to the loop is never run, and further
	// ticks hand it nothing more.
	thaw := loop.freeze()
	ticks <- time.Time{}
	<-loop.queued // the ping waits in the frozen loop's queue
	for range 3 {
		ticks <- time.Time{}
	}
	ticks <- time.Time{} // Run took this one, so it is done with the ones before
	none(t, sock)
	select {
	case <-loop.queued:
		t.Fatal("a second ping was queued while the first still waited")
	default:
	}

	// The loop recovers: the one waiting ping goes out, then pings go on.
	thaw()
	if got := recv(t, sock); got != "WATCHDOG=1" {
		t.Fatalf("after the thaw: %q, want WATCHDOG=1", got)
	}
	ticks <- time.Time{}
	<-loop.queued
	if got := recv(t, sock); got != "WATCHDOG=1" {
		t.Fatalf("got %q, want WATCHDOG=1", got)
	}
	none(t, sock)

	cancel()
	<-done
	if got := recv(t, sock); got != "STOPPING=1" {
		t.Fatalf("at the end: %q, want STOPPING=1", got)
	}
}

func TestStartWithoutSystemdDoesNothing(t *testing.T) {
	called := false
	Start(context.Background(), env(nil), func(func()) { called = true }, nil)
	if called {
		t.Error("without NOTIFY_SOCKET the event loop was handed a ping")
	}
}

func TestStartPingsEveryHalfWatchdogSec(t *testing.T) {
	name := filepath.Join(t.TempDir(), "notify")
	sock := listen(t, name)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	runNow := func(f func()) { f() }
	Start(ctx, env(map[string]string{EnvSocket: name, EnvInterval: "40000"}), runNow, nil)
	want := []string{"READY=1", "WATCHDOG=1", "WATCHDOG=1"}
	for _, w := range want {
		if got := recv(t, sock); got != w {
			t.Fatalf("got %q, want %q", got, w)
		}
	}
}
