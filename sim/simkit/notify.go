package simkit

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// notifyTimeout bounds one delivery attempt.
const notifyTimeout = 10 * time.Second

// Notifier delivers a simulator's notifications as a gateway does: each is
// POSTed until the receiver acknowledges it, retried after each wait of the
// gateway's schedule, and given up after the last. Close stops every
// delivery. It is safe for concurrent use.
type Notifier struct {
	schedule []time.Duration
	scale    float64
	log      *slog.Logger
	client   *http.Client

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex
	closed bool
}

// NewNotifier delivers with the retry schedule (the wait before each
// retry), every wait multiplied by scale (tests and demos shorten it),
// logging to log.
func NewNotifier(schedule []time.Duration, scale float64, log *slog.Logger) *Notifier {
	ctx, cancel := context.WithCancel(context.Background())
	return &Notifier{schedule: schedule, scale: scale, log: log, client: &http.Client{Timeout: notifyTimeout}, ctx: ctx, cancel: cancel}
}

// Notification is one notification to deliver.
type Notification struct {
	URL  string
	Body []byte
	// Header is sent with every attempt: the Content-Type, and the
	// signature where the gateway sends it in a header.
	Header http.Header
	// Ack is the answer, with HTTP 200 and surrounding space aside, that
	// acknowledges the notification; FoldCase takes it in any letter case.
	Ack      string
	FoldCase bool
	// Copies is how many times it is delivered in a row: 2 is a duplicate
	// (fault injection); 0 means 1. A copy given up ends the rest.
	Copies int
	// Attrs name it in the log (its order's identifiers); never a key or
	// a signature.
	Attrs []any
	// Delivered, if set, is called after each acknowledged delivery.
	Delivered func()
}

// Send delivers n in the background. After Close it does nothing.
func (nf *Notifier) Send(n Notification) {
	nf.mu.Lock()
	defer nf.mu.Unlock()
	if nf.closed {
		return
	}
	copies := max(n.Copies, 1)
	nf.wg.Add(1)
	go func() {
		defer nf.wg.Done()
		for range copies {
			if !nf.deliver(nf.ctx, n) {
				return
			}
		}
	}()
}

// Close stops every delivery and waits for them to end.
func (nf *Notifier) Close() {
	nf.mu.Lock()
	nf.closed = true
	nf.mu.Unlock()
	nf.cancel()
	nf.wg.Wait()
}

// deliver POSTs n until it is acknowledged, following the schedule. It
// reports whether it was acknowledged.
func (nf *Notifier) deliver(ctx context.Context, n Notification) bool {
	attrs := func(more ...any) []any { return append(append([]any{}, n.Attrs...), more...) }
	for attempt := 1; ; attempt++ {
		err := nf.post(ctx, n)
		if err == nil {
			if n.Delivered != nil {
				n.Delivered()
			}
			nf.log.Info("notification delivered", attrs("attempt", attempt)...)
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		if attempt > len(nf.schedule) {
			nf.log.Warn("notification given up", attrs("attempt", attempt, "err", err)...)
			return false
		}
		wait := time.Duration(float64(nf.schedule[attempt-1]) * nf.scale)
		nf.log.Info("notification not acknowledged; will retry", attrs("attempt", attempt, "retry_in", wait, "err", err)...)
		if !Sleep(ctx, wait) {
			return false
		}
	}
}

// notAcked is an answer other than HTTP 200 and the acknowledgement.
type notAcked struct {
	status int
	body   string
	want   string
}

func (e *notAcked) Error() string {
	return "answered HTTP " + strconv.Itoa(e.status) + " " + strconv.Quote(e.body) + ", not 200 " + e.want
}

func (nf *Notifier) post(ctx context.Context, n Notification) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.URL, bytes.NewReader(n.Body))
	if err != nil {
		return err
	}
	for k, v := range n.Header {
		req.Header[k] = v
	}
	resp, err := nf.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	reply := strings.TrimSpace(string(got))
	acked := reply == n.Ack || n.FoldCase && strings.EqualFold(reply, n.Ack)
	if resp.StatusCode != http.StatusOK || !acked {
		if len(reply) > 64 {
			reply = reply[:64]
		}
		return &notAcked{status: resp.StatusCode, body: reply, want: n.Ack}
	}
	return nil
}
