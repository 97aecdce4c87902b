// Command qrkiosk is the shop-counter QR payment kiosk: with no subcommand
// it opens the cashier and customer windows; its subcommands (charge,
// config check, …) open none.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"qrkiosk/internal/cli"
	"qrkiosk/ui"
)

func main() {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	env := cli.Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, Signals: sigs}
	os.Exit(cli.Main(context.Background(), env, os.Args[1:], ui.Run))
}
