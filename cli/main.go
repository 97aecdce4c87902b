package cli

import (
	"context"
	"fmt"

	"qrkiosk/payment/qfpay"
)

// Usage is the top-level help.
const Usage = `usage: qrkiosk [SUBCOMMAND] [FLAGS]

  (none)     open the kiosk window (demo mode when no gateway is configured)
  charge     charge one amount from the terminal: qrkiosk charge --amount 12.34 [--json]

Gateway configuration comes from QFPAY_ENV, QFPAY_BASE_URL, QFPAY_APPCODE,
QFPAY_KEY, QFPAY_MCHID, QFPAY_SIGN_TYPE and QRKIOSK_UDID; push from
QRKIOSK_RELAY_URL and QRKIOSK_RELAY_TOKEN. See README.md.`

// Main runs a subcommand that opens no window and returns the exit code.
func Main(ctx context.Context, env Env, args []string) int {
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
		cfg, err := qfpay.ConfigFromEnv(env.Getenv)
		if err != nil {
			fmt.Fprintln(env.Stderr, "qrkiosk charge:", err)
			return ExitUsage
		}
		client, err := cfg.NewClient(qfpay.WithLogger(env.Logger()))
		if err != nil {
			fmt.Fprintln(env.Stderr, "qrkiosk charge:", err)
			return ExitUsage
		}
		push, pushUp, stop, err := relayPush(ctx, env, client)
		if err != nil {
			fmt.Fprintln(env.Stderr, "qrkiosk charge:", err)
			return ExitUsage
		}
		defer stop()
		return RunCharge(ctx, env, opts, client, push, pushUp)
	case "help", "-h", "--help":
		fmt.Fprintln(env.Stdout, Usage)
		return 0
	}
	fmt.Fprintf(env.Stderr, "qrkiosk: unknown subcommand %q\n%s\n", args[0], Usage)
	return ExitUsage
}
