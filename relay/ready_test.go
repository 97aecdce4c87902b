package relay

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"qrkiosk/relay/store"
)

// fullStore fails notification writes (and writes as large as one) while
// full is set, as a journal does on a full disk, while its small
// heartbeat still commits into pages the journal already has.
type fullStore struct {
	store.Store
	full atomic.Bool
}

var errDiskFull = errors.New("database or disk is full (SQLITE_FULL)")

func (f *fullStore) Append(ctx context.Context, r *store.Record) (bool, error) {
	if f.full.Load() {
		return false, errDiskFull
	}
	return f.Store.Append(ctx, r)
}

func (f *fullStore) Probe(ctx context.Context) error {
	if f.full.Load() {
		return errDiskFull
	}
	return f.Store.Probe(ctx)
}

// /readyz tells the load balancer the truth when notifications cannot be
// stored: not ready, saying why, from the failed write on, although a
// heartbeat still commits; ready again once a write as large as a
// notification commits, without waiting for a notification to succeed.
func TestReadinessFollowsTheLastNotificationWrite(t *testing.T) {
	fs := &fullStore{}
	tr := startRelay(t, t.TempDir(), "127.0.0.1:0", func(c *Config) {
		fs.Store = c.Store
		c.Store = fs
	})
	waitReady := func(want int) string {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			code, body := get(t, tr.url("/readyz"))
			if code == want {
				return body
			}
			if time.Now().After(deadline) {
				t.Fatalf("/readyz %d %q, want %d", code, body, want)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitReady(200)
	fs.full.Store(true)
	body := notifBody("payment", "S-FULL", "O-FULL", "K")
	if code, _ := post(t, http.DefaultClient, tr.url("/notify/qfpay"), body,
		map[string]string{"X-QF-SIGN": md5Sign(body, testKey)}); code != 503 {
		t.Fatalf("notification on a full disk: %d, want 503", code)
	}
	if metric(t, tr.s, "qrkiosk_relay_ready", "") != 0 {
		t.Error("qrkiosk_relay_ready still 1 after a failed notification write")
	}
	if got := waitReady(503); !strings.Contains(got, "last notification write failed") || !strings.Contains(got, "disk is full") {
		t.Fatalf("/readyz on a full disk says %q", got)
	}
	// Still full: a second look (past the 1 s cache) still says so.
	time.Sleep(readyCache)
	if code, _ := get(t, tr.url("/readyz")); code != 503 {
		t.Fatalf("/readyz %d while still full", code)
	}
	fs.full.Store(false)
	waitReady(200)
	postSigned(t, tr, body) // the gateway's retry
}
