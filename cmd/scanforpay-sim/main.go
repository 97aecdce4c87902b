// Command scanforpay-sim runs a ScanForPay-compatible gateway simulator:
// the API (create, barcode pay, payQuery, refund) with ScanForPay's signed
// JSON envelopes, a customer page to pay or decline from a phone, and
// signed notifications to each order's notifyUrl. It powers the kiosk's
// demo mode on ScanForPay and end-to-end tests.
//
// Credentials default to the documented demo set (sfpsim.DemoPartnerNo,
// DemoStoreNo, DemoKey); SCANFORPAY_PARTNER_NO, SCANFORPAY_STORE_NO and
// SCANFORPAY_KEY override the defaults and the flags override both. The
// first line on stdout is "listening on http://ADDR" with the bound
// address; logs go to stderr.
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

	"qrkiosk/payment"
	"qrkiosk/sim/sfpsim"
	"qrkiosk/sim/simkit"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("scanforpay-sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	common := simkit.AddFlags(fs, "/api/", "the notification retry schedule (15s, 1m, 3m, 10m, 30m)", "creates and barcode payments")
	partner := fs.String("partner-no", simkit.EnvOr("SCANFORPAY_PARTNER_NO", sfpsim.DemoPartnerNo), "partnerNo merchants must send (env SCANFORPAY_PARTNER_NO)")
	store := fs.String("store-no", simkit.EnvOr("SCANFORPAY_STORE_NO", sfpsim.DemoStoreNo), "storeNo of the merchant's store (env SCANFORPAY_STORE_NO)")
	key := fs.String("key", simkit.EnvOr("SCANFORPAY_KEY", sfpsim.DemoKey), "sign key requests are signed with (env SCANFORPAY_KEY)")
	answerKey := fs.String("answer-key", "", "sign answers and notifications with this key instead (a gateway the kiosk must not believe)")
	currency := fs.String("currency", "HKD", "the store's currency (ScanForPay orders carry none)")
	dealing := fs.Float64("refund-dealing", 0, `fraction (0..1) of refunds answered "dealing" (status 0) and done later`)
	refundDelay := fs.Duration("refund-delay", 3*time.Second, "how long a dealing refund takes")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if err := common.Check(map[string]float64{"refund-dealing": *dealing}); err != nil {
		fmt.Fprintf(stderr, "scanforpay-sim: %v\n", err)
		return 2
	}
	if *partner == "" || *store == "" || *key == "" {
		fmt.Fprintln(stderr, "scanforpay-sim: --partner-no, --store-no and --key must not be empty")
		return 2
	}
	if *refundDelay <= 0 {
		fmt.Fprintln(stderr, "scanforpay-sim: --refund-delay must be positive")
		return 2
	}
	cur, err := payment.LookupCurrency(*currency)
	if err != nil {
		fmt.Fprintf(stderr, "scanforpay-sim: --currency: %v\n", err)
		return 2
	}

	log := slog.New(slog.NewTextHandler(stderr, nil))
	ln, base, err := common.Start(stdout)
	if err != nil {
		fmt.Fprintf(stderr, "scanforpay-sim: %v\n", err)
		return 1
	}
	sim := sfpsim.New(sfpsim.Config{
		PartnerNo:         *partner,
		StoreNo:           *store,
		Key:               *key,
		AnswerKey:         *answerKey,
		Currency:          &cur,
		BaseURL:           base,
		NotifyScale:       common.NotifyScale,
		Latency:           common.Latency,
		Fail5xxRate:       common.Fail5xx,
		CommitDropRate:    common.CommitDrop,
		NotifyDropRate:    common.NotifyDrop,
		NotifyDupRate:     common.NotifyDup,
		RefundDealingRate: *dealing,
		RefundDelay:       *refundDelay,
		Logger:            log,
	})
	defer sim.Close()

	log.Info("scanforpay-sim started", "addr", ln.Addr().String(), "public_url", base, "partner_no", *partner, "store_no", *store, "currency", cur.Code, "forged_answers", *answerKey != "")

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return simkit.Serve(ctx, ln, sim, common.Latency, log)
}
