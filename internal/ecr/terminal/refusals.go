package terminal

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// logFirst refused requests are logged in full per interval; the rest are
// counted, so a POS (or a prober) sending bad requests cannot fill the
// disk. The LAN server's rate limit bounds how many there are at all.
const logFirst = 10

// refusals logs refused requests, sampled.
type refusals struct {
	log   *slog.Logger
	every time.Duration

	mu        sync.Mutex
	start     time.Time
	logged    int
	suppresed int
}

func newRefusals(log *slog.Logger, every time.Duration) *refusals {
	return &refusals{log: log, every: every}
}

func (r *refusals) refuse(attrs ...slog.Attr) {
	now := time.Now()
	r.mu.Lock()
	var left int
	if now.Sub(r.start) >= r.every {
		left, r.start, r.logged, r.suppresed = r.suppresed, now, 0, 0
	}
	full := r.logged < logFirst
	if full {
		r.logged++
	} else {
		r.suppresed++
	}
	r.mu.Unlock()
	if left > 0 {
		r.log.Warn("ecr: more refused requests not logged", "count", left, "within", r.every)
	}
	if full {
		r.log.LogAttrs(context.Background(), slog.LevelWarn, "ecr: request refused", attrs...)
	}
}
