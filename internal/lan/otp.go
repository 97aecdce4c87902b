package lan

import (
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"math/big"
	"net/netip"
	"sync"
	"time"

	"qrkiosk/internal/pin"
)

// A one-time code is shown on the kiosk and typed on the device being let
// in (the owner's phone for setup, a tablet being paired as a display).
// Six digits, five tries: a guesser's chance per code is 5 in a million,
// and every code needs someone at the kiosk to show it.
const (
	CodeDigits   = 6
	CodeLifetime = 10 * time.Minute
	CodeTries    = 5
)

var (
	// ErrNoCode: no code is showing (none asked for, expired, used, or
	// burnt by wrong tries).
	ErrNoCode = errors.New("no code is showing on the kiosk: show a new one there")
	// ErrCodeBurnt: that was the last wrong try; the code no longer works.
	ErrCodeBurnt = errors.New("too many wrong tries: this code no longer works, show a new one on the kiosk")
)

// WrongCodeError is a wrong code with tries left.
type WrongCodeError struct{ Left int }

func (e *WrongCodeError) Error() string {
	return fmt.Sprintf("wrong code: %d tries left", e.Left)
}

// LockedError: the device made too many wrong tries and is refused for
// Wait, whatever it types.
type LockedError struct{ Wait time.Duration }

func (e *LockedError) Error() string {
	return "too many wrong codes from this device: try again in " + pin.LockedText(e.Wait)
}

// CodeEvent tells the kiosk's screen what it must show: a burnt code is
// replaced (the cashier is asked to show a new one), a locked-out device
// is named.
type CodeEvent struct {
	Burnt  bool          // the showing code was burnt by wrong tries
	Source netip.Addr    // the device that tried
	Locked time.Duration // > 0: the device is refused that long
}

// Codes holds the one code a kiosk screen shows at a time and checks the
// codes devices send. It is safe for concurrent use.
type Codes struct {
	now    func() time.Time
	notify func(CodeEvent)

	mu      sync.Mutex
	code    string // "" when none is showing
	expires time.Time
	wrong   int
	sources map[netip.Addr]*source
}

// source is one device's run of wrong tries, across codes, so a guesser
// cannot burn code after code.
type source struct {
	guard *pin.Guard
	last  time.Time
}

// NewCodes returns codes on clock now (nil: time.Now); notify (may be nil)
// is called, outside any lock, on a burnt code or a locked-out device.
func NewCodes(now func() time.Time, notify func(CodeEvent)) *Codes {
	if now == nil {
		now = time.Now
	}
	if notify == nil {
		notify = func(CodeEvent) {}
	}
	return &Codes{now: now, notify: notify, sources: map[netip.Addr]*source{}}
}

// New makes a fresh code to show, replacing any showing one, and says
// until when it works.
func (c *Codes) New() (code string, expires time.Time) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	code = fmt.Sprintf("%06d", n)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.code, c.expires, c.wrong = code, c.now().Add(CodeLifetime), 0
	return code, c.expires
}

// Withdraw stops the showing code working (the screen showing it closed).
func (c *Codes) Withdraw() {
	c.mu.Lock()
	c.code = ""
	c.mu.Unlock()
}

// Check checks the code a device at src typed. nil means it was the
// showing code, which is then used up. Otherwise the error is ErrNoCode,
// ErrCodeBurnt, a *WrongCodeError or a *LockedError, each worded for the
// device's screen.
func (c *Codes) Check(src netip.Addr, typed string) error {
	now := c.now()
	c.mu.Lock()
	s := c.source(src, now)
	if wait := s.guard.Wait(); wait > 0 {
		c.mu.Unlock()
		return &LockedError{Wait: wait}
	}
	if c.code == "" || !now.Before(c.expires) {
		c.code = ""
		c.mu.Unlock()
		return ErrNoCode
	}
	given, ok := ParseCode(typed)
	if ok && subtle.ConstantTimeCompare([]byte(given), []byte(c.code)) == 1 {
		c.code = ""
		s.guard.Record(true)
		c.mu.Unlock()
		return nil
	}
	c.wrong++
	locked := s.guard.Record(false)
	burnt := c.wrong >= CodeTries
	if burnt {
		c.code = ""
	}
	left := CodeTries - c.wrong
	c.mu.Unlock()

	if burnt || locked > 0 {
		c.notify(CodeEvent{Burnt: burnt, Source: src, Locked: locked})
	}
	switch {
	case locked > 0:
		return &LockedError{Wait: locked}
	case burnt:
		return ErrCodeBurnt
	}
	return &WrongCodeError{Left: left}
}

// source is src's record, made when new; the table forgets devices idle
// longer than the longest lockout, so it stays small.
func (c *Codes) source(src netip.Addr, now time.Time) *source {
	s := c.sources[src]
	if s == nil {
		if len(c.sources) >= maxSources {
			for a, old := range c.sources {
				if now.Sub(old.last) > pin.MaxLockout {
					delete(c.sources, a)
				}
			}
		}
		if len(c.sources) >= maxSources {
			// All recent: a flood from many addresses. Forget one; the
			// code's own five tries still bound the guessing.
			for a := range c.sources {
				delete(c.sources, a)
				break
			}
		}
		s = &source{guard: pin.NewGuard(c.now)}
		c.sources[src] = s
	}
	s.last = now
	return s
}

// ParseCode reads a typed code: six ASCII digits, spaces and hyphens
// between them ignored ("123 456", "123-456"). ok is false for anything
// else.
func ParseCode(typed string) (code string, ok bool) {
	if len(typed) > 4*CodeDigits {
		return "", false
	}
	b := make([]byte, 0, CodeDigits)
	for i := 0; i < len(typed); i++ {
		switch ch := typed[i]; {
		case ch >= '0' && ch <= '9':
			if len(b) == CodeDigits {
				return "", false
			}
			b = append(b, ch)
		case ch == ' ' || ch == '-':
		default:
			return "", false
		}
	}
	if len(b) != CodeDigits {
		return "", false
	}
	return string(b), true
}
