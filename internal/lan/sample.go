package lan

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// sampleFirst refusals of a kind are logged in full per interval; the
// rest are counted and logged as one line, so a flood cannot fill the disk.
const sampleFirst = 5

// sampler logs refusals: the first few of each kind per interval, then a
// count of those it left out.
type sampler struct {
	log   *slog.Logger
	now   func() time.Time
	every time.Duration

	mu    sync.Mutex
	kinds map[string]*window
}

type window struct {
	start      time.Time
	logged     int
	suppressed int
}

func newSampler(log *slog.Logger, now func() time.Time, every time.Duration) *sampler {
	return &sampler{log: log, now: now, every: every, kinds: map[string]*window{}}
}

// refuse records one refusal of kind reason.
func (s *sampler) refuse(reason string, attrs ...slog.Attr) {
	now := s.now()
	s.mu.Lock()
	w := s.kinds[reason]
	var left int
	if w == nil || now.Sub(w.start) >= s.every {
		if w != nil {
			left = w.suppressed
		}
		w = &window{start: now}
		s.kinds[reason] = w
	}
	full := w.logged < sampleFirst
	if full {
		w.logged++
	} else {
		w.suppressed++
	}
	s.mu.Unlock()

	if left > 0 {
		s.suppressed(reason, left)
	}
	if full {
		s.log.LogAttrs(context.Background(), slog.LevelWarn, "lan: refused", append([]slog.Attr{slog.String("reason", reason)}, attrs...)...)
	}
}

func (s *sampler) suppressed(reason string, n int) {
	s.log.LogAttrs(context.Background(), slog.LevelWarn, "lan: more refusals not logged", slog.String("reason", reason), slog.Int("count", n), slog.Duration("within", s.every))
}

// flush logs the counts still held back (at shutdown).
func (s *sampler) flush() {
	s.mu.Lock()
	held := map[string]int{}
	for reason, w := range s.kinds {
		if w.suppressed > 0 {
			held[reason] = w.suppressed
			w.suppressed = 0
		}
	}
	s.mu.Unlock()
	for reason, n := range held {
		s.suppressed(reason, n)
	}
}
