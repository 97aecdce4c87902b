package relay

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Notification results, the label values of qrkiosk_relay_notifications_total.
const (
	resultReceived  = "received"  // every POST that reached the handler
	resultVerified  = "verified"  // signature good (stored or duplicate)
	resultRejected  = "rejected"  // bad/missing signature, too large, not allowed, unknown merchant
	resultMalformed = "malformed" // signature good, body not a notification
	resultDuplicate = "duplicate" // already stored: answered, not broadcast again
	resultFailed    = "failed"    // store error: not answered SUCCESS, the gateway retries
)

// Why a kiosk was refused or disconnected, the reason label values.
const (
	reasonUnauthorized       = "unauthorized"    // no or unknown token
	reasonRevoked            = "revoked"         // token revoked (at connect, or live)
	reasonDeviceMismatch     = "device_mismatch" // the kiosk's udid is not the token's
	reasonTooManyConns       = "too_many_connections"
	reasonRelayFull          = "relay_full"   // MaxConns connections open on this instance
	reasonRateLimited        = "rate_limited" // the source's refusals are used up
	reasonShuttingDown       = "shutting_down"
	reasonTooManySubs        = "too_many_subscriptions"
	reasonForeignOrder       = "foreign_order"  // out_trade_no of another device or merchant
	reasonForeignDevice      = "foreign_device" // udid of another device
	reasonDeviceClaimLimit   = "device_claim_limit"
	reasonMerchantClaimLimit = "merchant_claim_limit"
	reasonBinaryFrame        = "binary_frame"
	reasonInvalidUTF8        = "invalid_utf8"
	reasonReplayBusy         = "replay_busy" // no room to replay for replayWait
	reasonUnavailable        = "storage_unavailable"
)

type metrics struct {
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

func newMetrics(reg prometheus.Registerer, own bool, instance, storage string, listening func() float64) (*metrics, error) {
	m := &metrics{
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
	info := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "qrkiosk_relay_instance_info",
		Help:        "This relay instance's name and storage (sqlite or postgres); always 1.",
		ConstLabels: prometheus.Labels{"instance_name": instance, "storage": storage},
	})
	info.Set(1)
	for _, r := range []string{resultReceived, resultVerified, resultRejected, resultMalformed,
		resultDuplicate, resultFailed} {
		m.notifications.WithLabelValues(r)
	}
	cs := []prometheus.Collector{m.notifications, m.connected, m.latency, m.dropped, m.pruned, m.prunePasses, m.refused,
		m.subsRefused, m.disconnected, m.fanout, m.storeErrors, m.ready, info}
	if listening != nil {
		cs = append(cs, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "qrkiosk_relay_database_listener_up",
			Help: "1 while this instance LISTENs for other instances' notifications; while 0 it polls the table every second.",
		}, listening))
	}
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
