package cli

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"qrkiosk/internal/journal"
	"qrkiosk/internal/kiosk"
	"qrkiosk/internal/settle"
	"qrkiosk/payment"
)

// summaryFlags are history's --summary and the flags that go with it.
type summaryFlags struct {
	on       bool
	from, to string
	print    bool
}

func (f *summaryFlags) add(fs *flag.FlagSet) {
	fs.BoolVar(&f.on, "summary", false, "the end-of-day summary: sales, refunds and net per wallet, checked against the gateway")
	fs.StringVar(&f.from, "from", "", "with --summary: the first day of a period, YYYY-MM-DD")
	fs.StringVar(&f.to, "to", "", "with --summary: the last day of a period, YYYY-MM-DD (default: --from)")
	fs.BoolVar(&f.print, "print", false, "with --summary: also print the summary slip on the receipt printer")
}

// check says what is wrong with the flags together ("" = nothing).
func (f *summaryFlags) check(date string, demo bool) string {
	switch {
	case !f.on && (f.from != "" || f.to != "" || f.print):
		return "--from, --to and --print go with --summary"
	case date != "" && (f.from != "" || f.to != ""):
		return "--date is one day; --from and --to a period: give one or the other"
	case f.to != "" && f.from == "":
		return "--to needs --from"
	case f.print && demo:
		return "--print prints on the kiosk's printer, which the demo's sales do not reach: run the demo and print from Today & refunds"
	}
	for name, d := range map[string]string{"--from": f.from, "--to": f.to} {
		if _, err := time.Parse(payment.DayLayout, d); d != "" && err != nil {
			return fmt.Sprintf("%s %q: must be a date as YYYY-MM-DD", name, d)
		}
	}
	return ""
}

// period is the first and last day asked for ("" = today).
func (f *summaryFlags) period(date string) (from, to string) {
	if f.from != "" {
		return f.from, f.to
	}
	return date, date
}

type outputFormat int

const (
	asText outputFormat = iota
	asJSON
	asCSV
)

func format(json, csv bool) outputFormat {
	switch {
	case json:
		return asJSON
	case csv:
		return asCSV
	}
	return asText
}

// SummaryLine is one wallet in `history --summary --json`.
type SummaryLine struct {
	PayType       string `json:"pay_type"`
	Wallet        string `json:"wallet"`
	Currency      string `json:"currency"`
	Sales         int    `json:"sales"`
	Paid          string `json:"paid"`
	PaidMinor     int64  `json:"paid_minor"`
	Refunds       int    `json:"refunds"`
	Refunded      string `json:"refunded"`
	RefundedMinor int64  `json:"refunded_minor"`
	Net           string `json:"net"`
	NetMinor      int64  `json:"net_minor"`
}

// SummaryCheck is how the period compares with the gateway.
type SummaryCheck struct {
	Checked     bool   `json:"checked"`
	Differences int    `json:"differences"`
	Unconfirmed int    `json:"unconfirmed"`
	Note        string `json:"note,omitempty"`
}

// SummaryPeriod is the whole `history --summary --json` answer: a line per
// wallet and currency, then the totals per currency.
type SummaryPeriod struct {
	From   string        `json:"from"`
	To     string        `json:"to"`
	Zone   string        `json:"zone"`
	Lines  []SummaryLine `json:"lines"`
	Totals []SummaryLine `json:"totals"`
	Check  SummaryCheck  `json:"check"`
}

// showSummary writes the summary of from–to; with a kiosk it is checked
// against the gateway (and printed, with print). Exit 1 when the journal
// and the gateway disagree, or the slip did not print.
func showSummary(ctx context.Context, env Env, j *journal.Journal, k *kiosk.Kiosk, from, to string, f outputFormat, print bool) int {
	if print && k == nil {
		// The journal was opened read-only, without the kiosk's settings.
		fmt.Fprintln(env.Stderr, "qrkiosk history: --print needs the kiosk's printer, and the journal here is read-only: run it as the kiosk's user")
		return ExitUsage
	}
	s, err := settle.Summarize(ctx, j, from, to)
	if err != nil {
		fmt.Fprintln(env.Stderr, "qrkiosk history:", err)
		return ExitUsage
	}
	out := summaryPeriod(j, s)
	switch {
	case k == nil || k.Gateway == nil:
		out.Check.Note = "not checked against the gateway: no gateway here"
	default:
		cctx, cancel := context.WithTimeout(ctx, kiosk.SummaryWait)
		c, err := settle.CheckPeriod(cctx, j, s.From, s.To, k.Gateway)
		cancel()
		if err != nil {
			out.Check.Note = "not checked against the gateway: " + err.Error()
		} else {
			out.Check = SummaryCheck{Checked: true, Differences: c.Differences, Unconfirmed: c.Unconfirmed, Note: checkNote(c, s)}
		}
	}
	switch f {
	case asJSON:
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(out)
	case asCSV:
		err = writeSummaryCSV(env.Stdout, out)
	default:
		err = writeSummaryText(env.Stdout, out)
	}
	if err != nil {
		fmt.Fprintln(env.Stderr, "qrkiosk history:", err)
		return ExitFailed
	}
	code := 0
	if out.Check.Differences > 0 {
		code = ExitFailed
	}
	if print {
		if err := k.Printer().PrintSummary(ctx, s.From, s.To); err != nil {
			fmt.Fprintln(env.Stderr, "qrkiosk history: the summary slip did not print:", err)
			return ExitFailed
		}
		fmt.Fprintln(env.Stderr, "qrkiosk history: summary slip printed on", k.Printer().Address())
	}
	return code
}

// checkNote says what the check found, for a person.
func checkNote(c settle.Check, s settle.Summary) string {
	note := "the journal and the gateway agree"
	if c.Differences > 0 {
		note = fmt.Sprintf("%d difference(s) between the journal and the gateway: qrkiosk reconcile --date DAY lists them", c.Differences)
	}
	if c.Unconfirmed > 0 {
		note += fmt.Sprintf("; %d record(s) the gateway cannot confirm (check the merchant portal)", c.Unconfirmed)
	}
	if !c.Listed {
		note += "; the gateway cannot list a day, so sales missing from this journal cannot show"
	}
	return note
}

func summaryPeriod(j *journal.Journal, s settle.Summary) SummaryPeriod {
	_, off := time.Now().In(j.Location()).Zone()
	out := SummaryPeriod{From: s.From, To: s.To, Zone: fmt.Sprintf("%+03d:%02d", off/3600, abs(off%3600/60)), Lines: []SummaryLine{}, Totals: []SummaryLine{}}
	line := func(pt payment.PayType, cur payment.Currency, sales, refunds int, paid, refunded int64) SummaryLine {
		return SummaryLine{PayType: pt.Code, Wallet: pt.Wallet, Currency: cur.Code, Sales: sales, Refunds: refunds,
			Paid: payment.FormatMinor(paid, cur), PaidMinor: paid, Refunded: payment.FormatMinor(refunded, cur), RefundedMinor: refunded,
			Net: payment.FormatMinor(paid-refunded, cur), NetMinor: paid - refunded}
	}
	totals := map[string]*settle.SummaryLine{}
	var order []string
	for _, l := range s.Lines {
		out.Lines = append(out.Lines, line(l.PayType, l.Currency, l.Sales, l.Refunds, l.Paid, l.Refunded))
		t := totals[l.Currency.Code]
		if t == nil {
			t = &settle.SummaryLine{Currency: l.Currency}
			totals[l.Currency.Code] = t
			order = append(order, l.Currency.Code)
		}
		t.Sales, t.Paid, t.Refunds, t.Refunded = t.Sales+l.Sales, t.Paid+l.Paid, t.Refunds+l.Refunds, t.Refunded+l.Refunded
	}
	for _, code := range order {
		t := totals[code]
		out.Totals = append(out.Totals, line(payment.PayType{}, t.Currency, t.Sales, t.Refunds, t.Paid, t.Refunded))
	}
	return out
}

func (p SummaryPeriod) period() string {
	if p.From == p.To {
		return p.From
	}
	return p.From + " – " + p.To
}

func writeSummaryText(w io.Writer, p SummaryPeriod) error {
	fmt.Fprintf(w, "Summary %s (UTC%s): sales rung up and refunds made in the period\n\n", p.period(), p.Zone)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "WALLET\tPAY TYPE\tCURRENCY\tSALES\tPAID\tREFUNDS\tREFUNDED\tNET\t")
	row := func(l SummaryLine, wallet, payType string) {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%d\t%s\t%s\t\n", wallet, payType, l.Currency, l.Sales, l.Paid, l.Refunds, l.Refunded, l.Net)
	}
	for _, l := range p.Lines {
		row(l, l.Wallet, l.PayType)
	}
	for _, t := range p.Totals {
		row(t, "TOTAL", "")
	}
	if len(p.Lines) == 0 {
		fmt.Fprintln(tw, "no sales\t\t\t\t\t\t\t\t")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\n%s\n", p.Check.Note)
	return err
}

func writeSummaryCSV(w io.Writer, p SummaryPeriod) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"record", "from", "to", "pay_type", "wallet", "currency", "sales", "paid", "refunds", "refunded", "net", "note"})
	row := func(record string, l SummaryLine) {
		cw.Write([]string{record, p.From, p.To, l.PayType, l.Wallet, l.Currency, strconv.Itoa(l.Sales), l.Paid, strconv.Itoa(l.Refunds), l.Refunded, l.Net, ""})
	}
	for _, l := range p.Lines {
		row("wallet", l)
	}
	for _, t := range p.Totals {
		row("total", t)
	}
	cw.Write([]string{"check", p.From, p.To, "", "", "", "", "", "", "", "", p.Check.Note})
	cw.Flush()
	return cw.Error()
}
