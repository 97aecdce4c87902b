// Package retry is what the gateway clients' retries share: how long to
// wait before the next attempt, and which failed exchanges certainly never
// reached the gateway. When a retry is safe at all stays with each client:
// it depends on what its gateway's answers mean.
package retry

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"time"
)

// Backoff is a doubling delay with jitter: the wait before retry n is
// First·2^(n-1), at most Max, then a random point in its upper half, so
// that kiosks that failed together do not all ask again together.
type Backoff struct {
	First, Max time.Duration
}

// Delay is the wait before retry n (1 = the first retry).
func (b Backoff) Delay(n int) time.Duration {
	d := b.First << (n - 1)
	if d > b.Max || d <= 0 {
		d = b.Max
	}
	return d/2 + rand.N(d/2+1)
}

// Wait waits d, or until ctx ends and then returns its error.
func Wait(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// NotSent reports whether err, from sending a request, is a failure to
// connect: the request never left, so the gateway cannot have acted on it
// and sending it again is safe. Any other failure (a timeout, a reset, a
// lost answer) may come after the gateway acted.
func NotSent(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}
