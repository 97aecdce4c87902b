package relay

import (
	"net/http"
	"time"
)

// Metrics counts what the server does, for an operator's dashboards, and
// answers GET /metrics with them. relay/prommetrics is the relay command's
// (Prometheus); without one nothing is counted and there is no /metrics,
// so a program that runs a relay of its own (the kiosk's demo) links no
// metrics library.
type Metrics interface {
	http.Handler
	// Info names this instance and its store's Kind once, at start;
	// listener is the store's Listener.
	Info(instance, storage string, listener func() (has, up bool)) error
	Notification(result string)        // a notification reached a step: result… below
	Connections(delta int)             // kiosk connections open here, up or down
	Delivered(latency time.Duration)   // a live notification written to a kiosk, since its receipt
	SlowKioskDropped()                 // a kiosk's send queue was full or a write timed out
	KioskRefused(reason string)        // at the handshake: reason… below
	SubscriptionRefused(reason string) // reason… below
	KioskDisconnected(reason string)   // by the relay, for a reason other than slowness
	FannedOut(n int)                   // stored notifications read back and offered to the kiosks here
	Pruned(deleted int64)              // one retention pass
	StoreError()                       // a failed read by the fan-out, the revocation watch or pruning
	Ready(ready bool)                  // the last readiness check, or notification write
}

// Notification results, what Metrics.Notification counts.
const (
	resultReceived  = "received"  // every POST that reached the handler
	resultVerified  = "verified"  // signature good (stored or duplicate)
	resultRejected  = "rejected"  // bad/missing signature, too large, not allowed, unknown merchant
	resultMalformed = "malformed" // signature good, body not a notification
	resultDuplicate = "duplicate" // already stored: answered, not broadcast again
	resultFailed    = "failed"    // store error: not answered SUCCESS, the gateway retries
)

// Why a kiosk was refused or disconnected, the reasons Metrics counts.
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

// noMetrics counts nothing.
type noMetrics struct{}

func (noMetrics) ServeHTTP(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) }
func (noMetrics) Info(string, string, func() (bool, bool)) error   { return nil }
func (noMetrics) Notification(string)                              {}
func (noMetrics) Connections(int)                                  {}
func (noMetrics) Delivered(time.Duration)                          {}
func (noMetrics) SlowKioskDropped()                                {}
func (noMetrics) KioskRefused(string)                              {}
func (noMetrics) SubscriptionRefused(string)                       {}
func (noMetrics) KioskDisconnected(string)                         {}
func (noMetrics) FannedOut(int)                                    {}
func (noMetrics) Pruned(int64)                                     {}
func (noMetrics) StoreError()                                      {}
func (noMetrics) Ready(bool)                                       {}
