package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"qrkiosk/relay"
	"qrkiosk/relay/prommetrics"
)

// serve runs the relay; with checkOnly it stops once everything but the
// store has been checked (qrkiosk-relay check), so it opens and creates
// nothing: a package's install script runs it as root to decide whether
// the service can start.
func serve(args []string, stdout, stderr io.Writer, checkOnly bool) int {
	usage := func(msg string) int {
		fmt.Fprintln(stderr, "qrkiosk-relay:", msg)
		return exitUsage
	}
	sf, log, err := parseServe(args, stderr)
	switch {
	case errors.Is(err, errFlags):
		return exitUsage
	case err != nil:
		return usage(err.Error())
	}
	// Everything that can fail is loaded before the relay says it is up.
	var tlsCfg *tls.Config
	if sf.tlsCert != "" {
		pair, err := tls.LoadX509KeyPair(sf.tlsCert, sf.tlsKey)
		if err != nil {
			log.Error("TLS certificate or key unreadable: not starting", "cert", sf.tlsCert, "key", sf.tlsKey, "err", err)
			return 1
		}
		tlsCfg = &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
	}
	if checkOnly {
		fmt.Fprintf(stdout, "qrkiosk-relay check: ready to start: %s; kiosks %s; store %s\n",
			describeMerchants(sf.qfpay, sf.scanforpay, sf.relay.Merchants),
			describeAuth(sf.relay.Token != "", sf.relay.InsecureNoAuth), describeStore(sf.database, sf.data))
		return 0
	}
	if sf.database == "" {
		if err := checkDataDirOwner(sf.data); err != nil {
			return usage("--data " + err.Error())
		}
	}
	if sf.relay.InsecureNoAuth {
		log.Warn("kiosk authentication is OFF (--insecure-no-auth)")
	} else if sf.relay.Token == "" {
		log.Info("no shared --token: every kiosk authenticates with its own token (qrkiosk-relay token add)")
	}
	return runRelay(sf, tlsCfg, log, stdout)
}

// runRelay opens the store, starts the relay and serves until SIGINT or
// SIGTERM, then shuts down: 0 after a clean stop.
func runRelay(sf serveFlags, tlsCfg *tls.Config, log *slog.Logger, stdout io.Writer) int {
	srv, err := startRelay(sf, log)
	if err != nil {
		log.Error("start", "err", err)
		return 1
	}
	cfg := sf.relay
	ln, err := net.Listen("tcp", sf.listen)
	if err != nil {
		log.Error("listen", "addr", sf.listen, "err", err)
		srv.Shutdown(context.Background())
		return 1
	}
	scheme := "http"
	if tlsCfg != nil {
		scheme = "https"
		ln = tls.NewListener(ln, tlsCfg)
	}
	fmt.Fprintf(stdout, "listening on %s://%s\n", scheme, ln.Addr())

	hs := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      15 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	sigs, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	where := sf.data
	if sf.database != "" {
		where = "postgres"
	}
	log.Info("relay up", "addr", ln.Addr().String(), "instance", cfg.Instance, "store", where, "tls", tlsCfg != nil,
		"merchants", len(cfg.Merchants)+btoi(sf.qfpay)+btoi(sf.scanforpay), "qfpay", sf.qfpay, "scanforpay", sf.scanforpay,
		"allow_ips", len(cfg.AllowIPs), "retain_days", sf.retainDays, "receipts", describeReceipts(cfg))

	code := 0
	select {
	case err := <-served:
		log.Error("serve", "err", err)
		code = 1
	case <-sigs.Done():
		log.Info("signal: shutting down")
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Stop accepting and let notifications in flight finish their store
	// write, then close the websockets ("going away") and the store.
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Warn("http shutdown", "err", err)
	}
	if err := srv.Shutdown(sctx); err != nil {
		log.Error("relay shutdown", "err", err)
		code = 1
	}
	return code
}

// startRelay opens the store sf names and starts a relay on it, counting
// into Prometheus metrics.
func startRelay(sf serveFlags, log *slog.Logger) (*relay.Server, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	st, err := openStore(ctx, sf.database, sf.data, true, log)
	cancel()
	if err != nil {
		return nil, err
	}
	cfg := sf.relay
	cfg.Store, cfg.Metrics, cfg.Logger = st, prommetrics.New(), log
	return relay.NewServer(cfg)
}

// describeMerchants names the merchants a check found, never their keys.
func describeMerchants(qfpay, scanforpay bool, ms []relay.Merchant) string {
	var parts []string
	if qfpay {
		parts = append(parts, relay.DefaultMerchant+" (qfpay)")
	}
	if scanforpay {
		parts = append(parts, relay.DefaultMerchant+" (scanforpay)")
	}
	for _, m := range ms {
		parts = append(parts, m.ID+" ("+m.Gateway+")")
	}
	return fmt.Sprintf("%d merchant(s): %s", len(parts), strings.Join(parts, ", "))
}

func describeAuth(shared, none bool) string {
	switch {
	case none:
		return "unauthenticated (--insecure-no-auth)"
	case shared:
		return "with the shared token or their own (token add)"
	}
	return "with their own tokens (token add)"
}

// describeReceipts says where e-receipt links lead, and for how long.
func describeReceipts(c relay.Config) string {
	if c.ReceiptRetain < 0 {
		return "off"
	}
	where := c.PublicURL
	if where == "" {
		where = "https://<the host kiosks connect to>"
	}
	return fmt.Sprintf("%s/r/… for %d days", strings.TrimSuffix(where, "/"), int(c.ReceiptRetain/(24*time.Hour)))
}

func describeStore(database, data string) string {
	if database != "" {
		return "postgres"
	}
	return "SQLite in " + data
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
