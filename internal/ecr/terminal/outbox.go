package terminal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"qrkiosk/internal/ecr"
	"qrkiosk/internal/journal"
)

// defaultBackoff is the wait before each retry of a notification the POS
// did not take: soon at first (a POS page waits for it), then every 10
// minutes.
var defaultBackoff = []time.Duration{5 * time.Second, 15 * time.Second, 30 * time.Second, time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute}

// maxAck bounds what is read of the POS's answer ("SUCCESS").
const maxAck = 4 << 10

// outbox delivers the notifications in the journal to the POS's webhook,
// signed as QFPay signs them, until the POS answers SUCCESS.
type outbox struct {
	j       *journal.Journal
	key     string
	client  *http.Client
	backoff []time.Duration
	giveUp  time.Duration
	log     *slog.Logger
	kick    chan struct{}
}

func newOutbox(j *journal.Journal, key string, opts Options, log *slog.Logger) *outbox {
	b := &outbox{j: j, key: key, client: opts.Webhook, backoff: opts.Backoff, giveUp: opts.GiveUp, log: log, kick: make(chan struct{}, 1)}
	if b.client == nil {
		b.client = &http.Client{
			Timeout: 15 * time.Second,
			// A POST redirected becomes a GET elsewhere: the POS would
			// never get it. Its answer tells the owner to fix the URL.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	if len(b.backoff) == 0 {
		b.backoff = defaultBackoff
	}
	if b.giveUp <= 0 {
		b.giveUp = 24 * time.Hour
	}
	return b
}

// wake makes the outbox look at once.
func (b *outbox) wake() {
	select {
	case b.kick <- struct{}{}:
	default:
	}
}

// idle is the longest the outbox sleeps without being woken.
const idle = 30 * time.Second

// run delivers what is due until ctx ends; what is left stays in the
// journal for the next start.
func (b *outbox) run(ctx context.Context) {
	const batch = 8
	for {
		due, next, err := b.j.DuePOSNotices(ctx, b.j.Now(), batch)
		if err != nil && ctx.Err() == nil {
			b.log.Warn("ecr: reading the outbox", "err", err)
		}
		recorded := true
		for _, n := range due {
			if ctx.Err() != nil {
				return
			}
			recorded = b.deliver(ctx, n) && recorded
		}
		if len(due) > 0 && recorded {
			continue // what was sent is due again later: ask when
		}
		sleep := idle
		if !recorded {
			// The journal cannot be written (a full disk): what was sent
			// is still due, so wait before sending it again.
			next = b.j.Now().Add(b.backoff[0])
		}
		if !next.IsZero() {
			sleep = min(sleep, max(0, next.Sub(b.j.Now())))
		}
		timer := time.NewTimer(sleep)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-b.kick:
		case <-timer.C:
		}
		timer.Stop()
	}
}

// deliver posts one notification and records how it went; false when the
// journal could not record it.
func (b *outbox) deliver(ctx context.Context, n journal.POSNotice) bool {
	err := b.post(ctx, n)
	if ctx.Err() != nil {
		return true // shutting down: not an attempt
	}
	if err == nil {
		b.log.Info("ecr: notification delivered", "key", n.Key, "attempts", n.Attempts+1)
		if rerr := b.j.RecordPOSNoticeAttempt(n.Key, true, "", time.Time{}, false); rerr != nil {
			b.log.Error("ecr: recording a delivered notification", "key", n.Key, "err", rerr)
			return false
		}
		return true
	}
	now := b.j.Now()
	wait := b.backoff[min(n.Attempts, len(b.backoff)-1)]
	givenUp := now.Sub(n.Created) >= b.giveUp
	if givenUp {
		b.log.Error("ecr: notification given up: the POS never answered SUCCESS", "key", n.Key, "attempts", n.Attempts+1, "since", n.Created, "err", err)
	} else {
		b.log.Warn("ecr: notification not taken; trying again", "key", n.Key, "attempt", n.Attempts+1, "in", wait, "err", err)
	}
	if rerr := b.j.RecordPOSNoticeAttempt(n.Key, false, err.Error(), now.Add(wait), givenUp); rerr != nil {
		b.log.Error("ecr: recording a notification attempt", "key", n.Key, "err", rerr)
		return false
	}
	return true
}

// post sends n as QFPay sends a notification; nil only when the POS
// answered 200 SUCCESS. The key and the signature are never in an error.
func (b *outbox) post(ctx context.Context, n journal.POSNotice) error {
	req, err := ecr.NewNoticeRequest(ctx, n.URL, n.Body, b.key)
	if err != nil {
		return fmt.Errorf("notify_url: %v", err)
	}
	resp, err := b.client.Do(req)
	if err != nil {
		var ue interface{ Unwrap() error }
		if errors.As(err, &ue) {
			err = ue.Unwrap() // without the URL, which the log has in the config
		}
		return fmt.Errorf("the POS's webhook cannot be reached: %v", err)
	}
	defer resp.Body.Close()
	ack, _ := io.ReadAll(io.LimitReader(resp.Body, maxAck))
	switch {
	case resp.StatusCode/100 == 3:
		return fmt.Errorf("the POS's webhook answered %s (redirected to %q): set notify_url to where it leads", resp.Status, resp.Header.Get("Location"))
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("the POS's webhook answered %s: %.120q", resp.Status, ack)
	case !strings.EqualFold(strings.TrimSpace(string(ack)), "SUCCESS"):
		return fmt.Errorf("the POS's webhook answered %.120q, not SUCCESS (does notify_key match the POS's QFPay notification key?)", ack)
	}
	return nil
}
