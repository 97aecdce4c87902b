// Package prommetrics counts what the relay server does as Prometheus
// metrics and serves them at /metrics: the relay command's relay.Metrics.
package prommetrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
)

// results are the label values of qrkiosk_relay_notifications_total, the
// server's: each is exported at 0 from the start.
var results = []string{"received", "verified", "rejected", "malformed", "duplicate", "failed"}

// Metrics is the relay's metrics in a registry of their own, with the Go
// runtime's and the process's.
type Metrics struct {
	reg     *prometheus.Registry
	handler http.Handler

	notifications *prometheus.CounterVec
	connected     prometheus.Gauge
	latency       prometheus.Histogram
	dropped       prometheus.Counter
	pruned        prometheus.Counter
	prunePasses   prometheus.Counter     // retention passes this instance ran (or found done by another)
	refused       *prometheus.CounterVec // websocket connections refused at the handshake
	subsRefused   *prometheus.CounterVec
	disconnected  *prometheus.CounterVec // kiosks disconnected by the relay for a reason other than slowness
	fanout        prometheus.Counter
	storeErrors   prometheus.Counter
	ready         prometheus.Gauge
}

// New registers the relay's metrics; the server adds what names it
// (Info) when it starts.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		notifications: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "qrkiosk_relay_notifications_total",
			Help: "Gateway notifications received by this instance, by result: received, verified, rejected, malformed, duplicate, failed.",
		}, []string{"result"}),
		connected: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "qrkiosk_relay_connected_kiosks",
			Help: "Kiosk websocket connections currently open on this instance.",
		}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "qrkiosk_relay_delivery_latency_seconds",
			Help: "From receipt of a notification (by any instance) to its write on a kiosk's socket (live deliveries only).",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1,
				2.5},
		}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "qrkiosk_relay_slow_clients_dropped_total",
			Help: "Kiosk connections dropped because their send queue was full or a write timed out.",
		}),
		pruned: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "qrkiosk_relay_notifications_pruned_total",
			Help: "Notifications this instance deleted for being older than the retention period.",
		}),
		prunePasses: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "qrkiosk_relay_prune_passes_total",
			Help: "Retention passes this instance made (0 while notifications are kept for ever).",
		}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "qrkiosk_relay_kiosks_refused_total",
			Help: "Kiosk connections refused at the handshake, by reason: unauthorized, revoked, device_mismatch, too_many_connections, relay_full, rate_limited, storage_unavailable, shutting_down.",
		}, []string{"reason"}),
		subsRefused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "qrkiosk_relay_subscriptions_refused_total",
			Help: "Kiosk subscriptions refused, by reason: too_many_subscriptions, foreign_order, foreign_device, device_claim_limit, merchant_claim_limit, storage_unavailable.",
		}, []string{"reason"}),
		disconnected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "qrkiosk_relay_kiosks_disconnected_total",
			Help: "Kiosk connections closed by the relay, by reason: revoked, binary_frame, invalid_utf8, replay_busy (slow kiosks: qrkiosk_relay_slow_clients_dropped_total).",
		}, []string{"reason"}),
		fanout: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "qrkiosk_relay_fanout_notifications_total",
			Help: "Stored notifications (from any instance) this instance read back and offered to its kiosks.",
		}),
		storeErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "qrkiosk_relay_store_errors_total",
			Help: "Failed reads of the store by the fan-out, the revocation watch and pruning.",
		}),
		ready: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "qrkiosk_relay_ready",
			Help: "1 if this instance's last readiness check committed a write and its last notification write did not fail, else 0.",
		}),
	}
	for _, r := range results {
		m.notifications.WithLabelValues(r)
	}
	m.reg.MustRegister(m.notifications, m.connected, m.latency, m.dropped, m.pruned, m.prunePasses, m.refused,
		m.subsRefused, m.disconnected, m.fanout, m.storeErrors, m.ready,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.handler = promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
	return m
}

// Info names the relay instance and its storage (sqlite or postgres) in
// qrkiosk_relay_instance_info, and for a store with a listener
// (PostgreSQL's LISTEN) exports whether it is up.
func (m *Metrics) Info(instance, storage string, listener func() (has, up bool)) error {
	info := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "qrkiosk_relay_instance_info",
		Help:        "This relay instance's name and storage (sqlite or postgres); always 1.",
		ConstLabels: prometheus.Labels{"instance_name": instance, "storage": storage},
	})
	info.Set(1)
	if err := m.reg.Register(info); err != nil {
		return err
	}
	if has, _ := listener(); !has {
		return nil
	}
	return m.reg.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "qrkiosk_relay_database_listener_up",
		Help: "1 while this instance LISTENs for other instances' notifications; while 0 it polls the table every second.",
	}, func() float64 {
		if _, up := listener(); up {
			return 1
		}
		return 0
	}))
}

// ServeHTTP answers a scrape.
func (m *Metrics) ServeHTTP(w http.ResponseWriter, r *http.Request) { m.handler.ServeHTTP(w, r) }

// Gather is the registry's, for tests that read a value.
func (m *Metrics) Gather() ([]*dto.MetricFamily, error) { return m.reg.Gather() }

func (m *Metrics) Notification(result string)        { m.notifications.WithLabelValues(result).Inc() }
func (m *Metrics) Connections(delta int)             { m.connected.Add(float64(delta)) }
func (m *Metrics) Delivered(latency time.Duration)   { m.latency.Observe(latency.Seconds()) }
func (m *Metrics) SlowKioskDropped()                 { m.dropped.Inc() }
func (m *Metrics) KioskRefused(reason string)        { m.refused.WithLabelValues(reason).Inc() }
func (m *Metrics) SubscriptionRefused(reason string) { m.subsRefused.WithLabelValues(reason).Inc() }
func (m *Metrics) KioskDisconnected(reason string)   { m.disconnected.WithLabelValues(reason).Inc() }
func (m *Metrics) FannedOut(n int)                   { m.fanout.Add(float64(n)) }
func (m *Metrics) StoreError()                       { m.storeErrors.Inc() }

// Pruned counts one retention pass and what it deleted.
func (m *Metrics) Pruned(deleted int64) {
	m.pruned.Add(float64(deleted))
	m.prunePasses.Inc()
}

func (m *Metrics) Ready(ready bool) {
	if ready {
		m.ready.Set(1)
	} else {
		m.ready.Set(0)
	}
}
