package simkit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"
)

// shutdownGrace is how long requests in flight get to finish when a
// simulator command is stopped.
const shutdownGrace = 5 * time.Second

// Listen listens on addr ("127.0.0.1:0" picks a free port) and returns
// the listener with the public base URL of the simulator's customer page:
// publicURL without a trailing slash, or http:// and the bound address when
// publicURL is empty.
func Listen(addr, publicURL string) (net.Listener, string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", err
	}
	base := strings.TrimRight(publicURL, "/")
	if base == "" {
		base = "http://" + ln.Addr().String()
	}
	return ln, base, nil
}

// Serve serves h on ln until ctx ends (the command's SIGINT or SIGTERM),
// then shuts down, giving requests in flight a few seconds. latency is the
// simulator's injected delay, added to the write timeout so that a slow
// answer is still written. It returns the command's exit code: 1 if
// serving failed, else 0.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, latency time.Duration, log *slog.Logger) int {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30*time.Second + latency,
		IdleTimeout:       60 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		if !errors.Is(err, http.ErrServerClosed) {
			log.Error("server stopped", "err", err)
			return 1
		}
	case <-ctx.Done():
		log.Info("shutting down")
		shutCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		defer cancel()
		if err := srv.Shutdown(shutCtx); err != nil {
			log.Warn("shutdown incomplete", "err", err)
		}
	}
	return 0
}

// EnvOr is the environment variable name, or def when it is unset or empty.
func EnvOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// CheckRates checks fault-injection flags, each a probability: it names the
// first (by name) that is not between 0 and 1.
func CheckRates(rates map[string]float64) error {
	for _, name := range slices.Sorted(maps.Keys(rates)) {
		if v := rates[name]; v < 0 || v > 1 {
			return fmt.Errorf("--%s %v: must be between 0 and 1", name, v)
		}
	}
	return nil
}
