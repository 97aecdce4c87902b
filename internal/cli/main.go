package cli

import (
	"context"
	"fmt"
	"strings"

	"qrkiosk/internal/kiosk"
)

// Usage is the top-level help.
const Usage = `usage: qrkiosk [--data DIR] [SUBCOMMAND] [FLAGS]

  (none)     open the kiosk window (demo mode when no gateway is configured;
             its journal is then DIR/demo); qrkiosk --help lists its flags
  config     qrkiosk config check | config test | config hash-pin (manager PIN from stdin)
  setup      ask for the settings on stdin, test each part, write config.toml
  charge     charge one amount from the terminal: qrkiosk charge --amount 12.34 [--json]
  history    a day's orders and totals: qrkiosk history [--date YYYY-MM-DD] [--json | --csv] [--demo]
             the end of day: qrkiosk history --summary [--date D | --from D --to D] [--json | --csv] [--print]
  refund     give money back: qrkiosk refund --out-trade-no X [--amount A] [--json]
  reconcile  compare a day with the gateway: qrkiosk reconcile [--date YYYY-MM-DD] [--json]
  ecr        the shop's POS (QFPay's ECR protocol): qrkiosk ecr cert | qrkiosk ecr send --to …

Every start first settles the orders and refunds a previous run left
unfinished. The journal lives in --data DIR, else QRKIOSK_DATA, else
$XDG_DATA_HOME/qrkiosk (~/.local/share/qrkiosk).

Settings come from qrkiosk/config.toml in the user config directory (or the
file QRKIOSK_CONFIG names), overridden by the environment (QFPAY_ENV,
QFPAY_BASE_URL, QFPAY_APPCODE, QFPAY_KEY, QFPAY_MCHID, QFPAY_SIGN_TYPE,
QRKIOSK_UDID, QRKIOSK_RELAY_URL, QRKIOSK_RELAY_TOKEN, …). qrkiosk config check
shows what a start would use. See README.md.`

// Window opens the kiosk's windows on an assembled kiosk and returns the
// exit code when they close (ui.Run).
type Window func(ctx context.Context, k *kiosk.Kiosk, o kiosk.WindowOptions) int

// Main runs qrkiosk with its arguments and returns the exit code: the
// window when no subcommand is given (window may be nil where there is no
// GUI), else the subcommand.
func Main(ctx context.Context, env Env, args []string, window Window) int {
	dataDir, args, err := splitDataFlag(args)
	if err != nil {
		fmt.Fprintln(env.Stderr, "qrkiosk:", err)
		return ExitUsage
	}
	if len(args) == 0 || (strings.HasPrefix(args[0], "-") && !isHelp(args[0])) {
		return openWindow(ctx, env, args, dataDir, window)
	}
	switch args[0] {
	case "charge":
		return ChargeCmd(ctx, env, args[1:], dataDir)
	case "config":
		return ConfigCmd(env, args[1:], dataDir)
	case "setup":
		return SetupCmd(ctx, env, args[1:])
	case "history":
		return History(ctx, env, args[1:], dataDir)
	case "refund":
		return RefundCmd(ctx, env, args[1:], dataDir)
	case "reconcile":
		return Reconcile(ctx, env, args[1:], dataDir)
	case "ecr":
		return ECRCmd(ctx, env, args[1:], dataDir)
	case "help", "-h", "-help", "--help":
		fmt.Fprintln(env.Stdout, Usage)
		return 0
	}
	fmt.Fprintf(env.Stderr, "qrkiosk: unknown subcommand %q\n%s\n", args[0], Usage)
	return ExitUsage
}

func isHelp(a string) bool { return a == "-h" || a == "-help" || a == "--help" }

// splitDataFlag takes --data DIR (or --data=DIR) out of the arguments,
// wherever it is, so every subcommand accepts it.
func splitDataFlag(args []string) (dir string, rest []string, err error) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--data" || a == "-data":
			if i+1 >= len(args) || args[i+1] == "" {
				return "", nil, usagef("--data: needs a directory")
			}
			dir = args[i+1]
			i++
		case strings.HasPrefix(a, "--data=") || strings.HasPrefix(a, "-data="):
			_, dir, _ = strings.Cut(a, "=")
			if dir == "" {
				return "", nil, usagef("--data: needs a directory")
			}
		default:
			rest = append(rest, a)
		}
	}
	return dir, rest, nil
}
