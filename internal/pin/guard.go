package pin

import (
	"fmt"
	"sync"
	"time"
)

// Guessing: after MaxTries wrong PINs in a row a PIN is refused for
// Lockout, doubled for each further lockout up to MaxLockout; the right
// PIN resets it. Without it a 4-digit PIN falls to a patient customer at a
// tablet kiosk in an afternoon.
const (
	MaxTries   = 5
	Lockout    = time.Minute
	MaxLockout = 30 * time.Minute
)

// Guard counts wrong tries of one PIN. It is safe for concurrent use.
type Guard struct {
	now func() time.Time

	mu       sync.Mutex
	wrong    int
	lockouts int
	until    time.Time
}

// NewGuard returns a guard on the clock now (nil: time.Now).
func NewGuard(now func() time.Time) *Guard {
	if now == nil {
		now = time.Now
	}
	return &Guard{now: now}
}

// Wait is how long the PIN is still refused; 0 when it may be tried.
func (g *Guard) Wait() time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	return max(g.until.Sub(g.now()), 0)
}

// Record counts a try and returns how long the PIN is now refused.
func (g *Guard) Record(ok bool) time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	if ok {
		g.wrong, g.lockouts = 0, 0
		return 0
	}
	g.wrong++
	if g.wrong < MaxTries {
		return 0
	}
	g.wrong = 0
	d := min(Lockout<<min(g.lockouts, 10), MaxLockout)
	g.lockouts++
	g.until = g.now().Add(d)
	return d
}

// LockedText says how long a locked PIN stays refused, in whole minutes or
// seconds rounded up ("2 min", "40 s").
func LockedText(d time.Duration) string {
	if d >= time.Minute {
		return fmt.Sprintf("%d min", int((d+time.Minute-1)/time.Minute))
	}
	return fmt.Sprintf("%d s", int((d+time.Second-1)/time.Second))
}
