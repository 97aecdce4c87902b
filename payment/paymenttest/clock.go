// Package paymenttest has fakes for testing code that uses package
// payment: a manual clock and an in-memory gateway with QFPay's semantics.
package paymenttest

import (
	"sync"
	"time"

	"qrkiosk/payment"
)

// Clock is a manual clock: time moves only with Advance.
type Clock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*timer
	added  chan struct{}
}

// NewClock starts at t.
func NewClock(t time.Time) *Clock { return &Clock{now: t, added: make(chan struct{}, 1024)} }

type timer struct {
	c     *Clock
	at    time.Time
	ch    chan time.Time
	fired bool
	gone  bool
}

func (t *timer) C() <-chan time.Time { return t.ch }

func (t *timer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := !t.fired && !t.gone
	t.gone = true
	return was
}

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// NewTimer fires when the clock is advanced past now+d.
func (c *Clock) NewTimer(d time.Duration) payment.Timer {
	c.mu.Lock()
	t := &timer{c: c, at: c.now.Add(d), ch: make(chan time.Time, 1)}
	if d <= 0 {
		t.fired = true
		t.ch <- c.now
	}
	c.timers = append(c.timers, t)
	c.mu.Unlock()
	select {
	case c.added <- struct{}{}:
	default:
	}
	return t
}

// Pending counts live timers that have not fired.
func (c *Clock) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, t := range c.timers {
		if !t.fired && !t.gone {
			n++
		}
	}
	return n
}

// NextTimer is how long until the earliest live timer fires (false when
// none is armed): what the code under test waits for next, read without
// sleeping.
func (c *Clock) NextTimer() (time.Duration, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var next time.Duration
	found := false
	for _, t := range c.timers {
		if t.fired || t.gone {
			continue
		}
		if d := t.at.Sub(c.now); !found || d < next {
			next, found = d, true
		}
	}
	return next, found
}

// Advance moves time forward and fires every timer that is due.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	live := c.timers[:0]
	for _, t := range c.timers {
		if t.gone || t.fired {
			continue
		}
		if !t.at.After(c.now) {
			t.fired = true
			t.ch <- c.now
			continue
		}
		live = append(live, t)
	}
	c.timers = live
}
