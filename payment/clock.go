package payment

import (
	"crypto/rand"
	"encoding/hex"
	"time"
)

// Clock is the machine's source of time, injectable for tests.
type Clock interface {
	Now() time.Time
	NewTimer(d time.Duration) Timer
}

// Timer is the part of *time.Timer the machine uses.
type Timer interface {
	C() <-chan time.Time
	Stop() bool
}

// RealClock is the wall clock (with Go's monotonic reading).
type RealClock struct{}

func (RealClock) Now() time.Time { return time.Now() }

func (RealClock) NewTimer(d time.Duration) Timer { return realTimer{time.NewTimer(d)} }

type realTimer struct{ t *time.Timer }

func (r realTimer) C() <-chan time.Time { return r.t.C }
func (r realTimer) Stop() bool          { return r.t.Stop() }

// NewOutTradeNo makes a merchant order number: unique across kiosks and
// restarts (time + 64 random bits), readable in the merchant portal, and
// well inside the gateway's 128 bytes.
func NewOutTradeNo(prefix string, now time.Time) string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	if prefix == "" {
		prefix = "QK"
	}
	return prefix + now.UTC().Format("20060102150405") + hex.EncodeToString(b[:])
}
