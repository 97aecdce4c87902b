// Command qrkiosk-relay receives the gateways' notifications (QFPay's on
// /notify/qfpay, ScanForPay's on /notify/scanforpay; one gateway or both,
// as keys are given), journals them and pushes them to the kiosks over /ws.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"qrkiosk/relay"
)

// exitUsage is EX_USAGE from sysexits.h.
const exitUsage = 64

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("qrkiosk-relay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", env("QRKIOSK_RELAY_LISTEN", "127.0.0.1:8080"), "address to listen on, port 0 = any free port (env QRKIOSK_RELAY_LISTEN)")
	key := fs.String("qfpay-key", env("QFPAY_KEY", ""), "QFPay client key that signs notifications; serves /notify/qfpay (env QFPAY_KEY)")
	sfpKey := fs.String("scanforpay-key", env("SCANFORPAY_KEY", ""), "ScanForPay sign key that signs notifications; serves /notify/scanforpay (env SCANFORPAY_KEY)")
	token := fs.String("token", env("QRKIOSK_RELAY_TOKEN", ""), "bearer token kiosks present on /ws (env QRKIOSK_RELAY_TOKEN)")
	noAuth := fs.Bool("insecure-no-auth", false, "accept kiosks without a token (local demos only)")
	data := fs.String("data", env("QRKIOSK_RELAY_DATA", "qrkiosk-relay-data"), "directory of the notification journal (env QRKIOSK_RELAY_DATA)")
	cert := fs.String("tls-cert", env("QRKIOSK_RELAY_TLS_CERT", ""), "TLS certificate (PEM); serve HTTPS with --tls-key")
	keyFile := fs.String("tls-key", env("QRKIOSK_RELAY_TLS_KEY", ""), "TLS private key (PEM)")
	allow := fs.String("allow-ip", env("QRKIOSK_RELAY_ALLOW_IP", ""), `notifier allow-list: IPs/CIDRs, comma-separated; "qfpay" = QFPay's published addresses (env QRKIOSK_RELAY_ALLOW_IP)`)
	proxies := fs.String("trusted-proxy", env("QRKIOSK_RELAY_TRUSTED_PROXY", ""), "reverse proxies (IPs/CIDRs) whose X-Forwarded-For is believed (env QRKIOSK_RELAY_TRUSTED_PROXY)")
	retain := fs.String("retain-days", env("QRKIOSK_RELAY_RETAIN_DAYS", "90"), "days a notification is kept in the journal, 0 = for ever (env QRKIOSK_RELAY_RETAIN_DAYS)")
	debug := fs.Bool("debug", false, "debug logging")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	usage := func(msg string) int {
		fmt.Fprintln(stderr, "qrkiosk-relay:", msg)
		return exitUsage
	}
	if *key == "" && *sfpKey == "" {
		return usage("a gateway key is required: --qfpay-key or QFPAY_KEY (QFPay), --scanforpay-key or SCANFORPAY_KEY (ScanForPay), or both")
	}
	if *token == "" && !*noAuth {
		return usage("a kiosk token is required: --token or QRKIOSK_RELAY_TOKEN (or --insecure-no-auth for a local demo)")
	}
	if (*cert == "") != (*keyFile == "") {
		return usage("--tls-cert and --tls-key go together")
	}
	allowIPs, err := relay.ParseAllowList(*allow)
	if err != nil {
		return usage("--allow-ip: " + err.Error())
	}
	trusted, err := relay.ParseAllowList(*proxies)
	if err != nil {
		return usage("--trusted-proxy: " + err.Error())
	}
	retention, err := retainDays(*retain)
	if err != nil {
		return usage("--retain-days: " + err.Error())
	}

	level := slog.LevelInfo
	if *debug {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	if *noAuth {
		log.Warn("kiosk authentication is OFF (--insecure-no-auth)")
	}

	srv, err := relay.NewServer(relay.Config{
		Key:            *key,
		ScanForPayKey:  *sfpKey,
		Token:          *token,
		InsecureNoAuth: *noAuth,
		DataDir:        *data,
		AllowIPs:       allowIPs,
		TrustedProxies: trusted,
		Retain:         retention,
		Logger:         log,
	})
	if err != nil {
		log.Error("start", "err", err)
		return 1
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Error("listen", "addr", *listen, "err", err)
		srv.Shutdown(context.Background())
		return 1
	}
	scheme := "http"
	if *cert != "" {
		scheme = "https"
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
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	served := make(chan error, 1)
	go func() {
		if *cert != "" {
			served <- hs.ServeTLS(ln, *cert, *keyFile)
		} else {
			served <- hs.Serve(ln)
		}
	}()
	log.Info("relay up", "addr", ln.Addr().String(), "qfpay", *key != "", "scanforpay", *sfpKey != "", "data", *data, "tls", *cert != "", "allow_ips", len(allowIPs), "retain_days", *retain)

	code := 0
	select {
	case err := <-served:
		log.Error("serve", "err", err)
		code = 1
	case <-ctx.Done():
		log.Info("signal: shutting down")
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Stop accepting and let notifications in flight finish their journal
	// write, then close the websockets ("going away") and the journal.
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Warn("http shutdown", "err", err)
	}
	if err := srv.Shutdown(sctx); err != nil {
		log.Error("relay shutdown", "err", err)
		code = 1
	}
	return code
}

// minRetainDays keeps a week: more than the 48 h a reconnecting kiosk
// replays, and a long weekend's notifications to look back at.
const minRetainDays = 7

// retainDays parses --retain-days: 0 keeps every notification (a negative
// Retain for the server), else at least minRetainDays whole days.
func retainDays(s string) (time.Duration, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	switch {
	case err != nil:
		return 0, fmt.Errorf("%q is not a whole number of days", s)
	case n == 0:
		return -1, nil
	case n < minRetainDays:
		return 0, fmt.Errorf("%d: must be 0 (keep every notification) or at least %d days", n, minRetainDays)
	case n > 100*365:
		return 0, fmt.Errorf("%d: more than 100 years; use 0 to keep every notification", n)
	}
	return time.Duration(n) * 24 * time.Hour, nil
}
