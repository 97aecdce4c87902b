package settle

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"qrkiosk/internal/journal"
	"qrkiosk/payment"
)

// MaxSummaryDays bounds the period of one summary: a quarter, so that the
// check against the gateway (a listing per day) stays a few dozen calls.
const MaxSummaryDays = 92

// Summary is a period's business from the journal (the end-of-day slip,
// `qrkiosk history --summary`): per pay type and currency, the paid sales
// rung up in the period and the refunds made in it, as journal.Day counts
// them day by day.
type Summary struct {
	From, To string // YYYY-MM-DD in the merchant zone; equal for one day
	Lines    []SummaryLine
}

// SummaryLine is one pay type in one currency over the period, in minor
// units.
type SummaryLine struct {
	PayType  payment.PayType
	Currency payment.Currency
	Sales    int   // paid sales
	Paid     int64 // their sum
	Refunds  int   // refunds made (confirmed by the gateway)
	Refunded int64 // their sum
}

// Net is what the pay type brought in: paid minus refunded.
func (l SummaryLine) Net() int64 { return l.Paid - l.Refunded }

// Period checks a period: from and to as YYYY-MM-DD ("" is today), to not
// before from, at most MaxSummaryDays. It returns the days in order.
func Period(j *journal.Journal, from, to string) ([]string, error) {
	f, err := j.ParseDate(from)
	if err != nil {
		return nil, &payment.FieldError{Field: "from", Value: from, Rule: "must be a date as YYYY-MM-DD"}
	}
	if to == "" {
		to = f
	}
	t, err := j.ParseDate(to)
	if err != nil {
		return nil, &payment.FieldError{Field: "to", Value: to, Rule: "must be a date as YYYY-MM-DD"}
	}
	first, _ := time.Parse(payment.DayLayout, f)
	last, _ := time.Parse(payment.DayLayout, t)
	if last.Before(first) {
		return nil, &payment.FieldError{Field: "to", Value: to, Rule: "must not be before " + f}
	}
	var days []string
	for d := first; !d.After(last); d = d.AddDate(0, 0, 1) {
		if len(days) == MaxSummaryDays {
			return nil, &payment.FieldError{Field: "to", Value: to, Rule: "the period is at most " + strconv.Itoa(MaxSummaryDays) + " days"}
		}
		days = append(days, d.Format(payment.DayLayout))
	}
	return days, nil
}

// Summarize adds up the journal's days from from to to (see Period).
func Summarize(ctx context.Context, j *journal.Journal, from, to string) (Summary, error) {
	days, err := Period(j, from, to)
	if err != nil {
		return Summary{}, err
	}
	s := Summary{From: days[0], To: days[len(days)-1]}
	type key struct{ payType, currency string }
	lines := map[key]*SummaryLine{}
	line := func(pt payment.PayType, cur payment.Currency) *SummaryLine {
		k := key{pt.Code, cur.Code}
		if lines[k] == nil {
			lines[k] = &SummaryLine{PayType: pt, Currency: cur}
		}
		return lines[k]
	}
	for _, date := range days {
		day, err := j.Day(ctx, date)
		if err != nil {
			return Summary{}, err
		}
		for _, o := range day.Orders {
			if o.State == payment.StatePaid {
				l := line(o.PayType, o.Amount.Currency)
				l.Sales++
				l.Paid += o.Amount.Minor
			}
		}
		for _, r := range day.Refunds {
			if r.State == journal.RefundDone {
				l := line(r.PayType, r.Amount.Currency)
				l.Refunds++
				l.Refunded += r.Amount.Minor
			}
		}
	}
	for _, l := range lines {
		s.Lines = append(s.Lines, *l)
	}
	sort.Slice(s.Lines, func(a, b int) bool {
		x, y := s.Lines[a], s.Lines[b]
		if x.Currency.Code != y.Currency.Code {
			return x.Currency.Code < y.Currency.Code
		}
		return x.PayType.Code < y.PayType.Code
	})
	return s, nil
}

// Check is how a period of the journal compares with the gateway.
type Check struct {
	// Differences are the records the journal and the gateway disagree
	// on; Unconfirmed those the gateway could say nothing about.
	Differences, Unconfirmed int
	// Listed: the gateway listed every day (else each journal record was
	// asked for by name, and sales missing from this journal cannot show).
	Listed bool
}

// DayCheck is one day of the journal compared with the gateway.
type DayCheck struct {
	Differences []Difference
	// Listed: the gateway listed the day's Transactions; else each
	// journal record was asked for by name.
	Listed       bool
	Transactions int
}

// ReconcileDay compares one day of the journal with the gateway: with its
// list of the day's transactions when it can give one, else by asking for
// each journal record by name.
func ReconcileDay(ctx context.Context, j *journal.Journal, date string, g payment.Gateway) (DayCheck, error) {
	start, end, err := j.DayBounds(date)
	if err != nil {
		return DayCheck{}, err
	}
	var c DayCheck
	var txns []payment.Transaction
	lister, listed := g.(payment.DayLister)
	c.Listed = listed
	if listed {
		if txns, err = lister.ListTransactions(ctx, start, end); err != nil {
			return c, fmt.Errorf("asking the gateway: %w", err)
		}
	}
	c.Transactions = len(txns)
	c.Differences, err = Reconcile(ctx, j, date, txns, g)
	return c, err
}

// CheckPeriod reconciles each day of the period (see Period) with the
// gateway and counts what differs.
func CheckPeriod(ctx context.Context, j *journal.Journal, from, to string, g payment.Gateway) (Check, error) {
	if g == nil {
		return Check{}, errors.New("no gateway to check against")
	}
	days, err := Period(j, from, to)
	if err != nil {
		return Check{}, err
	}
	c := Check{Listed: true}
	for _, date := range days {
		day, err := ReconcileDay(ctx, j, date, g)
		if err != nil {
			return Check{}, err
		}
		c.Listed = c.Listed && day.Listed
		for _, d := range day.Differences {
			if d.Disagrees() {
				c.Differences++
			} else {
				c.Unconfirmed++
			}
		}
	}
	return c, nil
}
