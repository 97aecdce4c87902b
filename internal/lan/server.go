package lan

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	stdlog "log"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultAddr is where the LAN server listens unless [ecr] listen says
// otherwise: every interface, QFPay's ECR port.
const DefaultAddr = "0.0.0.0:9001"

// Config is the server's transport and its limits; zero fields take the
// defaults in brackets.
type Config struct {
	TLS *tls.Config // Certs.TLSConfig(); required

	ReadHeaderTimeout time.Duration // [5s] a client that trickles its headers is dropped
	ReadTimeout       time.Duration // [30s] headers and body
	WriteTimeout      time.Duration // [30s]
	IdleTimeout       time.Duration // [60s] between keep-alive requests
	MaxHeaderBytes    int           // [16 KiB]
	MaxConns          int           // [128] open connections, websockets included
	LogEvery          time.Duration // [1m] refusals beyond the first few are logged once per LogEvery

	Now func() time.Time // [time.Now] the clock of rate limits and log sampling
}

// Route is how one job's pattern is served.
type Route struct {
	MaxBody int64 // [64 KiB] request body cap
	// Rate and Burst bound each source address (a token bucket per route);
	// a CORS preflight counts as a request.
	Rate  float64 // [5] requests a second
	Burst int     // [20] requests at once
	// CrossOrigin answers CORS preflights from any origin and lets any
	// origin read the answers: the POS page comes from its own server
	// (Odoo's), whose origin is not known in advance; the POS key, not the
	// origin, protects the route.
	CrossOrigin bool
	// Page routes serve HTML: their answers carry PageCSP unless the
	// handler sets its own Content-Security-Policy.
	Page bool
	// Cache lets browsers keep the answers that long (static display
	// assets); by default nothing is stored, API and setup answers least.
	Cache time.Duration
}

// PageCSP lets a page load only its own scripts, styles and images and talk
// only to this server (its websocket included), and never be framed.
const PageCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// Server is the kiosk's one HTTPS server for devices on the LAN.
type Server struct {
	cfg Config
	log *slog.Logger
	mux *http.ServeMux
	srv *http.Server
	ref *Sampler

	handlers sync.WaitGroup // requests being served, websockets included

	mu        sync.Mutex
	listeners []*capListener
	closed    bool
}

// New returns a server with no routes yet.
func New(cfg Config, log *slog.Logger) *Server {
	if cfg.ReadHeaderTimeout <= 0 {
		cfg.ReadHeaderTimeout = 5 * time.Second
	}
	if cfg.ReadTimeout <= 0 {
		cfg.ReadTimeout = 30 * time.Second
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = 30 * time.Second
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 60 * time.Second
	}
	if cfg.MaxHeaderBytes <= 0 {
		cfg.MaxHeaderBytes = 16 << 10
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = 128
	}
	if cfg.LogEvery <= 0 {
		cfg.LogEvery = time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Server{cfg: cfg, log: log, mux: http.NewServeMux()}
	s.ref = NewSampler(log, "lan", sampleFirst, cfg.LogEvery, cfg.Now)
	s.srv = &http.Server{
		Handler:           http.HandlerFunc(s.serveHTTP),
		TLSConfig:         cfg.TLS,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    cfg.MaxHeaderBytes,
		ConnState:         s.connState,
		// TLS handshake errors from port scanners and the like: sampled.
		ErrorLog: stdlog.New(sampledWriter{s.ref}, "", 0),
	}
	return s
}

// Handle serves pattern (http.ServeMux syntax, "POST /api/pos/{endpoint}")
// with h under route's limits and headers.
func (s *Server) Handle(pattern string, h http.Handler, route Route) {
	if route.MaxBody <= 0 {
		route.MaxBody = 64 << 10
	}
	if route.Rate <= 0 {
		route.Rate = 5
	}
	if route.Burst <= 0 {
		route.Burst = 20
	}
	rh := &routeHandler{s: s, pattern: pattern, route: route, h: h, limit: newLimiter(route.Rate, route.Burst)}
	s.mux.Handle(pattern, rh)
	// A pattern with a method matches no OPTIONS: the preflight needs its
	// own entry.
	if method, path, ok := strings.Cut(pattern, " "); ok && route.CrossOrigin && method != http.MethodOptions {
		s.mux.Handle(http.MethodOptions+" "+strings.TrimSpace(path), &routeHandler{s: s, pattern: pattern, route: route, limit: rh.limit})
	}
}

// ListenAndServe listens on addr (DefaultAddr when "") and serves until
// Shutdown.
func (s *Server) ListenAndServe(addr string) error {
	if addr == "" {
		addr = DefaultAddr
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("lan server: %w", err)
	}
	return s.Serve(ln)
}

// Serve serves HTTPS on ln until Shutdown, when it returns
// http.ErrServerClosed.
func (s *Server) Serve(ln net.Listener) error {
	if s.cfg.TLS == nil {
		ln.Close()
		return errors.New("lan server: no TLS configuration (Config.TLS)")
	}
	cl := &capListener{Listener: ln, max: s.cfg.MaxConns, ref: s.ref}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ln.Close()
		return http.ErrServerClosed
	}
	s.listeners = append(s.listeners, cl)
	s.mu.Unlock()
	return s.srv.Serve(tls.NewListener(cl, s.cfg.TLS))
}

// Shutdown stops accepting, lets requests in flight finish (until ctx
// ends), closes the websockets and other hijacked connections that
// http.Server.Shutdown leaves open, and waits for their handlers.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	err := s.srv.Shutdown(ctx)
	if err != nil {
		s.srv.Close()
	}
	s.mu.Lock()
	listeners := s.listeners
	s.mu.Unlock()
	for _, l := range listeners {
		l.closeHijacked()
	}

	done := make(chan struct{})
	go func() {
		s.handlers.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		if err == nil {
			err = ctx.Err()
		}
	}
	s.ref.Flush()
	return err
}

func (s *Server) connState(c net.Conn, state http.ConnState) {
	if state != http.StateHijacked {
		return
	}
	if t, ok := c.(*tls.Conn); ok {
		if cc, ok := t.NetConn().(*capConn); ok {
			cc.hijacked.Store(true)
		}
	}
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	// Hijacked after Shutdown closed the others (its ctx ran out first).
	if closed {
		c.Close()
	}
}

// serveHTTP sets the headers every answer carries, 404s and refusals
// included, then routes.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	s.logRequest(r)
	s.mux.ServeHTTP(w, r)
}

type routeHandler struct {
	s       *Server
	pattern string
	route   Route
	h       http.Handler // nil: the preflight-only OPTIONS entry
	limit   *limiter
}

func (rh *routeHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s := rh.s
	s.handlers.Add(1)
	defer s.handlers.Done()
	src := sourceAddr(r)
	if ok, wait := rh.limit.allow(src, s.cfg.Now()); !ok {
		if rh.route.CrossOrigin {
			allowOrigin(w, r) // so the POS page can read the status
		}
		secs := int((wait + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
		w.Header().Set("Connection", "close")
		http.Error(w, "too many requests", http.StatusTooManyRequests)
		s.ref.refuse("rate limit", slog.String("route", rh.pattern), slog.String("source", src.String()), slog.String("method", r.Method), slog.String("path", r.URL.Path))
		return
	}
	if rh.route.CrossOrigin {
		if preflight(w, r) {
			return
		}
		allowOrigin(w, r)
	}
	if rh.h == nil {
		w.Header().Set("Allow", strings.SplitN(rh.pattern, " ", 2)[0]+", OPTIONS")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if r.ContentLength > rh.route.MaxBody {
		w.Header().Set("Connection", "close")
		http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
		s.ref.refuse("body too large", slog.String("route", rh.pattern), slog.String("source", src.String()), slog.Int64("content_length", r.ContentLength))
		return
	}
	body := &cappedBody{ReadCloser: http.MaxBytesReader(w, r.Body, rh.route.MaxBody)}
	r.Body = body
	if rh.route.Page {
		w.Header().Set("Content-Security-Policy", PageCSP)
	}
	if rh.route.Cache > 0 {
		w.Header().Set("Cache-Control", "max-age="+strconv.Itoa(int(rh.route.Cache/time.Second)))
	}
	rh.h.ServeHTTP(w, r)
	if body.over.Load() {
		s.ref.refuse("body too large", slog.String("route", rh.pattern), slog.String("source", src.String()), slog.Int64("max", rh.route.MaxBody))
	}
}

// cappedBody notes that the handler read past the route's body cap (a
// chunked body has no length to refuse up front), for the refusal log.
type cappedBody struct {
	io.ReadCloser
	over atomic.Bool
}

func (b *cappedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		b.over.Store(true)
	}
	return n, err
}

// logRequest logs every request at debug level, preflight headers included:
// whether a POS page's preflight arrives at all is the first question when
// a POS cannot reach the kiosk. Never a body or a query (keys travel there).
func (s *Server) logRequest(r *http.Request) {
	ctx := r.Context()
	if !s.log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	attrs := []slog.Attr{slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("source", sourceAddr(r).String())}
	for _, h := range []string{"Origin", "Access-Control-Request-Method", "Access-Control-Request-Headers", "Access-Control-Request-Private-Network"} {
		if v := r.Header.Get(h); v != "" {
			attrs = append(attrs, slog.String(h, v))
		}
	}
	s.log.LogAttrs(ctx, slog.LevelDebug, "lan: request", attrs...)
}

// sourceAddr is the address the request came from: devices on the LAN
// talk to the kiosk directly, there is no proxy whose headers to trust.
func sourceAddr(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// sampledWriter takes http.Server's own error lines (TLS handshake errors
// from whatever probes the port) into the sampled refusal log.
type sampledWriter struct{ s *Sampler }

func (w sampledWriter) Write(p []byte) (int, error) {
	w.s.refuse("http server", slog.String("error", strings.TrimSpace(string(p))))
	return len(p), nil
}
