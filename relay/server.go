// Package relay receives the gateways' asynchronous notifications (QFPay
// on /notify/qfpay, ScanForPay on /notify/scanforpay), proves each
// genuine, journals it durably and pushes it over websockets to the kiosk
// whose order it is. It also holds the kiosk-side client.
package relay

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"qrkiosk/payment/qfpay"
	"qrkiosk/payment/scanforpay"
)

// MaxNotifyBody caps a notification body; larger ones get 413.
const MaxNotifyBody = 64 << 10

// maxReplay bounds how many stored notifications one subscribe replays.
const maxReplay = 1000

// Config configures a Server. Zero durations and sizes take the defaults
// noted on each field.
type Config struct {
	Key            string         // QFPay client_key, to verify X-QF-SIGN; "" = /notify/qfpay not served
	ScanForPayKey  string         // ScanForPay sign key, to verify its envelopes; "" = /notify/scanforpay not served
	Token          string         // bearer token kiosks present on /ws; required unless InsecureNoAuth
	InsecureNoAuth bool           // accept /ws without a token (local demos only)
	DataDir        string         // where the journal lives; required
	AllowIPs       []netip.Prefix // notifier allow-list for /notify/qfpay; empty = any
	// TrustedProxies are reverse proxies whose X-Forwarded-For is believed
	// when finding a notifier's address; empty = use the peer address.
	TrustedProxies []netip.Prefix
	Logger         *slog.Logger
	Registry       prometheus.Registerer // nil = the server's own registry, with Go and process metrics

	PingInterval time.Duration // websocket pings; 0 = 30s. A peer silent for 2× this is dropped.
	WriteTimeout time.Duration // per websocket write; 0 = 10s
	SendQueue    int           // frames queued per connection before it counts as slow; 0 = 16
	ReplayWindow time.Duration // how far back a udid subscription replays; 0 = 48h
	// Retain is how long a notification is kept in the journal; 0 =
	// DefaultRetain, negative = for ever. At least ReplayWindow.
	Retain time.Duration
	// PruneEvery is how often notifications older than Retain are deleted
	// (the first time at start); 0 = 1h.
	PruneEvery time.Duration
}

// DefaultRetain is how long the relay keeps a notification unless told:
// long enough to look back at a quarter's disputes, short enough that a
// busy shop's journal stays around a hundred MB.
const DefaultRetain = 90 * 24 * time.Hour

// Server is the relay: an http.Handler plus the journal and the hub.
type Server struct {
	cfg      Config
	log      *slog.Logger
	j        *journal
	hub      *hub
	m        *metrics
	gatherer prometheus.Gatherer
	mux      *http.ServeMux
	upgrader websocket.Upgrader
	tokenSum [sha256.Size]byte

	closing atomic.Bool
	wg      sync.WaitGroup // connection goroutines

	stopPrune   context.CancelFunc
	pruneExited chan struct{}
}

// NewServer checks cfg and opens the journal in cfg.DataDir.
func NewServer(cfg Config) (*Server, error) {
	if cfg.Key == "" && cfg.ScanForPayKey == "" {
		return nil, errors.New("relay: a gateway key is required: Key (QFPay's client key), ScanForPayKey, or both")
	}
	if cfg.Token == "" && !cfg.InsecureNoAuth {
		return nil, errors.New("relay: Token is required unless InsecureNoAuth is set")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.PingInterval <= 0 {
		cfg.PingInterval = 30 * time.Second
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = 10 * time.Second
	}
	if cfg.SendQueue <= 0 {
		cfg.SendQueue = 16
	}
	if cfg.ReplayWindow <= 0 {
		cfg.ReplayWindow = 48 * time.Hour
	}
	if cfg.Retain == 0 {
		cfg.Retain = DefaultRetain
	}
	if cfg.Retain > 0 && cfg.Retain < cfg.ReplayWindow {
		return nil, fmt.Errorf("relay: Retain (%v) must be at least ReplayWindow (%v): a reconnecting kiosk replays that far back", cfg.Retain, cfg.ReplayWindow)
	}
	if cfg.PruneEvery <= 0 {
		cfg.PruneEvery = time.Hour
	}
	s := &Server{cfg: cfg, log: cfg.Logger, hub: newHub(), tokenSum: sha256.Sum256([]byte(cfg.Token))}

	reg, own := cfg.Registry, cfg.Registry == nil
	if own {
		r := prometheus.NewRegistry()
		reg, s.gatherer = r, r
	} else if g, ok := reg.(prometheus.Gatherer); ok {
		s.gatherer = g
	} else {
		s.gatherer = prometheus.DefaultGatherer
	}
	m, err := newMetrics(reg, own)
	if err != nil {
		return nil, fmt.Errorf("relay: metrics: %w", err)
	}
	s.m = m

	j, err := openJournal(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	s.j = j
	s.startPruning()

	s.upgrader = websocket.Upgrader{
		HandshakeTimeout: 10 * time.Second,
		// Small buffers, and a write buffer borrowed only while writing:
		// most kiosks are idle almost all the time.
		ReadBufferSize:  512,
		WriteBufferSize: 4096,
		WriteBufferPool: &sync.Pool{},
		// Kiosks are not browsers and authenticate with a bearer token, not
		// a cookie, so a foreign Origin cannot ride on ambient credentials.
		CheckOrigin: func(*http.Request) bool { return true },
	}
	s.mux = http.NewServeMux()
	if cfg.Key != "" {
		s.mux.HandleFunc("/notify/qfpay", s.handleNotify)
	}
	if cfg.ScanForPayKey != "" {
		s.mux.HandleFunc("/notify/scanforpay", s.handleScanForPayNotify)
	}
	s.mux.HandleFunc("GET /ws", s.handleWS)
	s.mux.HandleFunc("GET /healthz", s.handleHealth)
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(s.gatherer, promhttp.HandlerOpts{}))
	return s, nil
}

// Handler serves /notify/qfpay and /notify/scanforpay (for the gateways
// with a key), /ws, /healthz and /metrics.
func (s *Server) Handler() http.Handler { return s.mux }

// Shutdown closes every websocket with "going away" (after flushing what
// is queued), waits for their goroutines, then closes the journal. Call it
// after http.Server.Shutdown so notifications in flight finish first:
// hijacked websockets are not closed by http.Server.Shutdown.
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
	s.stopPrune()
	<-s.pruneExited
	s.log.Info("relay stopped", "kiosks_closed", len(conns))
	return errors.Join(err, s.j.Close())
}

// startPruning deletes notifications older than cfg.Retain now and then
// every cfg.PruneEvery, until Shutdown.
func (s *Server) startPruning() {
	ctx, cancel := context.WithCancel(context.Background())
	s.stopPrune, s.pruneExited = cancel, make(chan struct{})
	if s.cfg.Retain < 0 {
		close(s.pruneExited)
		return
	}
	go func() {
		defer close(s.pruneExited)
		t := time.NewTicker(s.cfg.PruneEvery)
		defer t.Stop()
		for {
			before := time.Now().Add(-s.cfg.Retain)
			n, err := s.j.Prune(ctx, before)
			s.m.pruned.Add(float64(n))
			switch {
			case ctx.Err() != nil:
				return
			case err != nil:
				s.log.Error("journal prune", "err", err)
			case n > 0:
				s.log.Info("journal pruned", "deleted", n, "received_before", before.UTC().Format(time.RFC3339))
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	if s.closing.Load() {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.j.Ping(ctx); err != nil {
		s.log.Error("health: journal", "err", err)
		http.Error(w, "journal unavailable", http.StatusServiceUnavailable)
		return
	}
	io.WriteString(w, "ok\n")
}

// handleNotify is QFPay's notify URL. Only "200 SUCCESS" stops the
// gateway's retries, so it is sent only once the notification is on disk.
func (s *Server) handleNotify(w http.ResponseWriter, r *http.Request) {
	receivedAt := time.Now()
	raw, log, ok := s.readNotify(w, r, true)
	if !ok {
		return
	}
	sign := r.Header.Get(qfpay.HeaderSign)
	st, err := qfpay.ParseSignType(r.Header.Get(qfpay.HeaderSignType))
	if err == nil {
		err = qfpay.VerifyNotification(raw, sign, s.cfg.Key, st)
	}
	if err != nil {
		s.m.count(resultRejected)
		log.Warn("notify: signature rejected", "err", err, "bytes", len(raw))
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	s.m.count(resultVerified)
	n, err := qfpay.ParseNotification(raw)
	if err != nil {
		s.m.count(resultMalformed)
		log.Warn("notify: signed but malformed", "err", err)
		http.Error(w, "malformed notification", http.StatusBadRequest)
		return
	}
	s.store(w, r, log, &Record{
		SysSN:      n.SysSN,
		NotifyType: n.Kind,
		OutTradeNo: n.OutTradeNo,
		UDID:       n.UDID,
		Body:       raw,
		Sign:       sign,
		SignType:   string(st),
		ReceivedAt: receivedAt,
	}, "SUCCESS")
}

// handleScanForPayNotify is ScanForPay's notify URL (each order's
// notifyUrl). The signature is inside the envelope, over the raw text of
// its response object; the answer that stops the retries is "success",
// sent only once the notification is on disk. The kiosk verifies the
// same bytes again with its own key.
func (s *Server) handleScanForPayNotify(w http.ResponseWriter, r *http.Request) {
	receivedAt := time.Now()
	raw, log, ok := s.readNotify(w, r, false)
	if !ok {
		return
	}
	n, err := scanforpay.VerifyNotification(raw, s.cfg.ScanForPayKey)
	switch {
	case errors.Is(err, scanforpay.ErrMalformedNotification):
		s.m.count(resultVerified)
		s.m.count(resultMalformed)
		log.Warn("notify: signed but malformed", "gateway", scanforpay.Name, "err", err)
		http.Error(w, "malformed notification", http.StatusBadRequest)
		return
	case err != nil:
		s.m.count(resultRejected)
		log.Warn("notify: signature rejected", "gateway", scanforpay.Name, "err", err, "bytes", len(raw))
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	s.m.count(resultVerified)
	s.store(w, r, log.With("gateway", scanforpay.Name), &Record{
		// The same order is notified once paid and again once refunded:
		// each event is its own record, and the gateway's name keeps
		// ScanForPay's order numbers apart from QFPay's syssn.
		SysSN:      n.EventID(),
		NotifyType: scanforpay.Name + ":" + n.Event(),
		OutTradeNo: n.OutTradeNo,
		Body:       raw,
		SignType:   scanforpay.SignType,
		ReceivedAt: receivedAt,
	}, scanforpay.Reply)
}

// readNotify applies what every notify URL checks before the signature:
// POST only, the notifier allow-list (QFPay's published addresses, when
// allowList), the size limit. ok false: the answer is written.
func (s *Server) readNotify(w http.ResponseWriter, r *http.Request, allowList bool) ([]byte, *slog.Logger, bool) {
	s.m.count(resultReceived)
	src := s.sourceAddr(r)
	log := s.log.With("remote", src.String())
	if r.Method != http.MethodPost {
		s.m.count(resultRejected)
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return nil, log, false
	}
	if allowList && len(s.cfg.AllowIPs) > 0 && !containsAddr(s.cfg.AllowIPs, src) {
		s.m.count(resultRejected)
		log.Warn("notify: source not in allow-list")
		http.Error(w, "forbidden", http.StatusForbidden)
		return nil, log, false
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxNotifyBody))
	if err != nil {
		s.m.count(resultRejected)
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			log.Warn("notify: body too large", "limit", MaxNotifyBody)
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return nil, log, false
		}
		log.Warn("notify: reading body", "err", err)
		http.Error(w, "bad request", http.StatusBadRequest)
		return nil, log, false
	}
	return raw, log, true
}

// store journals a genuine notification, pushes it to the kiosks if it is
// new, and only then gives the gateway the reply that stops its retries.
func (s *Server) store(w http.ResponseWriter, r *http.Request, log *slog.Logger, rec *Record, reply string) {
	log = log.With("syssn", rec.SysSN, "notify_type", rec.NotifyType, "out_trade_no", rec.OutTradeNo)
	inserted, err := s.j.Append(r.Context(), rec)
	if err != nil {
		s.m.count(resultFailed)
		log.Error("notify: journal", "err", err)
		http.Error(w, "not stored, retry", http.StatusServiceUnavailable)
		return
	}
	if inserted {
		s.broadcast(rec)
		log.Info("notify: stored", "id", rec.ID, "udid", rec.UDID)
	} else {
		s.m.count(resultDuplicate)
		log.Info("notify: duplicate")
	}
	w.Header().Set("Content-Type", "text/plain")
	io.WriteString(w, reply)
}

func (s *Server) broadcast(rec *Record) {
	frame, err := json.Marshal(notificationMessage(rec, false))
	if err != nil {
		s.log.Error("encode notification", "err", err)
		return
	}
	_, dropped := s.hub.broadcast(rec, frame)
	for _, c := range dropped {
		s.dropSlow(c, "send queue full")
	}
}

func (s *Server) dropSlow(c *wsConn, why string) {
	select {
	case <-c.stop:
		return // already going
	default:
	}
	s.m.dropped.Inc()
	s.log.Warn("ws: dropping slow kiosk", "remote", c.remote, "udid", c.udid, "why", why)
	c.close(websocket.CloseTryAgainLater, "too slow", true)
}

// sourceAddr is the notifier's address: the TCP peer, or behind trusted
// proxies the right-most X-Forwarded-For entry that is not one of them.
func (s *Server) sourceAddr(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	a := ap.Addr().Unmap()
	if !containsAddr(s.cfg.TrustedProxies, a) {
		return a
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		h := strings.TrimSpace(hops[i])
		if h == "" {
			continue
		}
		p, err := netip.ParseAddr(h)
		if err != nil {
			return netip.Addr{}
		}
		a = p.Unmap()
		if !containsAddr(s.cfg.TrustedProxies, a) {
			return a
		}
	}
	return a
}

func containsAddr(ps []netip.Prefix, a netip.Addr) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// authorized checks the kiosk's bearer token (header, or ?token= for
// clients that cannot set headers) in constant time.
func (s *Server) authorized(r *http.Request) bool {
	if s.cfg.InsecureNoAuth {
		return true
	}
	tok := r.URL.Query().Get("token")
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, t, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return false
		}
		tok = strings.TrimSpace(t)
	}
	if tok == "" {
		return false
	}
	sum := sha256.Sum256([]byte(tok))
	return subtle.ConstantTimeCompare(sum[:], s.tokenSum[:]) == 1
}

func (s *Server) handleWS(w http.ResponseWriter, r *http.Request) {
	remote := s.sourceAddr(r).String()
	if s.closing.Load() {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	if !s.authorized(r) {
		s.log.Warn("ws: unauthorized", "remote", remote)
		w.Header().Set("WWW-Authenticate", `Bearer realm="qrkiosk-relay"`)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		s.log.Debug("ws: upgrade", "remote", remote, "err", err)
		return
	}
	udid := r.Header.Get("X-QRKiosk-UDID")
	if udid == "" {
		udid = r.URL.Query().Get("udid")
	}
	if len(udid) > maxUDID {
		udid = udid[:maxUDID]
	}
	c := newWSConn(ws, s.cfg.SendQueue, remote, udid)
	if !s.hub.add(c, &s.wg) {
		ws.WriteControl(websocket.CloseMessage,
			websocket.FormatCloseMessage(websocket.CloseGoingAway, "relay shutting down"),
			time.Now().Add(time.Second))
		ws.Close()
		return
	}
	s.m.connected.Inc()
	s.log.Debug("ws: connected", "remote", remote, "udid", udid)
	go s.writePump(c)
	go s.readPump(c)
}

func (s *Server) readPump(c *wsConn) {
	defer func() {
		if s.hub.remove(c) {
			s.m.connected.Dec()
		}
		c.close(0, "", true)
		s.wg.Done()
		s.log.Debug("ws: disconnected", "remote", c.remote, "udid", c.udid)
	}()
	wait := 2 * s.cfg.PingInterval
	c.ws.SetReadLimit(maxInboundFrame)
	c.ws.SetReadDeadline(time.Now().Add(wait))
	c.ws.SetPongHandler(func(string) error { return c.ws.SetReadDeadline(time.Now().Add(wait)) })
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		c.ws.SetReadDeadline(time.Now().Add(wait))
		var req request
		if err := json.Unmarshal(data, &req); err != nil {
			s.reply(c, wireMessage{Type: TypeError, Error: "not a JSON message"})
			continue
		}
		switch {
		case len(req.OutTradeNo) > maxOutTradeNo || len(req.UDID) > maxUDID:
			s.reply(c, wireMessage{Type: TypeError, Error: "out_trade_no or udid too long"})
		case req.OutTradeNo == "" && req.UDID == "":
			s.reply(c, wireMessage{Type: TypeError, Error: "out_trade_no or udid required"})
		case req.Type == TypeSubscribe:
			if !s.subscribe(c, req) {
				return
			}
		case req.Type == TypeUnsubscribe:
			s.hub.unsubscribe(c, req.OutTradeNo, req.UDID)
		default:
			s.reply(c, wireMessage{Type: TypeError, Error: "unknown type"})
		}
	}
}

// subscribe registers the subscription, then replays what is stored: in
// that order nothing committed in between is missed (it may come twice).
// The replay waits for queue space, up to the write timeout, since it can
// be longer than the queue.
func (s *Server) subscribe(c *wsConn, req request) bool {
	s.hub.subscribe(c, req.OutTradeNo, req.UDID)
	// The query runs on a short-lived goroutine: SQLite's deep call stack
	// would otherwise stay with this long-lived reader, costing every idle
	// connection many KB.
	done := make(chan []*Record, 1)
	go func() { done <- s.replayRecords(req) }()
	recs := <-done
	n := 0
	for i, r := range recs {
		if i > 0 && recs[i-1].ID == r.ID {
			continue
		}
		frame, err := json.Marshal(notificationMessage(r, true))
		if err != nil {
			continue
		}
		if !s.enqueue(c, &outbound{data: frame}) {
			return false
		}
		n++
	}
	ack := wireMessage{Type: TypeSubscribed, OutTradeNo: req.OutTradeNo, UDID: req.UDID, Replayed: &n}
	frame, _ := json.Marshal(ack)
	return s.enqueue(c, &outbound{data: frame})
}

// reply queues a control answer without waiting: if the queue is full the
// kiosk is not reading and will be dropped by the next broadcast anyway.
func (s *Server) reply(c *wsConn, m wireMessage) {
	frame, _ := json.Marshal(m)
	select {
	case c.send <- &outbound{data: frame}:
	default:
	}
}

func (s *Server) enqueue(c *wsConn, m *outbound) bool {
	t := time.NewTimer(s.cfg.WriteTimeout)
	defer t.Stop()
	select {
	case c.send <- m:
		return true
	case <-c.stop:
		return false
	case <-t.C:
		s.dropSlow(c, "replay stalled")
		return false
	}
}

// writePump is the only writer of data frames on c (gorilla allows one
// concurrent writer). It owns closing the socket.
func (s *Server) writePump(c *wsConn) {
	ticker := time.NewTicker(s.cfg.PingInterval)
	defer func() {
		ticker.Stop()
		c.ws.Close()
		s.wg.Done()
	}()
	for {
		select {
		case m := <-c.send:
			if !s.write(c, m) {
				return
			}
		case <-ticker.C:
			if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(s.cfg.WriteTimeout)); err != nil {
				c.close(0, "", true)
				return
			}
		case <-c.stop:
			if c.closeCode == 0 {
				return
			}
			// A graceful close: flush what is already queued first.
			for flushing := true; flushing; {
				select {
				case m := <-c.send:
					if !s.write(c, m) {
						return
					}
				default:
					flushing = false
				}
			}
			c.ws.WriteControl(websocket.CloseMessage,
				websocket.FormatCloseMessage(c.closeCode, c.closeText), time.Now().Add(time.Second))
			return
		}
	}
}

func (s *Server) write(c *wsConn, m *outbound) bool {
	c.ws.SetWriteDeadline(time.Now().Add(s.cfg.WriteTimeout))
	if err := c.ws.WriteMessage(websocket.TextMessage, m.data); err != nil {
		var ne interface{ Timeout() bool }
		if errors.As(err, &ne) && ne.Timeout() {
			s.dropSlow(c, "write timed out")
		}
		c.close(0, "", true)
		return false
	}
	if !m.receivedAt.IsZero() {
		s.m.latency.Observe(time.Since(m.receivedAt).Seconds())
	}
	return true
}

// QFPayNotifierAddrs are the addresses QFPay sends notifications from,
// the "qfpay" preset of ParseAllowList.
var QFPayNotifierAddrs = []string{"13.228.112.115", "18.138.115.47", "18.166.202.92"}

// ParseAllowList reads a comma-separated list of IPs and CIDR prefixes;
// the word "qfpay" stands for QFPayNotifierAddrs. Empty means any.
func ParseAllowList(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		var items []string
		switch {
		case f == "":
			continue
		case strings.EqualFold(f, "qfpay"):
			items = QFPayNotifierAddrs
		default:
			items = []string{f}
		}
		for _, it := range items {
			if strings.Contains(it, "/") {
				p, err := netip.ParsePrefix(it)
				if err != nil {
					return nil, fmt.Errorf("relay: allow-list entry %q: %w", it, err)
				}
				out = append(out, p.Masked())
				continue
			}
			a, err := netip.ParseAddr(it)
			if err != nil {
				return nil, fmt.Errorf("relay: allow-list entry %q: not an IP, CIDR or \"qfpay\"", it)
			}
			a = a.Unmap()
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
		}
	}
	return out, nil
}

// replayRecords is what a subscription replays, oldest first, each once.
func (s *Server) replayRecords(req request) []*Record {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.WriteTimeout)
	defer cancel()
	var recs []*Record
	if req.OutTradeNo != "" {
		rs, err := s.j.ByOutTradeNo(ctx, req.OutTradeNo, maxReplay)
		if err != nil {
			s.log.Error("ws: replay", "out_trade_no", req.OutTradeNo, "err", err)
		}
		recs = append(recs, rs...)
	}
	if req.UDID != "" {
		rs, err := s.j.ByUDID(ctx, req.UDID, time.Now().Add(-s.cfg.ReplayWindow), maxReplay)
		if err != nil {
			s.log.Error("ws: replay", "udid", req.UDID, "err", err)
		}
		recs = append(recs, rs...)
	}
	sort.Slice(recs, func(i, k int) bool { return recs[i].ID < recs[k].ID })
	return recs
}
