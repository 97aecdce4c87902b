package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"time"

	"qrkiosk/internal/kiosk"
	"qrkiosk/payment"
)

// Reconcile runs `qrkiosk reconcile [--date YYYY-MM-DD] [--json]`: it pages
// through the gateway's transactions of that day and lists every difference
// with the journal. Exit 0 when there is none, 1 when there are (or the
// gateway could not be asked), 64 on bad usage.
func Reconcile(ctx context.Context, env Env, args []string, dataDir string) int {
	fs := flag.NewFlagSet("reconcile", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	date := fs.String("date", "", "the day, YYYY-MM-DD in the merchant's zone (UTC+8); default today")
	asJSON := fs.Bool("json", false, "print one JSON object per difference")
	if err := fs.Parse(args); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(env.Stderr, "qrkiosk reconcile:", err)
		}
		return ExitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintln(env.Stderr, "qrkiosk reconcile: usage: qrkiosk reconcile [--date YYYY-MM-DD] [--json]")
		return ExitUsage
	}
	if _, err := time.Parse(payment.DayLayout, *date); *date != "" && err != nil {
		fmt.Fprintf(env.Stderr, "qrkiosk reconcile: --date %q: must be a date as YYYY-MM-DD\n", *date)
		return ExitUsage
	}
	return withKiosk(ctx, env, "reconcile", dataDir, true, func(ctx context.Context, k *kiosk.Kiosk) int {
		j := k.Journal
		start, end, err := j.DayBounds(*date)
		if err != nil {
			fmt.Fprintln(env.Stderr, "qrkiosk reconcile:", err)
			return ExitUsage
		}
		lister, ok := k.Gateway.(payment.DayLister)
		if !ok {
			fmt.Fprintf(env.Stderr, "qrkiosk reconcile: gateway %s cannot list a day's transactions\n", k.Gateway.Name())
			return ExitFailed
		}
		txns, err := lister.ListTransactions(ctx, start, end)
		if err != nil {
			fmt.Fprintln(env.Stderr, "qrkiosk reconcile: asking the gateway:", err)
			return ExitFailed
		}
		diffs, err := j.Reconcile(ctx, *date, txns, k.Gateway)
		if err != nil {
			fmt.Fprintln(env.Stderr, "qrkiosk reconcile:", err)
			return ExitFailed
		}
		day := start.Format(payment.DayLayout)
		for _, d := range diffs {
			if *asJSON {
				b, _ := json.Marshal(map[string]string{
					"kind": string(d.Kind), "record": d.Record, "out_trade_no": d.OutTradeNo, "syssn": d.SysSN,
					"journal": d.Journal, "gateway": d.Gateway,
				})
				fmt.Fprintf(env.Stdout, "%s\n", b)
			} else {
				fmt.Fprintln(env.Stdout, d.String())
			}
		}
		if len(diffs) > 0 {
			fmt.Fprintf(env.Stderr, "qrkiosk reconcile: %s: %d difference(s) between the journal and the gateway (%d gateway transactions)\n", day, len(diffs), len(txns))
			return ExitFailed
		}
		fmt.Fprintf(env.Stderr, "qrkiosk reconcile: %s: the journal and the gateway agree (%d gateway transactions)\n", day, len(txns))
		return 0
	})
}
