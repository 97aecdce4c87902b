package relay

import (
	"log/slog"
	"net/netip"
	"sync"
	"time"
)

// sourceLimiter keeps refusals cheap and bounded for whoever provokes
// them: each source address (an IPv6 /64, which one subscriber usually
// holds whole) earns at most perMinute refused handshakes a minute, that
// many at once, and is then answered 429 before any token look-up.
// Successful handshakes cost nothing, so a kiosk behind the same NAT as a
// misconfigured one gets in whenever the bucket has a token left.
type sourceLimiter struct {
	mu        sync.Mutex
	perMinute float64
	max       int // sources remembered; a full map forgets the idle first
	sources   map[netip.Prefix]*bucket
	swept     time.Time
}

type bucket struct {
	tokens float64
	at     time.Time
}

// maxSources bounds the limiter's memory (about 100 bytes a source).
const maxSources = 10000

func newSourceLimiter(perMinute int) *sourceLimiter {
	return &sourceLimiter{perMinute: float64(perMinute), max: maxSources, sources: make(map[netip.Prefix]*bucket)}
}

// sourceKey groups IPv6 addresses by /64; an unparsable source (no
// address) is one key of its own.
func sourceKey(a netip.Addr) netip.Prefix {
	if !a.IsValid() {
		return netip.Prefix{}
	}
	bits := 32
	if a.Is6() {
		bits = 64
	}
	p, _ := a.Prefix(bits)
	return p
}

// refill brings b up to now and returns its tokens.
func (l *sourceLimiter) refill(b *bucket, now time.Time) float64 {
	b.tokens = min(l.perMinute, b.tokens+now.Sub(b.at).Minutes()*l.perMinute)
	b.at = now
	return b.tokens
}

// limited reports whether a is out of refusals, and when it will have one.
func (l *sourceLimiter) limited(a netip.Addr, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.sources[sourceKey(a)]
	if !ok || l.refill(b, now) >= 1 {
		return false, 0
	}
	return true, time.Duration((1 - b.tokens) / l.perMinute * float64(time.Minute))
}

// refused takes one of a's refusals.
func (l *sourceLimiter) refused(a netip.Addr, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := sourceKey(a)
	b, ok := l.sources[k]
	if !ok {
		if len(l.sources) >= l.max {
			l.forget(now)
		}
		b = &bucket{tokens: l.perMinute, at: now}
		l.sources[k] = b
	}
	l.refill(b, now)
	b.tokens = max(0, b.tokens-1)
}

// forget makes room: sources whose bucket is full again carry nothing
// worth keeping (looked for at most once a second: it walks the map);
// failing that, any one goes.
func (l *sourceLimiter) forget(now time.Time) {
	if now.Sub(l.swept) >= time.Second {
		l.swept = now
		for k, b := range l.sources {
			if l.refill(b, now) >= l.perMinute {
				delete(l.sources, k)
			}
		}
	}
	for k := range l.sources {
		if len(l.sources) < l.max {
			break
		}
		delete(l.sources, k)
	}
}

// logSampler bounds the log lines a flood of refusals writes: the first
// burst lines, then one per every; the next line logged says how many
// were left out. The metrics count every refusal.
type logSampler struct {
	mu         sync.Mutex
	burst      float64
	every      time.Duration
	tokens     float64
	at         time.Time
	suppressed int
}

const (
	sampleBurst = 10
	sampleEvery = 10 * time.Second
)

func newLogSampler() *logSampler {
	return &logSampler{burst: sampleBurst, every: sampleEvery, tokens: sampleBurst}
}

// allow reports whether to log a line now, and how many were left out
// since the last one.
func (l *logSampler) allow(now time.Time) (bool, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.at.IsZero() {
		l.tokens = min(l.burst, l.tokens+float64(now.Sub(l.at))/float64(l.every))
	}
	l.at = now
	if l.tokens < 1 {
		l.suppressed++
		return false, 0
	}
	l.tokens--
	left := l.suppressed
	l.suppressed = 0
	return true, left
}

// warn logs a refusal's line at Warn unless too many came lately.
func (l *logSampler) warn(log *slog.Logger, msg string, args ...any) {
	ok, left := l.allow(time.Now())
	if !ok {
		return
	}
	if left > 0 {
		args = append(args, "suppressed", left)
	}
	log.Warn(msg, args...)
}
