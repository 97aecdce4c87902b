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
		os.Exit(config.Command(os.Stdin, os.Stdout, os.Stderr, os.Getenv, args[1:]))
	}
	os.Exit(cli.Main(context.Background(), env, args))
}

// gui: no subcommand, only the GUI's flags (--layout, --kiosk, …). The
// global --data DIR may come first either way: `qrkiosk --data D` opens
// the GUI, `qrkiosk --data D history` runs the subcommand.
func gui(args []string) bool {
	for len(args) > 0 {
		switch a := args[0]; {
		case a == "--data" || a == "-data":
			args = args[min(2, len(args)):]
			continue
		case strings.HasPrefix(a, "--data=") || strings.HasPrefix(a, "-data="):
			args = args[1:]
			continue
		}
		break
	}
	if len(args) == 0 {
		return true
	}
	switch args[0] {
	case "-h", "-help", "--help":
		return false
	}
	return strings.HasPrefix(args[0], "-")
}
