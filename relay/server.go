// Package relay is the notify relay's server: it takes payment gateways'
// notifications, proves each genuine with its merchant's key, stores it,
// and pushes it over websockets to the kiosk whose order it is; it also
// keeps the kiosks' e-receipts for their customers' phones.
//
// Files by job: config.go (Config and its defaults), server.go (the
// routes, start and shutdown), notify.go and source.go (notification
// intake), feed.go and replay.go (fan-out to the kiosks, live and
// stored), handshake.go and auth.go (who may connect), pumps.go and
// subscribe.go (each kiosk's connection), hub.go (who follows what),
// receipts.go and receipt_page.go (customers' e-receipts), health.go,
// retention.go. The kiosk's side is relay/relayclient; the
// stores are relay/sqlitestore and relay/pgstore.
package relay

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"qrkiosk/relay/store"
)

// Server is the relay: an http.Handler plus the store and the hub.
type Server struct {
	cfg       Config
	log       *slog.Logger
	st        store.Store
	hub       *hub
	m         Metrics
	mux       *http.ServeMux
	upgrader  websocket.Upgrader
	tokenSum  [sha256.Size]byte
	merchants map[string]map[string]Merchant // gateway → id → merchant

	closing atomic.Bool
	wg      sync.WaitGroup // connection goroutines

	kick        chan struct{} // wakes the fan-out: something was stored here
	replaySem   chan struct{} // replay pages read at once
	replaySlots chan struct{} // replay pages in flight (ReplayMemory / replayPageCost)
	stopBG      context.CancelFunc
	bg          sync.WaitGroup // fan-out, pruning, revocation watch

	fanMu   sync.Mutex
	fanned  int64         // the fan-out has offered every notification up to this id
	fanWait chan struct{} // closed when fanned advances

	shared *credential // the shared Token's, one for all its connections

	readyMu     sync.Mutex
	readyAt     time.Time
	readyErr    error
	lastFailure atomic.Pointer[writeFailure] // nil while the last notification write succeeded

	sources  *sourceLimiter
	misses   *sourceLimiter // receipt pages not found, per source
	wsLog    *logSampler    // handshake refusals
	subLog   *logSampler    // subscription refusals
	notifLog *logSampler    // refused notifications
	// receiptLog samples refused receipts and pages not found.
	receiptLog *logSampler

	hintMu sync.Mutex
	hinted map[netip.Addr]time.Time // proxy hints logged, per peer
}

// NewServer checks cfg, proves the store can commit a write, and starts
// the fan-out, pruning and revocation watch. It owns cfg.Store from then
// on: when it fails, it closes it.
func NewServer(cfg Config) (*Server, error) {
	s, last, err := newServer(cfg)
	if err != nil {
		if cfg.Store != nil {
			cfg.Store.Close()
		}
		return nil, err
	}
	s.routes()
	bgctx, stop := context.WithCancel(context.Background())
	s.stopBG = stop
	s.bg.Add(3)
	go s.fanout(bgctx, last)
	go s.pruneLoop(bgctx)
	go s.watchRevocations(bgctx)
	s.log.Info("relay store open", "storage", s.st.Kind(), "instance", s.cfg.Instance, "merchants", s.merchantCount(),
		"last_id", last)
	return s, nil
}

// newServer is the part of NewServer that may fail: it returns the id of
// the last notification stored, where the fan-out starts.
func newServer(cfg Config) (*Server, int64, error) {
	cfg = cfg.withDefaults()
	merchants, err := cfg.check()
	if err != nil {
		return nil, 0, err
	}
	s := &Server{cfg: cfg, log: cfg.Logger, st: cfg.Store, m: cfg.Metrics, hub: newHub(), merchants: merchants,
		kick: make(chan struct{}, 1), replaySem: make(chan struct{}, 8),
		replaySlots: make(chan struct{}, max(1, cfg.ReplayMemory/replayPageCost)),
		hinted:      make(map[netip.Addr]time.Time), fanWait: make(chan struct{}),
		sources: newSourceLimiter(cfg.RefusalsPerMinute), wsLog: newLogSampler(), subLog: newLogSampler(),
		notifLog: newLogSampler(), misses: newSourceLimiter(cfg.RefusalsPerMinute), receiptLog: newLogSampler(),
		shared: &credential{scope: store.Scope{Merchant: DefaultMerchant}, limit: cfg.MaxConnsShared},
		upgrader: websocket.Upgrader{
			HandshakeTimeout: 10 * time.Second,
			// Small buffers, and a write buffer borrowed only while writing:
			// most kiosks are idle almost all the time.
			ReadBufferSize:  512,
			WriteBufferSize: 4096,
			WriteBufferPool: &sync.Pool{},
			// Kiosks are not browsers and authenticate with a bearer token,
			// not a cookie, so a foreign Origin cannot ride on ambient
			// credentials.
			CheckOrigin: func(*http.Request) bool { return true },
		}}
	if cfg.Token != "" {
		s.tokenSum = sha256.Sum256([]byte(cfg.Token))
	}
	if s.m == nil {
		s.m = noMetrics{}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// A relay that cannot store a notification must not start and look
	// healthy: every notification would be answered 503.
	if err := s.st.Ready(ctx, cfg.Instance); err != nil {
		return nil, 0, err
	}
	last, err := s.st.LastID(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("relay: reading the store: %w", err)
	}
	if err := s.m.Info(cfg.Instance, s.st.Kind(), s.st.Listener); err != nil {
		return nil, 0, fmt.Errorf("relay: metrics: %w", err)
	}
	s.m.Ready(true)
	return s, last, nil
}

// routes are the server's: notify URLs for the gateways, /ws for the
// kiosks, health for the load balancer, /metrics for the operator.
func (s *Server) routes() {
	s.mux = http.NewServeMux()
	// /notify/{gateway} is the one-shop merchant's (QFPay's /notify/qfpay
	// from before there were several merchants).
	s.mux.HandleFunc("/notify/{gateway}", func(w http.ResponseWriter, r *http.Request) {
		s.handleNotify(w, r, r.PathValue("gateway"), DefaultMerchant)
	})
	s.mux.HandleFunc("/notify/{gateway}/{merchant}", func(w http.ResponseWriter, r *http.Request) {
		s.handleNotify(w, r, r.PathValue("gateway"), r.PathValue("merchant"))
	})
	s.mux.HandleFunc("GET /ws", s.handleWS)
	s.mux.HandleFunc("GET /r/{id}", s.handleReceiptPage)
	s.mux.HandleFunc("GET /healthz", s.handleHealth)
	s.mux.HandleFunc("GET /readyz", s.handleReady)
	if s.cfg.Metrics != nil {
		s.mux.Handle("GET /metrics", s.cfg.Metrics)
	}
}

// Handler serves /notify/…, /ws, /r/… (e-receipts), /healthz, /readyz and
// /metrics.
func (s *Server) Handler() http.Handler { return s.mux }

// Storage is the store's Kind: "sqlite" or "postgres".
func (s *Server) Storage() string { return s.st.Kind() }

// Shutdown closes every websocket with "going away" (after flushing what
// is queued), waits for their goroutines, stops the background work, then
// closes the store. Call it after http.Server.Shutdown so notifications in
// flight finish first: hijacked websockets are not closed by
// http.Server.Shutdown.
func (s *Server) Shutdown(ctx context.Context) error {
	s.closing.Store(true)
	conns := s.hub.closeAll()
	for _, c := range conns {
		c.close(websocket.CloseGoingAway, "relay shutting down", false)
	}
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
		for _, c := range conns {
			c.ws.Close()
		}
		<-done
	}
	s.stopBG()
	s.bg.Wait()
	s.log.Info("relay stopped", "kiosks_closed", len(conns))
	return errors.Join(err, s.st.Close())
}
