// Package cli runs qrkiosk's subcommands that open no window: it parses
// their flags and prints what the kiosk's parts report.
package cli

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"qrkiosk/payment"
)

// Exit codes of qrkiosk charge (and the other subcommands).
const (
	ExitPaid      = 0
	ExitFailed    = 1 // payment failed, or a gateway error
	ExitExpired   = 2
	ExitCancelled = 3
	// ExitRefundProcessing: the refund was sent and the gateway is still
	// processing it (or its answer was lost); it is settled by query.
	ExitRefundProcessing = 4
	ExitUsage            = 64 // bad usage or input; nothing was sent to the gateway
	// ExitIOErr (EX_IOERR): the journal cannot be read or written (disk
	// full, read-only, not a database): nothing was charged.
	ExitIOErr = 74
)

// Env is what a subcommand gets from its process.
type Env struct {
	Stdin          io.Reader // nil: empty
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	// Signals delivers SIGINT/SIGTERM; nil means none.
	Signals <-chan os.Signal
}

// Logger builds the process logger: text on stderr, level from QRKIOSK_LOG
// (debug, info, warn, error; default warn so the CLI output stays clean).
func (e Env) Logger() *slog.Logger {
	lvl := slog.LevelWarn
	switch strings.ToLower(e.Getenv("QRKIOSK_LOG")) {
	case "debug":
		lvl = slog.LevelDebug
	case "info":
		lvl = slog.LevelInfo
	case "error":
		lvl = slog.LevelError
	}
	return slog.New(slog.NewTextHandler(e.Stderr, &slog.HandlerOptions{Level: lvl}))
}

// usageError is bad input: exit 64, nothing sent.
type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

func usagef(format string, a ...any) error { return usageError{fmt.Sprintf(format, a...)} }

// flagError restates a field error in terms of the flag the user typed.
func flagError(flagName string, err error) error {
	var fe *payment.FieldError
	if errors.As(err, &fe) {
		if fe.Value != "" {
			return usagef("%s %q: %s", flagName, fe.Value, fe.Rule)
		}
		return usagef("%s: %s", flagName, fe.Rule)
	}
	return usagef("%s: %v", flagName, err)
}
