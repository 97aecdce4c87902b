package relay

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Notification results, the label values of qrkiosk_relay_notifications_total.
const (
	resultReceived  = "received"  // every POST that reached the handler
	resultVerified  = "verified"  // signature good (stored or duplicate)
	resultRejected  = "rejected"  // bad/missing signature, too large, not allowed
	resultMalformed = "malformed" // signature good, body not a notification
	resultDuplicate = "duplicate" // already journaled: SUCCESS, not broadcast
	resultFailed    = "failed"    // journal error: not SUCCESS, the gateway retries
)

type metrics struct {
	notifications *prometheus.CounterVec
	connected     prometheus.Gauge
	latency       prometheus.Histogram
	dropped       prometheus.Counter
	pruned        prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, own bool) (*metrics, error) {
	m := &metrics{
		notifications: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "qrkiosk_relay_notifications_total",
			Help: "Gateway notifications by result: received, verified, rejected, malformed, duplicate, failed.",
		}, []string{"result"}),
		connected: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "qrkiosk_relay_connected_kiosks",
			Help: "Kiosk websocket connections currently open.",
		}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "qrkiosk_relay_delivery_latency_seconds",
			Help: "From receipt of a notification to its write on a kiosk's socket (live deliveries only).",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1,
				2.5},
		}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "qrkiosk_relay_slow_clients_dropped_total",
			Help: "Kiosk connections dropped because their send queue was full or a write timed out.",
		}),
		pruned: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "qrkiosk_relay_notifications_pruned_total",
			Help: "Notifications deleted from the journal for being older than the retention period.",
		}),
	}
	for _, r := range []string{resultReceived, resultVerified, resultRejected, resultMalformed,
		resultDuplicate, resultFailed} {
		m.notifications.WithLabelValues(r)
	}
	cs := []prometheus.Collector{m.notifications, m.connected, m.latency, m.dropped, m.pruned}
	if own {
		cs = append(cs, collectors.NewGoCollector(),
			collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *metrics) count(result string) { m.notifications.WithLabelValues(result).Inc() }
