package relay

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// Every notification result the server counts is on /metrics from the
// start, at 0, so a dashboard's rate() has a series before the first
// failure: prommetrics keeps its own list of them, which must not drift.
func TestMetricsShowEveryNotificationResult(t *testing.T) {
	tr := startRelay(t, t.TempDir(), "127.0.0.1:0", nil)
	_, body := get(t, tr.url("/metrics"))
	for _, r := range []string{resultReceived, resultVerified, resultRejected, resultMalformed, resultDuplicate, resultFailed} {
		if !strings.Contains(body, `qrkiosk_relay_notifications_total{result="`+r+`"} 0`) {
			t.Errorf("/metrics has no %s series at 0", r)
		}
	}
}

// A relay run without metrics (the kiosk's demo) counts nothing, serves
// no /metrics, and works as any other.
func TestRelayWithoutMetrics(t *testing.T) {
	tr := startRelay(t, t.TempDir(), "127.0.0.1:0", func(c *Config) { c.Metrics = nil })
	if code, _ := get(t, tr.url("/metrics")); code != http.StatusNotFound {
		t.Errorf("/metrics without metrics: %d, want 404", code)
	}
	k := dialKiosk(t, tr, nil)
	k.subscribe("O-1", "")
	postSigned(t, tr, notifBody("payment", "S-1", "O-1", ""))
	if m, err := k.next(5 * time.Second); err != nil || m.SysSN != "S-1" {
		t.Fatalf("without metrics: %+v %v", m, err)
	}
}
