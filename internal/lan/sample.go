package lan

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// sampleFirst refusals of a kind are logged in full per interval by the LAN
// server; the rest are counted and logged as one line, so a flood cannot
// fill the disk.
const sampleFirst = 5

// Sampler logs refusals: the first few of each kind per interval, then one
// line counting those it left out. The LAN server and the routes on it (the
// POS endpoint, the displays) each keep one. It is safe for concurrent use.
type Sampler struct {
	log   *slog.Logger
	name  string // the lines' prefix: "lan", "ecr", "display"
	first int
	every time.Duration
	now   func() time.Time

	mu    sync.Mutex
	kinds map[string]*window
}

type window struct {
	start      time.Time
	logged     int
	suppressed int
}

// NewSampler logs the first refusals of each kind per interval every
// through log; now nil is time.Now.
func NewSampler(log *slog.Logger, name string, first int, every time.Duration, now func() time.Time) *Sampler {
	if now == nil {
		now = time.Now
	}
	return &Sampler{log: log, name: name, first: first, every: every, now: now, kinds: map[string]*window{}}
}

// Refuse logs msg with args (as slog's Warn takes them) for one refusal of
// kind, unless kind has had its first lines this interval. kind must come
// from the code, never from a request: each kind keeps its own count.
func (s *Sampler) Refuse(kind, msg string, args ...any) {
	now := s.now()
	s.mu.Lock()
	w := s.kinds[kind]
	var left int
	if w == nil || now.Sub(w.start) >= s.every {
		if w != nil {
			left = w.suppressed
		}
		w = &window{start: now}
		s.kinds[kind] = w
	}
	full := w.logged < s.first
	if full {
		w.logged++
	} else {
		w.suppressed++
	}
	s.mu.Unlock()

	if left > 0 {
		s.suppressed(kind, left)
	}
	if full {
		s.log.Log(context.Background(), slog.LevelWarn, msg, args...)
	}
}

func (s *Sampler) suppressed(kind string, n int) {
	s.log.LogAttrs(context.Background(), slog.LevelWarn, s.name+": more refusals not logged", slog.String("reason", kind), slog.Int("count", n), slog.Duration("within", s.every))
}

// Flush logs the counts still held back (at shutdown).
func (s *Sampler) Flush() {
	s.mu.Lock()
	held := map[string]int{}
	for kind, w := range s.kinds {
		if w.suppressed > 0 {
			held[kind] = w.suppressed
			w.suppressed = 0
		}
	}
	s.mu.Unlock()
	for kind, n := range held {
		s.suppressed(kind, n)
	}
}

// refuse is the LAN server's own refusal of kind reason.
func (s *Sampler) refuse(reason string, attrs ...slog.Attr) {
	args := make([]any, 0, len(attrs)+1)
	args = append(args, slog.String("reason", reason))
	for _, a := range attrs {
		args = append(args, a)
	}
	s.Refuse(reason, "lan: refused", args...)
}
