package cli

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"text/tabwriter"
	"time"

	"qrkiosk/internal/journal"
	"qrkiosk/internal/kiosk"
	"qrkiosk/payment"
)

// History runs `qrkiosk history [--date YYYY-MM-DD] [--json | --csv]`, and
// with --summary the end-of-day summary of a day or a period.
func History(ctx context.Context, env Env, args []string, dataDir string) int {
	fs := flag.NewFlagSet("history", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	date := fs.String("date", "", "the day, YYYY-MM-DD in the merchant's zone (UTC+8); default today")
	asJSON := fs.Bool("json", false, "print one JSON object")
	asCSV := fs.Bool("csv", false, "print CSV: orders, refunds, then totals (column record says which)")
	demo := fs.Bool("demo", false, "the sales made in demo mode (kept apart from real ones, in the data directory's demo/)")
	var sum summaryFlags
	sum.add(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitUsage
		}
		fmt.Fprintln(env.Stderr, "qrkiosk history:", err)
		return ExitUsage
	}
	if fs.NArg() > 0 || (*asJSON && *asCSV) {
		fmt.Fprintln(env.Stderr, "qrkiosk history: usage: qrkiosk history [--date YYYY-MM-DD] [--json | --csv] [--demo]\n"+
			"       qrkiosk history --summary [--date YYYY-MM-DD | --from YYYY-MM-DD --to YYYY-MM-DD] [--json | --csv] [--print]")
		return ExitUsage
	}
	if problem := sum.check(*date, *demo); problem != "" {
		fmt.Fprintln(env.Stderr, "qrkiosk history:", problem)
		return ExitUsage
	}
	if _, err := time.Parse(payment.DayLayout, *date); *date != "" && err != nil {
		fmt.Fprintf(env.Stderr, "qrkiosk history: --date %q: must be a date as YYYY-MM-DD\n", *date)
		return ExitUsage
	}
	show := func(ctx context.Context, j *journal.Journal, k *kiosk.Kiosk) int {
		if sum.on {
			from, to := sum.period(*date)
			return showSummary(ctx, env, j, k, from, to, format(*asJSON, *asCSV), sum.print)
		}
		day, err := j.Day(ctx, *date)
		if err != nil {
			fmt.Fprintln(env.Stderr, "qrkiosk history:", err)
			return ExitFailed
		}
		switch {
		case *asJSON:
			err = writeHistoryJSON(env.Stdout, j, day)
		case *asCSV:
			err = writeHistoryCSV(env.Stdout, j, day)
		default:
			err = writeHistoryText(env.Stdout, j, day)
		}
		if err != nil {
			fmt.Fprintln(env.Stderr, "qrkiosk history:", err)
			return ExitFailed
		}
		return 0
	}
	opts := kiosk.Options{DataDir: dataDir, Getenv: env.Getenv, Logger: env.Logger()}
	if *demo {
		return demoHistory(env, opts, show)
	}
	s, err := kiosk.LoadSettings(opts)
	if err != nil {
		return openFailed(env, "qrkiosk history", err)
	}
	if !writable(s.DataDir) {
		// A journal on read-only media (or another user's): read it as it is.
		j, err := journal.OpenReadOnly(journal.Options{Dir: s.DataDir})
		if err != nil {
			fmt.Fprintln(env.Stderr, "qrkiosk history:", err)
			return ExitIOErr
		}
		defer j.Close()
		fmt.Fprintf(env.Stderr, "qrkiosk history: %s is read-only: showing the journal as it is, nothing is checked with the gateway\n", s.DataDir)
		return show(ctx, j, nil)
	}
	return withSettings(ctx, env, "history", opts, s, false, func(ctx context.Context, k *kiosk.Kiosk) int {
		if k.Gateway == nil {
			if _, err := os.Stat(filepath.Join(k.DataDir, "demo", journal.FileName)); err == nil {
				fmt.Fprintln(env.Stderr, "qrkiosk history: the demo's sales are apart: qrkiosk history --demo")
			}
		}
		return show(ctx, k.Journal, k)
	})
}

// demoHistory shows the demo's journal. Nothing is checked with a gateway:
// the demo's simulator lives only while the kiosk runs.
func demoHistory(env Env, opts kiosk.Options, show func(context.Context, *journal.Journal, *kiosk.Kiosk) int) int {
	opts.ForceDemo = true
	s, err := kiosk.LoadSettings(opts)
	if err != nil {
		fmt.Fprintf(env.Stderr, "qrkiosk history: the configuration is not valid (qrkiosk config check says more):\n%v\n", err)
		return ExitUsage
	}
	if _, err := os.Stat(filepath.Join(s.DataDir, journal.FileName)); err != nil {
		fmt.Fprintf(env.Stderr, "qrkiosk history: no demo sales in %s (the demo keeps them there)\n", s.DataDir)
		return ExitFailed
	}
	j, err := journal.Open(journal.Options{Dir: s.DataDir, Logger: env.Logger()})
	var locked *journal.LockedError
	switch {
	case errors.As(err, &locked):
		fmt.Fprintf(env.Stderr, "qrkiosk history: %v\n", err)
		return ExitFailed
	case err != nil:
		fmt.Fprintf(env.Stderr, "qrkiosk history: the demo's journal cannot be used: %v\n", err)
		return ExitIOErr
	}
	defer j.Close()
	fmt.Fprintf(env.Stderr, "qrkiosk history: the demo's sales (simulated, no real money), %s\n", s.DataDir)
	return show(context.Background(), j, nil)
}

// writable says whether this process may create files in dir (a missing
// directory is, for Open creates it).
func writable(dir string) bool {
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return true
	}
	return syscall.Access(dir, 2 /* W_OK */) == nil
}

// HistoryOrder is one order in `history --json`. Amounts are given both as
// exact decimals and as integers of minor units.
type HistoryOrder struct {
	OutTradeNo    string `json:"out_trade_no"`
	SysSN         string `json:"syssn,omitempty"`
	TxDtm         string `json:"txdtm"`
	PayType       string `json:"pay_type"`
	Wallet        string `json:"wallet"`
	Currency      string `json:"currency"`
	Amount        string `json:"amount"`
	TxAmt         int64  `json:"txamt"`
	State         string `json:"state"`
	Respcd        string `json:"respcd,omitempty"`
	Reason        string `json:"reason,omitempty"`
	Refunded      string `json:"refunded"`
	RefundedMinor int64  `json:"refunded_minor"`
	Late          bool   `json:"late,omitempty"`
	PaidOffline   bool   `json:"paid_offline,omitempty"`
	GoodsName     string `json:"goods_name,omitempty"`
	// ReplacedBy: this order's QR was lost and it was withdrawn; the sale
	// went on as that order. Replaces: the reverse.
	ReplacedBy string `json:"replaced_by,omitempty"`
	Replaces   string `json:"replaces,omitempty"`
}

// HistoryRefund is one refund in `history --json`.
type HistoryRefund struct {
	OutTradeNo     string `json:"out_trade_no"`
	OrigOutTradeNo string `json:"orig_out_trade_no"`
	SysSN          string `json:"syssn,omitempty"`
	TxDtm          string `json:"txdtm"`
	PayType        string `json:"pay_type"`
	Currency       string `json:"currency"`
	Amount         string `json:"amount"`
	TxAmt          int64  `json:"txamt"`
	State          string `json:"state"`
	Reason         string `json:"reason,omitempty"`
}

// HistoryTotal is one pay type and currency in `history --json`.
type HistoryTotal struct {
	PayType       string `json:"pay_type"`
	Wallet        string `json:"wallet"`
	Currency      string `json:"currency"`
	Count         int    `json:"count"`
	Paid          string `json:"paid"`
	PaidMinor     int64  `json:"paid_minor"`
	Refunded      string `json:"refunded"`
	RefundedMinor int64  `json:"refunded_minor"`
	Net           string `json:"net"`
	NetMinor      int64  `json:"net_minor"`
}

// HistoryDay is the whole `history --json` answer.
type HistoryDay struct {
	Date    string          `json:"date"`
	Zone    string          `json:"zone"`
	Orders  []HistoryOrder  `json:"orders"`
	Refunds []HistoryRefund `json:"refunds"`
	Totals  []HistoryTotal  `json:"totals"`
}

func historyDay(j *journal.Journal, d journal.Day) HistoryDay {
	loc := j.Location()
	_, off := time.Now().In(loc).Zone()
	out := HistoryDay{Date: d.Date, Zone: fmt.Sprintf("%+03d:%02d", off/3600, abs(off%3600/60)), Orders: []HistoryOrder{}, Refunds: []HistoryRefund{}, Totals: []HistoryTotal{}}
	for _, o := range d.Orders {
		cur := o.Amount.Currency
		out.Orders = append(out.Orders, HistoryOrder{
			OutTradeNo: o.OutTradeNo, SysSN: o.SysSN, TxDtm: o.TxTime.In(loc).Format(payment.LocalTimeLayout), PayType: o.PayType.Code,
			Wallet: o.PayType.Wallet, Currency: cur.Code, Amount: o.Amount.String(), TxAmt: o.Amount.Minor,
			State: o.State.String(), Respcd: string(o.Code), Reason: o.Reason, Refunded: payment.FormatMinor(o.Refunded, cur),
			RefundedMinor: o.Refunded, Late: o.Late, PaidOffline: o.PaidOffline, GoodsName: o.GoodsName,
			ReplacedBy: o.ReplacedBy, Replaces: o.Replaces,
		})
	}
	for _, r := range d.Refunds {
		out.Refunds = append(out.Refunds, HistoryRefund{
			OutTradeNo: r.OutTradeNo, OrigOutTradeNo: r.OrigOutTradeNo, SysSN: r.SysSN, TxDtm: r.TxTime.In(loc).Format(payment.LocalTimeLayout),
			PayType: r.PayType.Code, Currency: r.Amount.Currency.Code, Amount: r.Amount.String(), TxAmt: r.Amount.Minor,
			State: string(r.State), Reason: r.Reason,
		})
	}
	for _, t := range d.Totals {
		out.Totals = append(out.Totals, HistoryTotal{
			PayType: t.PayType.Code, Wallet: t.PayType.Wallet, Currency: t.Currency.Code, Count: t.Count,
			Paid: payment.FormatMinor(t.Paid, t.Currency), PaidMinor: t.Paid,
			Refunded: payment.FormatMinor(t.Refunded, t.Currency), RefundedMinor: t.Refunded,
			Net: payment.FormatMinor(t.Net, t.Currency), NetMinor: t.Net,
		})
	}
	return out
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

func writeHistoryJSON(w io.Writer, j *journal.Journal, d journal.Day) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(historyDay(j, d))
}

func writeHistoryCSV(w io.Writer, j *journal.Journal, d journal.Day) error {
	h := historyDay(j, d)
	cw := csv.NewWriter(w)
	cw.Write([]string{"record", "date", "time", "out_trade_no", "syssn", "pay_type", "wallet", "currency", "count", "amount", "state", "refunded", "net", "orig_out_trade_no", "note"})
	for _, o := range h.Orders {
		date, tm := splitDtm(o.TxDtm)
		cw.Write([]string{"order", date, tm, o.OutTradeNo, o.SysSN, o.PayType, o.Wallet, o.Currency, "", o.Amount, o.State, o.Refunded, "", "", orderNote(o)})
	}
	for _, r := range h.Refunds {
		date, tm := splitDtm(r.TxDtm)
		cw.Write([]string{"refund", date, tm, r.OutTradeNo, r.SysSN, r.PayType, "", r.Currency, "", r.Amount, r.State, "", "", r.OrigOutTradeNo, r.Reason})
	}
	for _, t := range h.Totals {
		cw.Write([]string{"total", h.Date, "", "", "", t.PayType, t.Wallet, t.Currency, fmt.Sprint(t.Count), t.Paid, "", t.Refunded, t.Net, "", ""})
	}
	cw.Flush()
	return cw.Error()
}

func splitDtm(s string) (string, string) {
	if len(s) == len(payment.LocalTimeLayout) {
		return s[:10], s[11:]
	}
	return s, ""
}

func orderNote(o HistoryOrder) string {
	switch {
	case o.ReplacedBy != "":
		return "QR lost in a network error: withdrawn, the sale went on as " + o.ReplacedBy
	case o.PaidOffline:
		return "paid while the kiosk was offline"
	case o.Late:
		return "paid late, after the kiosk stopped offering it"
	case o.Reason != "":
		return o.Reason
	}
	return ""
}

func writeHistoryText(w io.Writer, j *journal.Journal, d journal.Day) error {
	h := historyDay(j, d)
	fmt.Fprintf(w, "%s (UTC%s): %d order(s), %d refund(s)\n\n", h.Date, h.Zone, len(h.Orders), len(h.Refunds))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if len(h.Orders) > 0 {
		fmt.Fprintln(tw, "TIME\tORDER\tWALLET\tAMOUNT\tSTATE\tREFUNDED\tNOTE")
		for _, o := range h.Orders {
			_, tm := splitDtm(o.TxDtm)
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s %s\t%s\t%s\t%s\n", tm, o.OutTradeNo, o.Wallet, o.Currency, o.Amount, o.State, o.Refunded, orderNote(o))
		}
	}
	if len(h.Refunds) > 0 {
		fmt.Fprintln(tw, "\nTIME\tREFUND\tOF ORDER\tAMOUNT\tSTATE\t\tNOTE")
		for _, r := range h.Refunds {
			_, tm := splitDtm(r.TxDtm)
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s %s\t%s\t\t%s\n", tm, r.OutTradeNo, r.OrigOutTradeNo, r.Currency, r.Amount, r.State, r.Reason)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nTotals (paid minus refunded):")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "WALLET\tPAY TYPE\tCURRENCY\tCOUNT\tPAID\tREFUNDED\tNET")
	for _, t := range h.Totals {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\n", t.Wallet, t.PayType, t.Currency, t.Count, t.Paid, t.Refunded, t.Net)
	}
	return tw.Flush()
}
