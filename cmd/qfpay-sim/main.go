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
// minute (--rate-limit). It takes customer-presented codes (CPM, auth_code)
// too: the customer confirms --cpm-confirm-after later (3 s), and the last
// four digits of a code pick another outcome (see README). Its clock starts at the machine's plus
// --clock-offset; GET /sim/clock reads it and POST /sim/clock with
// advance=DURATION or set=RFC3339 moves it forward, so that expiry, refunds
// in progress and the query's month window can be tested without waiting.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"qrkiosk/sim/qfpaysim"
	"qrkiosk/sim/simkit"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run serves until ctx is cancelled (SIGINT or SIGTERM in main).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("qfpay-sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	common := simkit.AddFlags(fs, "/trade/", "QFPay's notification retry schedule", "payments")
	appCode := fs.String("app-code", simkit.EnvOr("QFPAY_APPCODE", qfpaysim.DemoAppCode), "app code merchants must send (env QFPAY_APPCODE)")
	key := fs.String("key", simkit.EnvOr("QFPAY_KEY", qfpaysim.DemoKey), "client key requests are signed with (env QFPAY_KEY)")
	mchID := fs.String("mchid", "", "mchid every request must carry (empty: requests must not carry one)")
	notifyURL := fs.String("notify-url", "", "where signed notifications are POSTed (empty: none)")
	commitDropFirst := fs.Int("commit-drop-first", 0, "the first N payments are committed and then answered with a dropped connection")
	expiry := fs.Duration("expiry-default", 30*time.Minute, "gateway expiry for pay types that ignore expired_time and when it is absent")
	clockOffset := fs.Duration("clock-offset", 0, "start the gateway clock this far from the machine's (e.g. -24h, 720h); POST /sim/clock moves it further")
	refundProcessing := fs.Duration("refund-processing", 0, "refunds answer 1143 (processing) and complete this long later on the gateway clock (0: at once)")
	cancelProcessing := fs.Duration("cancel-processing", 0, "reversal/close answer 1145 (in progress) and take effect this long later on the gateway clock (0: at once)")
	rateLimit := fs.Int("rate-limit", 400, "requests per minute per app code before HTTP 429, as QFPay (0: no limit)")
	query1161 := fs.Float64("query-1161", 0, "fraction (0..1) of query rows answered respcd 1161 (unknown result, query again)")
	cpmConfirmAfter := fs.Duration("cpm-confirm-after", qfpaysim.DefaultCPMConfirmAfter, "a CPM payment answers 1145 and the customer confirms it this long later on the gateway clock (0: paid at once)")
	allInOneNamesWallet := fs.Bool("allinone-names-wallet", false, "all-in-one (800008) CPM payments carry the wallet's own pay type (800108, 800208, 800708, 805808) in answers, rows and notifications")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if err := common.Check(map[string]float64{"query-1161": *query1161}); err != nil {
		fmt.Fprintf(stderr, "qfpay-sim: %v\n", err)
		return 2
	}
	if *appCode == "" || *key == "" {
		fmt.Fprintln(stderr, "qfpay-sim: --app-code and --key must not be empty")
		return 2
	}
	if *expiry <= 0 {
		fmt.Fprintln(stderr, "qfpay-sim: --expiry-default must be positive")
		return 2
	}
	if *refundProcessing < 0 || *cancelProcessing < 0 || *rateLimit < 0 {
		fmt.Fprintln(stderr, "qfpay-sim: --refund-processing, --cancel-processing and --rate-limit must not be negative")
		return 2
	}
	if *cpmConfirmAfter < 0 {
		fmt.Fprintln(stderr, "qfpay-sim: --cpm-confirm-after must not be negative (0: CPM payments are paid at once)")
		return 2
	}
	confirmAfter := *cpmConfirmAfter
	if confirmAfter == 0 {
		confirmAfter = -1 // the Config's "at once"; its 0 means the default
	}

	log := slog.New(slog.NewTextHandler(stderr, nil))
	ln, base, err := common.Start(stdout)
	if err != nil {
		fmt.Fprintf(stderr, "qfpay-sim: %v\n", err)
		return 1
	}
	addr := ln.Addr().String()
	sim := qfpaysim.New(qfpaysim.Config{
		AppCode:             *appCode,
		Key:                 *key,
		MchID:               *mchID,
		NotifyURL:           *notifyURL,
		BaseURL:             base,
		NotifyScale:         common.NotifyScale,
		Latency:             common.Latency,
		Fail5xxRate:         common.Fail5xx,
		CommitDropRate:      common.CommitDrop,
		CommitDropFirst:     *commitDropFirst,
		NotifyDropRate:      common.NotifyDrop,
		NotifyDupRate:       common.NotifyDup,
		DefaultExpiry:       *expiry,
		ClockOffset:         *clockOffset,
		RefundProcessing:    *refundProcessing,
		CancelProcessing:    *cancelProcessing,
		RateLimitPerMinute:  *rateLimit,
		QueryUnknownRate:    *query1161,
		CPMConfirmAfter:     confirmAfter,
		AllInOneNamesWallet: *allInOneNamesWallet,
		Logger:              log,
	})
	defer sim.Close()

	log.Info("qfpay-sim started", "addr", addr, "public_url", base, "notify_url", *notifyURL, "mchid_required", *mchID != "",
		"gateway_time", sim.Now().Format(time.RFC3339), "rate_limit_per_minute", *rateLimit,
		"refund_processing", *refundProcessing, "cancel_processing", *cancelProcessing,
		"cpm_confirm_after", *cpmConfirmAfter, "allinone_names_wallet", *allInOneNamesWallet)
	return simkit.Serve(ctx, ln, sim, common.Latency, log)
}
