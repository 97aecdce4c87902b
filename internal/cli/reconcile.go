package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"time"

	"qrkiosk/internal/kiosk"
	"qrkiosk/internal/settle"
	"qrkiosk/payment"
)

// Reconcile runs `qrkiosk reconcile [--date YYYY-MM-DD] [--json]`: it pages
// through the gateway's transactions of that day (or, on a gateway that
// cannot list a day, asks about each journal record) and lists every
// difference with the journal. Exit 0 when there is none (records the
// gateway cannot confirm are listed but do not fail), 1 when there are (or
// the gateway could not be asked), 64 on bad usage.
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
		start, _, err := j.DayBounds(*date)
		if err != nil {
			fmt.Fprintln(env.Stderr, "qrkiosk reconcile:", err)
			return ExitUsage
		}
		// A gateway that lists a day's transactions is compared with that
		// list (which also finds sales missing from this journal); one that
		// cannot is asked about each journal record by name.
		check, err := settle.ReconcileDay(ctx, j, *date, k.Gateway)
		if !check.Listed {
			fmt.Fprintf(env.Stderr, "qrkiosk reconcile: gateway %s cannot list a day's transactions: each order and refund of the journal is checked by query instead, so sales on this account that are not in this journal cannot be found\n", k.Gateway.Name())
		}
		if err != nil {
			fmt.Fprintln(env.Stderr, "qrkiosk reconcile:", err)
			return ExitFailed
		}
		diffs := check.Differences
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
		var disagree, unconfirmed int
		for _, d := range diffs {
			if d.Disagrees() {
				disagree++
			} else {
				unconfirmed++
			}
		}
		checked := fmt.Sprintf("%d gateway transactions", check.Transactions)
		if !check.Listed {
			checked = "journal records checked one by one"
		}
		if unconfirmed > 0 {
			fmt.Fprintf(env.Stderr, "qrkiosk reconcile: %s: %d record(s) the gateway cannot confirm; check them in the merchant portal\n", day, unconfirmed)
		}
		if disagree > 0 {
			fmt.Fprintf(env.Stderr, "qrkiosk reconcile: %s: %d difference(s) between the journal and the gateway (%s)\n", day, disagree, checked)
			return ExitFailed
		}
		fmt.Fprintf(env.Stderr, "qrkiosk reconcile: %s: the journal and the gateway agree (%s)\n", day, checked)
		return 0
	})
}
