package config

import (
	"fmt"
	"io"
	"strings"
)

// Exit codes of `qrkiosk config check`.
const (
	CheckReady   = 0  // ready to take real payments
	CheckDemo    = 1  // valid, but no gateway credentials: demo mode
	CheckInvalid = 64 // something is wrong; the kiosk would not start
)

// Check runs `qrkiosk config check`: it loads the configuration, prints
// what the kiosk would run with (never the key) and what is wrong or
// missing, and returns one of the Check* exit codes.
func Check(stdout io.Writer, getenv func(string) string, args []string) int {
	if len(args) != 1 || args[0] != "check" {
		fmt.Fprintln(stdout, "usage: qrkiosk config check")
		return CheckInvalid
	}
	path, err := DefaultPath(getenv)
	if err != nil {
		fmt.Fprintln(stdout, "config: no user config directory:", err)
		return CheckInvalid
	}
	c, err := Load(path, getenv)
	if c.Path != "" {
		fmt.Fprintln(stdout, "file:", c.Path)
	} else {
		fmt.Fprintf(stdout, "file: %s (not present; environment and defaults only)\n", path)
	}
	if err != nil {
		fmt.Fprintln(stdout, "invalid:")
		for _, p := range err.(Problems) {
			fmt.Fprintln(stdout, "  -", p)
		}
		return CheckInvalid
	}
	var wallets []string
	for _, p := range c.PayTypes {
		wallets = append(wallets, p.Wallet)
	}
	fmt.Fprintf(stdout, "merchant: %q\ncurrency: %s\nwallets: %s\nexpiry: %s\nlayout: %s\n",
		c.MerchantName, c.Currency.Code, strings.Join(wallets, ", "), c.Expiry, c.Layout)
	fmt.Fprintln(stdout, "gateway:", c.Gateway)
	pin := "not set (--kiosk will refuse to start)"
	if c.PIN != "" {
		pin = "set"
	}
	fmt.Fprintln(stdout, "pin:", pin)
	if c.RelayURL != "" {
		fmt.Fprintln(stdout, "relay:", c.RelayURL, "(token set)")
	} else {
		fmt.Fprintln(stdout, "relay: none (orders are followed by polling every 2 s)")
	}
	if c.Demo() {
		fmt.Fprintln(stdout, "DEMO mode: no gateway credentials. To take real payments set", strings.Join(c.Gateway.Missing(), " and "),
			"(environment), or appcode and key under [qfpay] in the file.")
		return CheckDemo
	}
	fmt.Fprintln(stdout, "ready: real payments through the gateway")
	return CheckReady
}
