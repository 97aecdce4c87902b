// Command qfpay-sim runs a QFPay-compatible gateway simulator: the trade/v1
// API, a customer page to pay or decline from a phone, and signed
// notifications. It powers the kiosk's demo mode and end-to-end tests.
//
// Credentials default to the documented demo pair (qfpaysim.DemoAppCode,
// qfpaysim.DemoKey); QFPAY_APPCODE and QFPAY_KEY override the defaults and
// the flags override both. The first line on stdout is
// "listening on http://ADDR" with the bound address; logs go to stderr.
//
// It behaves like QFPay's gateway by default, including its 400 requests a
// minute (--rate-limit). Its clock starts at the machine's plus
// --clock-offset; GET /sim/clock reads it and POST /sim/clock with
// advance=DURATION or set=RFC3339 moves it forward, so that expiry, refunds
// in progress and the query's month window can be tested without waiting.
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
	"strings"
	"syscall"
	"time"

	"qrkiosk/payment/qfpay/qfpaysim"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// run serves until ctx is cancelled (SIGINT or SIGTERM in main).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("qfpay-sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:0", "address to listen on (port 0 picks a free port)")
	appCode := fs.String("app-code", envOr("QFPAY_APPCODE", qfpaysim.DemoAppCode), "app code merchants must send (env QFPAY_APPCODE)")
	key := fs.String("key", envOr("QFPAY_KEY", qfpaysim.DemoKey), "client key requests are signed with (env QFPAY_KEY)")
	mchID := fs.String("mchid", "", "mchid every request must carry (empty: requests must not carry one)")
	notifyURL := fs.String("notify-url", "", "where signed notifications are POSTed (empty: none)")
	publicURL := fs.String("public-url", "", "public base of the customer page put in qrcode (default http://<bound address>)")
	notifyScale := fs.Float64("notify-scale", 1, "multiplier of QFPay's notification retry schedule")
	latency := fs.Duration("latency", 0, "delay added to every /trade/ call")
	fail5xx := fs.Float64("fail-5xx", 0, "fraction (0..1) of /trade/ calls answered 502 without effect")
	commitDrop := fs.Float64("commit-drop", 0, "fraction (0..1) of payments committed and then answered with a dropped connection")
	commitDropFirst := fs.Int("commit-drop-first", 0, "the first N payments are committed and then answered with a dropped connection")
	notifyDrop := fs.Float64("notify-drop", 0, "fraction (0..1) of payments never notified")
	notifyDup := fs.Float64("notify-dup", 0, "fraction (0..1) of notifications sent twice")
	expiry := fs.Duration("expiry-default", 30*time.Minute, "gateway expiry for pay types that ignore expired_time and when it is absent")
	clockOffset := fs.Duration("clock-offset", 0, "start the gateway clock this far from the machine's (e.g. -24h, 720h); POST /sim/clock moves it further")
	refundProcessing := fs.Duration("refund-processing", 0, "refunds answer 1143 (processing) and complete this long later on the gateway clock (0: at once)")
	cancelProcessing := fs.Duration("cancel-processing", 0, "reversal/close answer 1145 (in progress) and take effect this long later on the gateway clock (0: at once)")
	rateLimit := fs.Int("rate-limit", 400, "requests per minute per app code before HTTP 429, as QFPay (0: no limit)")
	query1161 := fs.Float64("query-1161", 0, "fraction (0..1) of query rows answered respcd 1161 (unknown result, query again)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	for name, v := range map[string]float64{"fail-5xx": *fail5xx, "commit-drop": *commitDrop, "notify-drop": *notifyDrop, "notify-dup": *notifyDup, "query-1161": *query1161} {
		if v < 0 || v > 1 {
			fmt.Fprintf(stderr, "qfpay-sim: --%s %v: must be between 0 and 1\n", name, v)
			return 2
		}
	}
	if *appCode == "" || *key == "" {
		fmt.Fprintln(stderr, "qfpay-sim: --app-code and --key must not be empty")
		return 2
	}
	if *notifyScale <= 0 || *expiry <= 0 || *latency < 0 {
		fmt.Fprintln(stderr, "qfpay-sim: --notify-scale and --expiry-default must be positive, --latency not negative")
		return 2
	}
	if *refundProcessing < 0 || *cancelProcessing < 0 || *rateLimit < 0 {
		fmt.Fprintln(stderr, "qfpay-sim: --refund-processing, --cancel-processing and --rate-limit must not be negative")
		return 2
	}

	log := slog.New(slog.NewTextHandler(stderr, nil))
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintf(stderr, "qfpay-sim: %v\n", err)
		return 1
	}
	addr := ln.Addr().String()
	base := strings.TrimRight(*publicURL, "/")
	if base == "" {
		base = "http://" + addr
	}
	sim := qfpaysim.New(qfpaysim.Config{
		AppCode:            *appCode,
		Key:                *key,
		MchID:              *mchID,
		NotifyURL:          *notifyURL,
		BaseURL:            base,
		NotifyScale:        *notifyScale,
		Latency:            *latency,
		Fail5xxRate:        *fail5xx,
		CommitDropRate:     *commitDrop,
		CommitDropFirst:    *commitDropFirst,
		NotifyDropRate:     *notifyDrop,
		NotifyDupRate:      *notifyDup,
		DefaultExpiry:      *expiry,
		ClockOffset:        *clockOffset,
		RefundProcessing:   *refundProcessing,
		CancelProcessing:   *cancelProcessing,
		RateLimitPerMinute: *rateLimit,
		QueryUnknownRate:   *query1161,
		Logger:             log,
	})
	defer sim.Close()
	srv := &http.Server{
		Handler:           sim,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30*time.Second + *latency,
		IdleTimeout:       60 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}

	fmt.Fprintf(stdout, "listening on http://%s\n", addr)
	log.Info("qfpay-sim started", "addr", addr, "public_url", base, "notify_url", *notifyURL, "mchid_required", *mchID != "",
		"gateway_time", sim.Now().Format(time.RFC3339), "rate_limit_per_minute", *rateLimit,
		"refund_processing", *refundProcessing, "cancel_processing", *cancelProcessing)

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
		shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(shutCtx); err != nil {
			log.Warn("shutdown incomplete", "err", err)
		}
	}
	return 0
}
