package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"qrkiosk/internal/config"
	"qrkiosk/internal/kiosk"
	"qrkiosk/internal/lan"
	"qrkiosk/internal/pin"
	"qrkiosk/internal/probe"
)

// Exit codes of `qrkiosk config check`.
const (
	CheckReady   = 0  // ready to take real payments
	CheckDemo    = 1  // valid, but no gateway credentials: demo mode
	CheckInvalid = 64 // something is wrong; the kiosk would not start
)

// ConfigUsage is the help of `qrkiosk config`.
const ConfigUsage = `usage: qrkiosk [--data DIR] config check      what the kiosk would run with, and what is missing
       qrkiosk config test        test each configured part (gateway, relay) with calls that move no
                                  money: exit 0 when all work, else 1 with a sentence for each that does not
       qrkiosk config hash-pin    read a manager PIN (4+ digits) on stdin, print its salted hash
                                  for manager_pin_hash in config.toml`

// ConfigCmd runs `qrkiosk config SUBCOMMAND` and returns the exit code.
func ConfigCmd(env Env, args []string, dataDir string) int {
	switch {
	case len(args) == 1 && args[0] == "hash-pin":
		return hashPIN(env)
	case len(args) == 1 && args[0] == "check":
		return configCheck(env, dataDir)
	case len(args) == 1 && args[0] == "test":
		return configTest(context.Background(), env, dataDir, probe.Options{})
	}
	fmt.Fprintln(env.Stderr, ConfigUsage)
	return CheckInvalid
}

// hashPIN runs `qrkiosk config hash-pin`: the manager PIN comes on stdin
// (so it is in no shell history or process list) and only its salted hash
// is printed, to be put in config.toml as manager_pin_hash.
func hashPIN(env Env) int {
	in := env.Stdin
	if in == nil {
		in = strings.NewReader("")
	}
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && line == "" {
		fmt.Fprintln(env.Stderr, "qrkiosk config hash-pin: no PIN on stdin (e.g. read -s PIN; echo \"$PIN\" | qrkiosk config hash-pin)")
		return CheckInvalid
	}
	hash, err := pin.Hash(strings.TrimSpace(line))
	if err != nil {
		fmt.Fprintln(env.Stderr, "qrkiosk config hash-pin:", err)
		return CheckInvalid
	}
	fmt.Fprintln(env.Stdout, hash)
	return CheckReady
}

// configCheck runs `qrkiosk config check`: the very settings check the
// window and every subcommand run at start (kiosk.LoadSettings), then what
// the kiosk would run with (never a key), what is wrong or missing, and
// what is risky. It returns one of the Check* exit codes.
func configCheck(env Env, dataDir string) int {
	out := env.Stdout
	s, err := kiosk.LoadSettings(kiosk.Options{DataDir: dataDir, Getenv: env.Getenv})
	c := s.Config
	if path, _, perr := config.DefaultPath(env.Getenv); perr == nil && c.Path == "" {
		fmt.Fprintf(out, "file: %s (not present; environment and defaults only)\n", path)
	} else if c.Path != "" {
		fmt.Fprintln(out, "file:", c.Path)
	}
	var probs config.Problems
	if errors.As(err, &probs) {
		fmt.Fprintln(out, "invalid:")
		for _, p := range probs {
			fmt.Fprintln(out, "  -", p)
		}
		return CheckInvalid
	}
	if err != nil {
		fmt.Fprintln(out, "invalid:", err)
		return CheckInvalid
	}
	printSettings(out, s)
	for _, w := range c.Warnings {
		fmt.Fprintln(out, "WARNING:", w)
	}
	if c.Demo() {
		fmt.Fprintf(out, "DEMO mode: no %s credentials. To take real payments set %s (environment), or the same settings under [%s] in the file.\n",
			c.Gateway, strings.Join(c.Missing(), " and "), c.Gateway)
		return CheckDemo
	}
	fmt.Fprintln(out, "ready: real payments through", c.Gateway)
	return CheckReady
}

func printSettings(out io.Writer, s kiosk.Settings) {
	c := s.Config
	var wallets []string
	for _, p := range c.PayTypes {
		wallets = append(wallets, p.Wallet)
	}
	fmt.Fprintf(out, "merchant: %q\ncurrency: %s\nwallets: %s\nexpiry: %s\nlayout: %s\n",
		c.MerchantName, c.Currency.Code, strings.Join(wallets, ", "), c.Expiry, c.Layout)
	if c.Demo() {
		fmt.Fprintf(out, "gateway: %s\nenvironment: the built-in simulator (the window's demo mode; subcommands charge nothing)\n", c.Gateway)
	} else {
		env, base := c.Endpoint()
		fmt.Fprintf(out, "gateway: %s\nenvironment: %s\nbase URL: %s\n", c.Gateway, env, base)
	}
	fmt.Fprintln(out, "credentials:", c.Credentials())
	for _, n := range c.GatewayNotes() {
		fmt.Fprintln(out, "note:", n)
	}
	fmt.Fprintln(out, "journal:", s.DataDir, "(the window's demo mode uses its demo/ subdirectory)")
	pinState := "not set (--kiosk will refuse to start)"
	if c.PIN != "" {
		pinState = "set"
	}
	fmt.Fprintln(out, "pin:", pinState)
	manager := "not set (refunds from the app are off; qrkiosk config hash-pin makes one)"
	if c.ManagerPINHash != "" {
		manager = "set (salted hash)"
	}
	fmt.Fprintln(out, "manager pin:", manager)
	if c.RelayURL != "" {
		fmt.Fprintln(out, "relay:", c.RelayURL, "(token set)")
	} else {
		fmt.Fprintln(out, "relay: none (orders are followed by polling every 2 s)")
	}
	fmt.Fprintln(out, "printer:", printerText(c.Printer))
	printECR(out, s)
}

// printECR says whether and where the kiosk answers the shop's POS, and
// the CA the POS imports (never a key).
func printECR(out io.Writer, s kiosk.Settings) {
	e := s.Config.ECR
	listen := e.ListenAddr()
	if !e.On() {
		fmt.Fprintf(out, "pos (ECR): off (set [ecr] pos_key to answer a POS); LAN server address %s\n", listen)
		return
	}
	enc := "on"
	if !e.Encryption {
		enc = "off (plain requests taken too)"
	}
	fmt.Fprintf(out, "pos (ECR): on, answering at %s/api/pos/ (listen %s); POS-KEY set (%d characters); encryption %s\n", kiosk.LANURL(listen), listen, len(e.POSKey), enc)
	switch {
	case e.NotifyURL == "":
		fmt.Fprintln(out, "pos webhook: none")
	case e.NotifyKeyIsGateway:
		fmt.Fprintf(out, "pos webhook: %s, signed with the %s key (notify_key not set)\n", e.NotifyURL, s.Config.Gateway)
	default:
		fmt.Fprintf(out, "pos webhook: %s, signed with notify_key\n", e.NotifyURL)
	}
	ca := filepath.Join(s.LANDir(), lan.CAFile)
	if fp := caFingerprint(ca); fp != "" {
		fmt.Fprintf(out, "pos CA: %s (SHA-256 %s)\n", ca, fp)
	} else {
		fmt.Fprintf(out, "pos CA: not made yet (the kiosk makes %s at its first start; qrkiosk ecr cert makes it now)\n", ca)
	}
}

// printerText says what the kiosk prints on, for config check.
func printerText(p config.Printer) string {
	if p.Address == "" {
		return "none (no receipts on paper; [printer] address sets one)"
	}
	when := "when the cashier taps Print receipt"
	if p.Auto {
		when = "every paid sale, by itself"
	}
	return fmt.Sprintf("%s, %d mm paper, prints %s", p.Address, p.WidthMM, when)
}
