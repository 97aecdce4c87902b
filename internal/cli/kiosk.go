package cli

import (
	"context"
	"errors"
	"fmt"

	"qrkiosk/internal/config"
	"qrkiosk/internal/journal"
	"qrkiosk/internal/kiosk"
	"qrkiosk/payment"
)

// withKiosk assembles the kiosk as the window does (settings, gateway,
// relay, journal), runs the start-up recovery, and calls run; it returns
// run's exit code. needGateway refuses to run without gateway credentials
// (exit 64, nothing touched); otherwise run gets a kiosk without a gateway
// and nothing is recovered.
func withKiosk(ctx context.Context, env Env, name, dataDir string, needGateway bool, run func(ctx context.Context, k *kiosk.Kiosk) int) int {
	opts := kiosk.Options{DataDir: dataDir, Getenv: env.Getenv, Logger: env.Logger()}
	s, err := kiosk.LoadSettings(opts)
	if err != nil {
		return openFailed(env, "qrkiosk "+name, err)
	}
	return withSettings(ctx, env, name, opts, s, needGateway, run)
}

// withSettings is withKiosk on settings the caller has already loaded.
func withSettings(ctx context.Context, env Env, name string, opts kiosk.Options, s kiosk.Settings, needGateway bool, run func(ctx context.Context, k *kiosk.Kiosk) int) int {
	k, code := openKiosk(env, "qrkiosk "+name, s, opts)
	if k == nil {
		return code
	}
	defer k.Close()
	if k.Gateway == nil {
		if needGateway {
			fmt.Fprintf(env.Stderr, "qrkiosk %s: %v: set %v (environment, or the [%s] table of the config file)\n", name, kiosk.ErrNoGateway, k.Config.Missing(), k.Config.Gateway)
			return ExitUsage
		}
		fmt.Fprintf(env.Stderr, "qrkiosk %s: no gateway configured; unfinished orders are not checked\n", name)
	} else {
		recoverAtStart(ctx, env, k)
	}
	return run(ctx, k)
}

// openKiosk opens the kiosk on loaded settings or says why not (openFailed).
func openKiosk(env Env, who string, s kiosk.Settings, opts kiosk.Options) (*kiosk.Kiosk, int) {
	k, err := kiosk.OpenWith(s, opts)
	if err != nil {
		return nil, openFailed(env, who, err)
	}
	return k, 0
}

// openFailed says why the kiosk could not be opened and gives the exit
// code: invalid settings are bad usage (64), a journal another process
// holds is a failure (1), a journal that cannot be used an I/O error (74).
func openFailed(env Env, who string, err error) int {
	var probs config.Problems
	var locked *journal.LockedError
	var ioErr *journal.IOError
	switch {
	case errors.As(err, &probs):
		fmt.Fprintf(env.Stderr, "%s: the configuration is not valid (qrkiosk config check says more):\n%v\n", who, err)
		return ExitUsage
	case errors.As(err, &locked):
		fmt.Fprintf(env.Stderr, "%s: %v\n", who, err)
		return ExitFailed
	case errors.As(err, &ioErr):
		fmt.Fprintf(env.Stderr, "%s: the journal cannot be used: %v\n", who, err)
		return ExitIOErr
	}
	fmt.Fprintf(env.Stderr, "%s: %v\n", who, err)
	return ExitUsage
}

// recoverAtStart settles what a previous run left unfinished (the kiosk's
// Recover) and waits, bounded, until each order has been checked with the
// gateway and those past their deadline are settled, reporting on stderr.
// Orders still before their deadline go on being followed while the
// command runs; what is not final when it ends is resumed at the next start.
func recoverAtStart(ctx context.Context, env Env, k *kiosk.Kiosk) {
	stderr := env.Stderr
	stop := k.Journal.OnAlert(func(a journal.Alert) {
		switch a.Kind {
		case journal.AlertPaidOffline:
			fmt.Fprintf(stderr, "qrkiosk: order %s (%s %s) was PAID while the kiosk was offline\n", a.Order.OutTradeNo, a.Order.Amount.Display(), a.Order.PayType.Name.En)
		case journal.AlertPaidLate:
			fmt.Fprintf(stderr, "qrkiosk: order %s (%s %s) was PAID LATE, after the kiosk had stopped offering it; refund it if the customer paid again\n", a.Order.OutTradeNo, a.Order.Amount.Display(), a.Order.PayType.Name.En)
		}
	})
	defer stop()
	rec, err := k.Recover(ctx)
	if rec == nil {
		fmt.Fprintln(stderr, "qrkiosk: recovering unfinished orders:", err)
		return
	}
	if err != nil {
		fmt.Fprintln(stderr, "qrkiosk: checking unfinished refunds:", err)
	}
	for _, r := range rec.Refunds {
		fmt.Fprintf(stderr, "qrkiosk: unfinished refund %s of order %s (%s): %s\n", r.OutTradeNo, r.OrigOutTradeNo, r.Amount.Display(), r.State)
	}
	for _, o := range rec.Foreign {
		fmt.Fprintf(stderr, "qrkiosk: order %s (%s) was left unfinished on gateway %s; run qrkiosk with that gateway to settle it\n", o.OutTradeNo, o.Amount.Display(), o.Gateway)
	}
	if len(rec.Orders) == 0 {
		return
	}
	fmt.Fprintf(stderr, "qrkiosk: %d order(s) left unfinished by the last run; checking them with the gateway…\n", len(rec.Orders))
	wctx, cancel := context.WithTimeout(ctx, kiosk.RecoveryWait)
	defer cancel()
	if err := rec.Wait(wctx); err != nil && ctx.Err() == nil {
		fmt.Fprintln(stderr, "qrkiosk: the gateway did not settle every unfinished order in time; they are checked again at the next start")
	}
	for _, o := range rec.Orders {
		s := o.Snapshot()
		fmt.Fprintf(stderr, "qrkiosk: recovered order %s (%s %s): %s\n", s.OutTradeNo, s.Amount.Display(), s.PayType.Name.En, describeRecovered(s))
	}
}

func describeRecovered(s payment.Snapshot) string {
	switch {
	case s.State == payment.StateAwaitingPayment:
		return "still awaiting payment until " + s.Deadline.Format("15:04:05")
	case s.State == payment.StateCreating:
		return "not confirmed by the gateway yet"
	case s.State == payment.StateFailed && s.Reason != "":
		return "failed: " + s.Reason
	}
	return s.State.String()
}
