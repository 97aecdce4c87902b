// Command qrkiosk is the shop-counter QR payment kiosk: a cashier pane, a
// customer screen, and subcommands that open no window (charge).
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"qrkiosk/cli"
)

func main() {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	env := cli.Env{Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, Signals: sigs}
	os.Exit(cli.Main(context.Background(), env, os.Args[1:]))
}
