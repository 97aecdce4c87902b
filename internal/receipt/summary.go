package receipt

import (
	"fmt"
	"image"
	"strconv"
	"time"

	"qrkiosk/payment"
)

// Summary is the end-of-day slip (or a range of days) for the shop: what
// each wallet took, what was refunded, the net, and whether the journal
// matched the gateway.
type Summary struct {
	Merchant string
	// FirstDay and LastDay (YYYY-MM-DD, the shop's zone) bound the period;
	// LastDay "" is one day.
	FirstDay, LastDay string
	Printed           time.Time
	Lines             []SummaryLine
	Check             Check
}

// SummaryLine is one wallet's business in one currency over the period;
// a refund counts in the period it was made, as the gateway settles it.
type SummaryLine struct {
	Wallet   payment.Names
	Currency payment.Currency
	Sales    int   // paid sales
	Paid     int64 // their sum, minor units
	Refunds  int   // refunds made
	Refunded int64 // their sum, minor units
}

// Check is the result of comparing the period with the gateway's records.
type Check struct {
	Done        bool // the comparison ran
	Differences int  // records the journal and the gateway disagree on
	Unconfirmed int  // records the gateway could say nothing about
	// Reason says why the comparison did not run ("gateway unreachable").
	Reason string
}

func (s Summary) check() error {
	bad := func(field, value, rule string) error {
		return &payment.FieldError{Field: field, Value: value, Rule: rule}
	}
	first, err := time.Parse(payment.DayLayout, s.FirstDay)
	if err != nil {
		return bad("first_day", s.FirstDay, "must be a date as YYYY-MM-DD")
	}
	if s.LastDay != "" {
		last, err := time.Parse(payment.DayLayout, s.LastDay)
		if err != nil || last.Before(first) {
			return bad("last_day", s.LastDay, "must be a date as YYYY-MM-DD, not before first_day")
		}
	}
	if s.Printed.IsZero() {
		return bad("printed", "", "is required")
	}
	for i, l := range s.Lines {
		field := "lines[" + strconv.Itoa(i) + "]"
		switch {
		case l.Currency.Code == "":
			return bad(field+".currency", "", "is required")
		case l.Sales < 0 || l.Paid < 0 || l.Refunds < 0 || l.Refunded < 0:
			return bad(field, l.Wallet.En, "counts and sums must not be negative")
		case l.Paid > 1000*payment.MaxMinor || l.Refunded > 1000*payment.MaxMinor:
			return bad(field, l.Wallet.En, "sums must be at most a thousand times the gateway's largest amount")
		}
	}
	if s.Check.Differences < 0 || s.Check.Unconfirmed < 0 {
		return bad("check", "", "counts must not be negative")
	}
	return checkLengths([][2]string{{"merchant", s.Merchant}, {"check.reason", s.Check.Reason}})
}

// RenderSummary draws the end-of-day summary slip.
func RenderSummary(s Summary, o Options) (*image.Paletted, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	if err := s.check(); err != nil {
		return nil, err
	}
	p := newPage(o.Width)
	st := p.st
	p.header(s.Merchant, o.Logo)
	small, body, bold := p.face(st.small, false), p.face(st.body, false), p.face(st.body, true)
	p.text(body, staff(lblSummary), center)
	p.rule()
	period := s.FirstDay
	if s.LastDay != "" && s.LastDay != s.FirstDay {
		period += " – " + s.LastDay
	}
	p.field(staff(lblPeriod), one(period))
	p.field(staff(lblPrinted), one(o.local(s.Printed).Format(timeLayout)))
	p.rule()

	if len(s.Lines) == 0 {
		p.text(body, staff(lblNoSales), center)
		p.rule()
	}
	for _, cur := range currencies(s.Lines) {
		var suffix []string // the currency, when there are several
		if len(currencies(s.Lines)) > 1 {
			suffix = one("(" + cur.Code + ")")
		}
		var sales, refunds []row
		var paid, refunded int64
		var nSales, nRefunds int
		for _, l := range s.Lines {
			if l.Currency.Code != cur.Code {
				continue
			}
			paid, refunded, nSales, nRefunds = paid+l.Paid, refunded+l.Refunded, nSales+l.Sales, nRefunds+l.Refunds
			sales = append(sales, row{staff(l.Wallet), l.Sales, payment.DisplayMinor(l.Paid, cur)})
			if l.Refunds > 0 {
				refunds = append(refunds, row{staff(l.Wallet), l.Refunds, payment.DisplayMinor(-l.Refunded, cur)})
			}
		}
		p.text(bold, append(staff(lblSales), suffix...), left)
		p.table(append(sales, row{staff(lblTotal), nSales, payment.DisplayMinor(paid, cur)}))
		p.gap(st.gap)
		p.text(bold, append(staff(lblRefunds), suffix...), left)
		p.table(append(refunds, row{staff(lblTotal), nRefunds, payment.DisplayMinor(-refunded, cur)}))
		p.rule()
		net := payment.DisplayMinor(paid-refunded, cur)
		p.fieldIn(p.fit(st.title, net), append(staff(lblNet), suffix...), one(net))
		p.rule()
	}

	c := s.Check
	switch {
	case !c.Done:
		p.text(body, staff(lblNotChecked), left)
		if c.Reason != "" {
			p.text(small, one(c.Reason), left)
		}
	case c.Differences > 0:
		p.banner(bold, []string{"✘ " + fmt.Sprintf(lblDiffers.En, c.Differences), fmt.Sprintf(lblDiffers.ZhHant, c.Differences)})
	default:
		p.text(bold, []string{"✓ " + lblChecked.En, lblChecked.ZhHant}, left)
	}
	if c.Done && c.Unconfirmed > 0 {
		p.text(body, []string{fmt.Sprintf(lblUnconfirmed.En, c.Unconfirmed), fmt.Sprintf(lblUnconfirmed.ZhHant, c.Unconfirmed)}, left)
	}
	return p.render()
}

// currencies lists the lines' currencies in the order they first appear.
func currencies(lines []SummaryLine) []payment.Currency {
	var out []payment.Currency
	seen := map[string]bool{}
	for _, l := range lines {
		if !seen[l.Currency.Code] {
			seen[l.Currency.Code] = true
			out = append(out, l.Currency)
		}
	}
	return out
}
