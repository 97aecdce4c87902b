package webdisplay

import (
	"log/slog"
	"sync"
	"time"
)

// refusedFirst refusals a minute are logged in full; the rest are counted
// and logged with the next minute's first, so a flood of bad codes or
// tokens cannot fill the disk.
const refusedFirst = 5

// refusals samples the log of refused requests.
type refusals struct {
	log *slog.Logger
	now func() time.Time

	mu         sync.Mutex
	start      time.Time
	logged     int
	suppressed int
}

// refused logs one refusal, sampled. Never pass a code or a token.
func (r *refusals) refused(msg string, args ...any) {
	now := r.now()
	r.mu.Lock()
	left := 0
	if now.Sub(r.start) >= time.Minute {
		left, r.start, r.logged, r.suppressed = r.suppressed, now, 0, 0
	}
	full := r.logged < refusedFirst
	if full {
		r.logged++
	} else {
		r.suppressed++
	}
	r.mu.Unlock()
	if left > 0 {
		r.log.Warn("display: more refusals not logged", "count", left, "within", time.Minute)
	}
	if full {
		r.log.Warn("display: refused: "+msg, args...)
	}
}
