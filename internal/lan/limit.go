package lan

import (
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// maxSources bounds a route's rate-limit table: a flood from many
// addresses costs a fixed amount of memory, not one entry each.
const maxSources = 4096

// limiter is a token bucket per source address for one route.
type limiter struct {
	rate  float64 // tokens a second
	burst float64

	mu      sync.Mutex
	sources map[netip.Addr]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newLimiter(rate float64, burst int) *limiter {
	return &limiter{rate: rate, burst: float64(burst), sources: map[netip.Addr]*bucket{}}
}

// allow takes a token for src, or says how long until one is free.
func (l *limiter) allow(src netip.Addr, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.sources[src]
	if b == nil {
		if len(l.sources) >= maxSources {
			l.evict(now)
		}
		b = &bucket{tokens: l.burst, at: now}
		l.sources[src] = b
	}
	if el := now.Sub(b.at).Seconds(); el > 0 {
		b.tokens = min(l.burst, b.tokens+el*l.rate)
	}
	b.at = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
}

// evict forgets the sources whose buckets have refilled (forgetting them
// changes nothing), and when none has, an eighth of the table.
func (l *limiter) evict(now time.Time) {
	for a, b := range l.sources {
		if b.tokens+now.Sub(b.at).Seconds()*l.rate >= l.burst {
			delete(l.sources, a)
		}
	}
	for a := range l.sources {
		if len(l.sources) < maxSources*7/8 {
			break
		}
		delete(l.sources, a)
	}
}

// capListener refuses connections beyond max by closing them at once,
// before any TLS handshake: the cheapest refusal there is.
type capListener struct {
	net.Listener
	max int
	ref *Sampler

	mu    sync.Mutex
	conns map[*capConn]struct{}
}

func (l *capListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		l.mu.Lock()
		if len(l.conns) >= l.max {
			l.mu.Unlock()
			l.ref.refuse("connection cap", slog.String("source", c.RemoteAddr().String()), slog.Int("max", l.max))
			c.Close()
			continue
		}
		cc := &capConn{Conn: c, l: l}
		if l.conns == nil {
			l.conns = map[*capConn]struct{}{}
		}
		l.conns[cc] = struct{}{}
		l.mu.Unlock()
		return cc, nil
	}
}

// closeHijacked closes the connections handlers took over (websockets).
func (l *capListener) closeHijacked() {
	l.mu.Lock()
	var hijacked []*capConn
	for c := range l.conns {
		if c.hijacked.Load() {
			hijacked = append(hijacked, c)
		}
	}
	l.mu.Unlock()
	for _, c := range hijacked {
		c.Close()
	}
}

type capConn struct {
	net.Conn
	l        *capListener
	hijacked atomic.Bool
	once     sync.Once
}

func (c *capConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		c.l.mu.Lock()
		delete(c.l.conns, c)
		c.l.mu.Unlock()
	})
	return err
}
