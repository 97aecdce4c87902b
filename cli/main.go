package cli

import (
	"context"
	"fmt"

	"qrkiosk/journal"
	"qrkiosk/payment/qfpay"
)

// Usage is the top-level help.
const Usage = `usage: qrkiosk [--data DIR] [SUBCOMMAND] [FLAGS]

  (none)     open the kiosk window (demo mode when no gateway is configured;
             its journal is then DIR/demo)
  config     qrkiosk config check | qrkiosk config hash-pin (manager PIN from stdin)
  charge     charge one amount from the terminal: qrkiosk charge --amount 12.34 [--json]
  history    a day's orders and totals: qrkiosk history [--date YYYY-MM-DD] [--json | --csv]
  refund     give money back: qrkiosk refund --out-trade-no X [--amount A] [--json]
  reconcile  compare a day with the gateway: qrkiosk reconcile [--date YYYY-MM-DD] [--json]

Every start first settles the orders and refunds a previous run left
unfinished. The journal lives in --data DIR, else QRKIOSK_DATA, else
$XDG_DATA_HOME/qrkiosk (~/.local/share/qrkiosk).

Gateway configuration comes from QFPAY_ENV, QFPAY_BASE_URL, QFPAY_APPCODE,
QFPAY_KEY, QFPAY_MCHID, QFPAY_SIGN_TYPE and QRKIOSK_UDID; push from
QRKIOSK_RELAY_URL and QRKIOSK_RELAY_TOKEN. See README.md.`

// Main runs a subcommand that opens no window and returns the exit code.
func Main(ctx context.Context, env Env, args []string) int {
	dataDir, args, err := splitDataFlag(args)
	if err != nil {
		fmt.Fprintln(env.Stderr, "qrkiosk:", err)
		return ExitUsage
	}
	if len(args) == 0 {
		fmt.Fprintln(env.Stderr, Usage)
		return ExitUsage
	}
	switch args[0] {
	case "charge":
		opts, err := ParseCharge(args[1:], env.Stderr)
		if err != nil {
			fmt.Fprintln(env.Stderr, "qrkiosk charge:", err)
			return ExitUsage
		}
		return withJournal(ctx, env, "charge", dataDir, true, func(ctx context.Context, j *journal.Journal, client *qfpay.Client) int {
			push, pushUp, stop, err := relayPush(ctx, env, client)
			if err != nil {
				fmt.Fprintln(env.Stderr, "qrkiosk charge:", err)
				return ExitUsage
			}
			defer stop()
			return RunCharge(ctx, env, opts, client, push, pushUp, j)
		})
	case "history":
		return History(ctx, env, args[1:], dataDir)
	case "refund":
		return RefundCmd(ctx, env, args[1:], dataDir)
	case "reconcile":
		return Reconcile(ctx, env, args[1:], dataDir)
	case "help", "-h", "--help":
		fmt.Fprintln(env.Stdout, Usage)
		return 0
	}
	fmt.Fprintf(env.Stderr, "qrkiosk: unknown subcommand %q\n%s\n", args[0], Usage)
	return ExitUsage
}
