package config

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"qrkiosk/journal"
)

// Exit codes of `qrkiosk config check`.
const (
	CheckReady   = 0  // ready to take real payments
	CheckDemo    = 1  // valid, but no gateway credentials: demo mode
	CheckInvalid = 64 // something is wrong; the kiosk would not start
)

// Usage is the help of `qrkiosk config`.
const Usage = `usage: qrkiosk config check      what the kiosk would run with, and what is missing
       qrkiosk config hash-pin    read a manager PIN (4+ digits) on stdin, print its salted hash
                                  for manager_pin_hash in config.toml`

// Command runs `qrkiosk config SUBCOMMAND` and returns the exit code.
func Command(stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string, args []string) int {
	if len(args) == 1 && args[0] == "hash-pin" {
		return HashPIN(stdin, stdout, stderr)
	}
	if len(args) == 1 && args[0] == "check" {
		return Check(stdout, getenv, args)
	}
	fmt.Fprintln(stderr, Usage)
	return CheckInvalid
}

// HashPIN runs `qrkiosk config hash-pin`: the manager PIN comes on stdin
// (so it is in no shell history or process list) and only its salted hash
// is printed, to be put in config.toml as manager_pin_hash.
func HashPIN(stdin io.Reader, stdout, stderr io.Writer) int {
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && line == "" {
		fmt.Fprintln(stderr, "qrkiosk config hash-pin: no PIN on stdin (e.g. read -s PIN; echo \"$PIN\" | qrkiosk config hash-pin)")
		return CheckInvalid
	}
	hash, err := journal.HashPIN(strings.TrimSpace(line))
	if err != nil {
		fmt.Fprintln(stderr, "qrkiosk config hash-pin:", err)
		return CheckInvalid
	}
	fmt.Fprintln(stdout, hash)
	return CheckReady
}

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
	manager := "not set (refunds from the app are off; qrkiosk config hash-pin makes one)"
	if c.ManagerPINHash != "" {
		manager = "set (salted hash)"
	}
	fmt.Fprintln(stdout, "manager pin:", manager)
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
