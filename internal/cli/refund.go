package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"time"

	"qrkiosk/internal/journal"
	"qrkiosk/internal/kiosk"
	"qrkiosk/internal/settle"
	"qrkiosk/payment"
)

// RefundCmd runs `qrkiosk refund --out-trade-no X [--amount A] [--wait D] [--json]`.
// Exit 0 refunded; 1 refused by the gateway; 4 still processing at the
// gateway after --wait (journaled; settled by query at every start, never
// sent again); 64 refused locally, nothing sent.
func RefundCmd(ctx context.Context, env Env, args []string, dataDir string) int {
	fs := flag.NewFlagSet("refund", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	otn := fs.String("out-trade-no", "", "the order to refund (required)")
	amount := fs.String("amount", "", "how much to give back, e.g. 5.00 (default: all that remains)")
	asJSON := fs.Bool("json", false, "print one JSON object")
	wait := fs.Duration("wait", 15*time.Second, "how long to keep asking the gateway about a refund it is still processing")
	if err := fs.Parse(args); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(env.Stderr, "qrkiosk refund:", err)
		}
		return ExitUsage
	}
	if fs.NArg() > 0 || *otn == "" {
		fmt.Fprintln(env.Stderr, "qrkiosk refund: usage: qrkiosk refund --out-trade-no X [--amount A] [--json]")
		return ExitUsage
	}
	return withKiosk(ctx, env, "refund", dataDir, true, func(ctx context.Context, k *kiosk.Kiosk) int {
		j := k.Journal
		o, err := j.Order(ctx, *otn)
		if err != nil {
			fmt.Fprintf(env.Stderr, "qrkiosk refund: --out-trade-no %s: order is not in this kiosk's journal\n", *otn)
			return ExitUsage
		}
		var minor int64
		if *amount != "" {
			a, err := payment.ParseAmount(*amount, o.Amount.Currency)
			if err != nil {
				fmt.Fprintln(env.Stderr, "qrkiosk refund:", flagError("--amount", err))
				return ExitUsage
			}
			minor = a.Minor
		}
		r, err := k.Refund(ctx, *otn, minor)
		var refused *settle.RefusedError
		switch {
		case errors.As(err, &refused):
			fmt.Fprintln(env.Stderr, "qrkiosk refund: refused, nothing was sent:", refused.Msg)
			return ExitUsage
		case errors.Is(err, settle.ErrRefundProcessing):
			fmt.Fprintln(env.Stderr, "qrkiosk refund: refund processing at the gateway; asking again…")
			wctx, cancel := context.WithTimeout(ctx, *wait)
			r, err = k.FollowRefund(wctx, r)
			cancel()
			if err != nil && ctx.Err() == nil && !errors.Is(err, context.DeadlineExceeded) {
				fmt.Fprintln(env.Stderr, "qrkiosk refund:", err)
			}
			printRefund(env, *asJSON, r, o)
			switch r.State {
			case journal.RefundDone:
				return 0
			case journal.RefundFailed:
				return ExitFailed
			}
			fmt.Fprintln(env.Stderr, "qrkiosk refund: refund processing: the gateway has not confirmed it yet; it is checked again at every start (qrkiosk history shows it). Do not refund again.")
			return ExitRefundProcessing
		case err != nil && r.OutTradeNo == "":
			fmt.Fprintln(env.Stderr, "qrkiosk refund:", err)
			return ExitFailed
		}
		printRefund(env, *asJSON, r, o)
		if err != nil {
			fmt.Fprintln(env.Stderr, "qrkiosk refund:", err)
			return ExitFailed
		}
		return 0
	})
}

// refundLine is `qrkiosk refund --json` output.
type refundLine struct {
	Event          string `json:"event"` // refunded | failed | processing
	OutTradeNo     string `json:"out_trade_no"`
	OrigOutTradeNo string `json:"orig_out_trade_no"`
	SysSN          string `json:"syssn,omitempty"`
	Amount         string `json:"amount"`
	TxAmt          int64  `json:"txamt"`
	Currency       string `json:"currency"`
	Respcd         string `json:"respcd,omitempty"`
	Reason         string `json:"reason,omitempty"`
}

func printRefund(env Env, asJSON bool, r journal.Refund, o journal.Order) {
	if asJSON {
		event := string(r.State)
		if r.State == journal.RefundPending {
			event = "processing"
		}
		b, _ := json.Marshal(refundLine{
			Event: event, OutTradeNo: r.OutTradeNo, OrigOutTradeNo: r.OrigOutTradeNo, SysSN: r.SysSN,
			Amount: r.Amount.String(), TxAmt: r.Amount.Minor, Currency: r.Amount.Currency.Code, Respcd: string(r.Code), Reason: r.Reason,
		})
		fmt.Fprintf(env.Stdout, "%s\n", b)
		return
	}
	switch r.State {
	case journal.RefundDone:
		fmt.Fprintf(env.Stdout, "REFUNDED  %s of order %s (%s)  refund %s  syssn %s\n", r.Amount.Display(), o.OutTradeNo, o.Amount.Display(), r.OutTradeNo, r.SysSN)
	case journal.RefundFailed:
		fmt.Fprintf(env.Stdout, "REFUND FAILED  %s of order %s: %s\n", r.Amount.Display(), o.OutTradeNo, r.Reason)
	default:
		fmt.Fprintf(env.Stdout, "REFUND PROCESSING  %s of order %s (refund %s): not confirmed by the gateway yet; checked again at every start\n", r.Amount.Display(), o.OutTradeNo, r.OutTradeNo)
	}
}
