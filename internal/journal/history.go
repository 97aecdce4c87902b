package journal

import (
	"context"
	"fmt"
	"sort"
	"time"

	"qrkiosk/payment"
)

// Day is one day's business: the orders rung up that day, the refunds made
// that day, and totals per pay type and currency.
type Day struct {
	Date    string // YYYY-MM-DD in the merchant zone
	Orders  []Order
	Refunds []Refund
	Totals  []Total
}

// Total sums one pay type in one currency, in minor units. A refund counts
// on the day it is made, as the gateway's settlement does.
type Total struct {
	PayType  payment.PayType
	Currency payment.Currency
	Count    int   // paid orders
	Paid     int64 // sum of paid orders
	Refunded int64 // sum of refunds made that day
	Net      int64 // Paid - Refunded
}

// ParseDate checks a YYYY-MM-DD date; empty means today in the merchant zone.
func (j *Journal) ParseDate(s string) (string, error) {
	if s == "" {
		return j.now().In(j.loc).Format(payment.DayLayout), nil
	}
	t, err := time.ParseInLocation(payment.DayLayout, s, j.loc)
	if err != nil {
		return "", &payment.FieldError{Field: "date", Value: s, Rule: "must be a date as YYYY-MM-DD"}
	}
	return t.Format(payment.DayLayout), nil
}

// DayBounds is the first and last second of a date in the merchant zone.
func (j *Journal) DayBounds(date string) (start, end time.Time, err error) {
	d, err := j.ParseDate(date)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	start, _ = time.ParseInLocation(payment.DayLayout, d, j.loc)
	return start, start.AddDate(0, 0, 1).Add(-time.Second), nil
}

// Today is the current day in the merchant zone.
func (j *Journal) Today(ctx context.Context) (Day, error) { return j.Day(ctx, "") }

// Day returns a day's orders (oldest first), refunds and totals.
func (j *Journal) Day(ctx context.Context, date string) (Day, error) {
	d, err := j.ParseDate(date)
	if err != nil {
		return Day{}, err
	}
	day := Day{Date: d}
	if day.Orders, err = j.orders(ctx, "o.day = ?", d); err != nil {
		return Day{}, err
	}
	if day.Refunds, err = j.refunds(ctx, "r.day = ?", d); err != nil {
		return Day{}, err
	}
	type key struct{ payType, currency string }
	totals := map[key]*Total{}
	get := func(pt payment.PayType, cur payment.Currency) *Total {
		k := key{pt.Code, cur.Code}
		if totals[k] == nil {
			totals[k] = &Total{PayType: pt, Currency: cur}
		}
		return totals[k]
	}
	for _, o := range day.Orders {
		if o.State == payment.StatePaid {
			t := get(o.PayType, o.Amount.Currency)
			t.Count++
			t.Paid += o.Amount.Minor
		}
	}
	for _, r := range day.Refunds {
		if r.State == RefundDone {
			get(r.PayType, r.Amount.Currency).Refunded += r.Amount.Minor
		}
	}
	for _, t := range totals {
		t.Net = t.Paid - t.Refunded
		day.Totals = append(day.Totals, *t)
	}
	sort.Slice(day.Totals, func(a, b int) bool {
		x, y := day.Totals[a], day.Totals[b]
		if x.Currency.Code != y.Currency.Code {
			return x.Currency.Code < y.Currency.Code
		}
		return x.PayType.Code < y.PayType.Code
	})
	return day, nil
}

// String is a one-line summary for logs.
func (t Total) String() string {
	return fmt.Sprintf("%s %s: %d paid %s, refunded %s, net %s", t.PayType.Name.En, t.Currency.Code, t.Count,
		payment.FormatMinor(t.Paid, t.Currency), payment.FormatMinor(t.Refunded, t.Currency), payment.FormatMinor(t.Net, t.Currency))
}
