// Package simkit is the machinery the gateway simulators share apart from
// their protocols.
//
// It injects faults (latency, dropped connections, chance draws), delivers
// notifications on a retry schedule and serves a simulator command until
// it is stopped. What a gateway says, and when, stays in its own
// simulator; the simulators and this kit live together under sim/, so
// neither reaches into the kiosk's packages.
package simkit

import (
	"context"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"
)

// Dice draws the faults a simulator injects. It is safe for concurrent use.
type Dice struct {
	mu  sync.Mutex
	rng *rand.Rand
}

// NewDice draws from rng (math/rand/v2); nil = seeded from the clock. Give
// a seeded rng for a reproducible sequence of faults.
func NewDice(rng *rand.Rand) *Dice {
	if rng == nil {
		seed := uint64(time.Now().UnixNano())
		rng = rand.New(rand.NewPCG(seed, seed>>32|1))
	}
	return &Dice{rng: rng}
}

// Chance reports true with probability rate: never at 0 or below, always
// at 1 or above, without a draw at either end.
func (d *Dice) Chance(rate float64) bool {
	switch {
	case rate <= 0:
		return false
	case rate >= 1:
		return true
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.rng.Float64() < rate
}

// Sleep waits d (latency injection) and reports false if ctx ended first:
// the caller went away and there is no one to answer.
func Sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// DropConnection closes the connection without writing a response: the
// client cannot tell whether the call took effect.
func DropConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler) // not hijackable (HTTP/2): abort the stream
	}
	conn.Close()
}

// Healthz answers a liveness probe.
func Healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok\n"))
}
