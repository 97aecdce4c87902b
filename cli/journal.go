package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"qrkiosk/journal"
	"qrkiosk/payment"
	"qrkiosk/payment/qfpay"
)

// recoveryWait bounds how long a command waits at start for the orders a
// previous run left unfinished to be checked with the gateway (and, past
// their deadline, withdrawn and settled) before it goes on.
const recoveryWait = 20 * time.Second

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

// openJournal opens the journal in dir, else QRKIOSK_DATA, else the OS data
// directory.
func openJournal(env Env, dir string) (*journal.Journal, error) {
	if dir == "" {
		var err error
		if dir, err = journal.DefaultDir(env.Getenv); err != nil {
			return nil, err
		}
	}
	return journal.Open(journal.Options{Dir: dir, UDID: env.Getenv(qfpay.EnvUDID), Logger: env.Logger()})
}

// gatewayClient builds the QFPay client from the environment.
func gatewayClient(env Env) (*qfpay.Client, error) {
	cfg, err := qfpay.ConfigFromEnv(env.Getenv)
	if err != nil {
		return nil, err
	}
	return cfg.NewClient(qfpay.WithLogger(env.Logger()))
}

// recoverAtStart resolves what a previous run left unfinished: pending
// refunds by query, and unfinished orders by resuming their machines (which
// run until ctx ends). It waits, bounded, until each has been checked with
// the gateway and those past their deadline are settled, and reports on
// stderr. Orders still before their deadline go on being followed while
// the command runs; what is not final when it ends is resumed at the next
// start.
func recoverAtStart(ctx context.Context, env Env, j *journal.Journal, client *qfpay.Client) *journal.Recovery {
	stderr := env.Stderr
	stop := j.OnAlert(func(a journal.Alert) {
		switch a.Kind {
		case journal.AlertPaidOffline:
			fmt.Fprintf(stderr, "qrkiosk: order %s (%s %s) was PAID while the kiosk was offline\n", a.Order.OutTradeNo, a.Order.Amount.Display(), a.Order.PayType.Name.En)
		case journal.AlertPaidLate:
			fmt.Fprintf(stderr, "qrkiosk: order %s (%s %s) was PAID LATE, after the kiosk had stopped offering it; refund it if the customer paid again\n", a.Order.OutTradeNo, a.Order.Amount.Display(), a.Order.PayType.Name.En)
		}
	})
	defer stop()
	wctx, cancel := context.WithTimeout(ctx, recoveryWait)
	defer cancel()
	settled, err := j.ResolveRefunds(wctx, client)
	if err != nil {
		fmt.Fprintln(stderr, "qrkiosk: checking unfinished refunds:", err)
	}
	for _, r := range settled {
		fmt.Fprintf(stderr, "qrkiosk: unfinished refund %s of order %s (%s): %s\n", r.OutTradeNo, r.OrigOutTradeNo, r.Amount.Display(), r.State)
	}
	rec, err := journal.Recover(ctx, j, payment.MachineConfig{Gateway: client, Logger: env.Logger()})
	if err != nil {
		fmt.Fprintln(stderr, "qrkiosk: recovering unfinished orders:", err)
		return nil
	}
	if len(rec.Orders) == 0 {
		return rec
	}
	fmt.Fprintf(stderr, "qrkiosk: %d order(s) left unfinished by the last run; checking them with the gateway…\n", len(rec.Orders))
	if err := rec.Wait(wctx); err != nil && ctx.Err() == nil {
		fmt.Fprintln(stderr, "qrkiosk: the gateway did not settle every unfinished order in time; they are checked again at the next start")
	}
	for _, o := range rec.Orders {
		s := o.Snapshot()
		fmt.Fprintf(stderr, "qrkiosk: recovered order %s (%s %s): %s\n", s.OutTradeNo, s.Amount.Display(), s.PayType.Name.En, describeRecovered(s))
	}
	return rec
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

// withJournal opens the journal (and the gateway when configured), runs the
// recovery, and calls run; it returns run's exit code. Without gateway
// credentials, run gets a nil client and nothing is recovered.
func withJournal(ctx context.Context, env Env, name, dataDir string, needGateway bool, run func(ctx context.Context, j *journal.Journal, client *qfpay.Client) int) int {
	client, err := gatewayClient(env)
	if err != nil && needGateway {
		fmt.Fprintf(env.Stderr, "qrkiosk %s: %v\n", name, err)
		return ExitUsage
	}
	j, jerr := openJournal(env, dataDir)
	if jerr != nil {
		fmt.Fprintf(env.Stderr, "qrkiosk %s: %v\n", name, jerr)
		var le *journal.LockedError
		if errors.As(jerr, &le) {
			return ExitFailed
		}
		return ExitUsage
	}
	defer j.Close()
	runCtx, stop := context.WithCancel(ctx)
	var rec *journal.Recovery
	if client != nil {
		rec = recoverAtStart(runCtx, env, j, client)
	} else {
		fmt.Fprintf(env.Stderr, "qrkiosk %s: no gateway configured (%v); unfinished orders are not checked\n", name, err)
	}
	code := run(runCtx, j, client)
	// Recovered machines stop before the journal closes.
	stop()
	if rec != nil {
		for _, o := range rec.Orders {
			select {
			case <-o.Closed():
			case <-time.After(5 * time.Second):
			}
		}
	}
	return code
}
