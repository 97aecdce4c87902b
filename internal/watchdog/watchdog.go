// Package watchdog tells systemd that the kiosk is up (READY=1) and still
// responsive (WATCHDOG=1) over the sd_notify protocol: one datagram per
// message to the unix socket named by $NOTIFY_SOCKET. Pure Go, no libsystemd.
//
// The pings are sent from inside the GUI's event loop (Run schedules each
// one through the do function it is given, fyne.Do in the app), so a frozen
// window stops them even while the process and its other goroutines live on,
// and systemd restarts the kiosk after WatchdogSec.
package watchdog

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Environment variables systemd sets for a Type=notify service.
const (
	EnvSocket   = "NOTIFY_SOCKET"
	EnvInterval = "WATCHDOG_USEC"
)

// writeTimeout bounds one datagram: systemd reads its socket promptly, and
// a ping that cannot be written within it is as good as a missed one.
const writeTimeout = time.Second

// Notifier sends sd_notify messages to one socket.
type Notifier struct {
	addr *net.UnixAddr
}

// New returns the notifier for $NOTIFY_SOCKET, or nil when the variable is
// unset (not started by systemd, or by a unit that is not Type=notify).
// A name starting with "@" is a Linux abstract socket.
func New(getenv func(string) string) (*Notifier, error) {
	path := getenv(EnvSocket)
	if path == "" {
		return nil, nil
	}
	if path[0] != '/' && path[0] != '@' {
		return nil, fmt.Errorf("%s=%q: must be an absolute path or an abstract name starting with @", EnvSocket, path)
	}
	// The net package maps a leading "@" to the abstract namespace.
	return &Notifier{addr: &net.UnixAddr{Name: path, Net: "unixgram"}}, nil
}

// Notify sends one message, e.g. "READY=1" or "WATCHDOG=1".
func (n *Notifier) Notify(state string) error {
	conn, err := net.DialUnix("unixgram", nil, n.addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := conn.SetWriteDeadline(time.Now().Add(writeTimeout)); err != nil {
		return err
	}
	_, err = conn.Write([]byte(state))
	return err
}

// Interval is how often to ping: half of $WATCHDOG_USEC, as sd_watchdog_enabled(3)
// advises, or 0 when the unit has no WatchdogSec. WATCHDOG_PID is not
// checked: under a kiosk compositor (cage) the unit's main process is the
// compositor and the kiosk its child, so the unit says NotifyAccess=all.
func Interval(getenv func(string) string) (time.Duration, error) {
	s := strings.TrimSpace(getenv(EnvInterval))
	if s == "" {
		return 0, nil
	}
	usec, err := strconv.ParseUint(s, 10, 63)
	if err != nil || usec == 0 {
		return 0, fmt.Errorf("%s=%q: must be a positive number of microseconds", EnvInterval, s)
	}
	return time.Duration(usec) * time.Microsecond / 2, nil
}

// Loop pings from the GUI's event loop.
type Loop struct {
	// Notifier receives the messages.
	Notifier *Notifier
	// Do runs f on the GUI's event loop (fyne.Do); a loop that is stuck
	// never runs f, so no ping is sent.
	Do func(f func())
	// Ticks paces the pings (Start uses a time.Ticker of Interval); nil
	// sends READY=1 alone, for a unit without WatchdogSec.
	Ticks <-chan time.Time
	// Log reports a ping that could not be sent (never fatal: systemd then
	// restarts the kiosk, which is the point).
	Log *slog.Logger
}

// Run sends READY=1 from the event loop's first turn, then WATCHDOG=1 on
// each tick, until ctx ends; then STOPPING=1. At most one ping waits in the
// event loop's queue at a time, so a loop frozen for minutes does not pile
// up callbacks, and catches up with a single ping when it recovers.
func (l Loop) Run(ctx context.Context) {
	log := l.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var queued atomic.Bool
	send := func(state string) {
		// The loop ran this: it is alive, and the next tick may queue again.
		queued.Store(false)
		if err := l.Notifier.Notify(state); err != nil {
			log.Warn("systemd notification not sent", "state", state, "err", err)
		}
	}
	queued.Store(true)
	l.Do(func() { send("READY=1") })
	if l.Ticks != nil {
		for {
			select {
			case <-ctx.Done():
				l.stopping(log)
				return
			case <-l.Ticks:
				if queued.CompareAndSwap(false, true) {
					l.Do(func() { send("WATCHDOG=1") })
				}
			}
		}
	}
	<-ctx.Done()
	l.stopping(log)
}

// stopping tells systemd the exit is on purpose (withdrawing a live order
// may take a few seconds), directly: the event loop may already be gone.
func (l Loop) stopping(log *slog.Logger) {
	if err := l.Notifier.Notify("STOPPING=1"); err != nil {
		log.Debug("systemd notification not sent", "state", "STOPPING=1", "err", err)
	}
}

// Start runs the watchdog for a GUI whose event loop do schedules on, as
// configured by systemd's environment: nothing without $NOTIFY_SOCKET,
// READY=1 only without $WATCHDOG_USEC. It returns at once; the pings stop
// when ctx ends.
func Start(ctx context.Context, getenv func(string) string, do func(func()), log *slog.Logger) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	n, err := New(getenv)
	if err != nil {
		log.Error("systemd notifications off", "err", err)
		return
	}
	if n == nil {
		return
	}
	every, err := Interval(getenv)
	if err != nil {
		// READY=1 still goes out: the unit starts, and without pings its
		// watchdog restarts the kiosk, which shows the mistake in the log.
		log.Error("systemd watchdog off", "err", err)
	}
	l := Loop{Notifier: n, Do: do, Log: log}
	if every > 0 {
		t := time.NewTicker(every)
		l.Ticks = t.C
		go func() {
			defer t.Stop()
			l.Run(ctx)
		}()
		log.Info("systemd watchdog on", "ping_every", every)
		return
	}
	go l.Run(ctx)
}
