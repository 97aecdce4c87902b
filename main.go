// Command qrkiosk is the shop-counter QR payment kiosk: with no subcommand
// it opens the cashier and customer windows; its subcommands (charge,
// config check, …) open none.
package main

import (
	"context"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"qrkiosk/cli"
	"qrkiosk/config"
	"qrkiosk/ui"
)

func main() {
	args := os.Args[1:]
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	env := cli.Env{Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, Signals: sigs}
	switch {
	case gui(args):
		ctx, cancel := context.WithCancel(context.Background())
		go func() { <-sigs; cancel() }()
		os.Exit(ui.Run(ctx, ui.Options{Args: args, Getenv: os.Getenv, Stderr: os.Stderr, Logger: env.Logger()}))
	case args[0] == "config":
		os.Exit(config.Check(os.Stdout, os.Getenv, args[1:]))
	}
	os.Exit(cli.Main(context.Background(), env, args))
}

// gui: no subcommand, only the GUI's flags (--layout, --kiosk, …).
func gui(args []string) bool {
	if len(args) == 0 {
		return true
	}
	switch args[0] {
	case "-h", "-help", "--help":
		return false
	}
	return strings.HasPrefix(args[0], "-")
}
