package qfpaysim

import (
	"net/http"
	"time"

	"qrkiosk/payment/qfpay"
)

// limiter is QFPay's per-merchant request budget ("400 requests per
// minute", HTTP 429 past it) as a sliding window on the simulator's clock:
// a request is allowed when fewer than limit were allowed in the window
// before it. Refused requests do not count.
type limiter struct {
	window time.Duration
	times  []time.Time // the last allowed requests, a ring of at most limit
	next   int         // the oldest once the ring is full
	limit  int
}

func newLimiter(limit int, window time.Duration) *limiter {
	return &limiter{window: window, limit: limit, times: make([]time.Time, 0, limit)}
}

func (l *limiter) allow(now time.Time) bool {
	if len(l.times) < l.limit {
		l.times = append(l.times, now)
		return true
	}
	if now.Sub(l.times[l.next]) < l.window {
		return false
	}
	l.times[l.next] = now
	l.next = (l.next + 1) % l.limit
	return true
}

// allow applies the rate limit to a trade/v1 request. The budget belongs
// to the app code, so only requests naming ours count; the rest are
// refused with 1108 anyway.
func (s *Sim) allow(r *http.Request) bool {
	if s.limiter == nil || r.Header.Get(qfpay.HeaderAppCode) != s.cfg.AppCode {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.limiter.allow(s.now())
}
