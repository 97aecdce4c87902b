package settle

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"qrkiosk/payment"
)

// The summary adds up what the day's list shows: paid sales per pay type
// and currency (an expired, failed or never-sent order counts nowhere), and
// refunds on the day they are made.
func TestSummarizeOneDay(t *testing.T) {
	j, date, _ := reconcileFixture(t)
	s, err := Summarize(context.Background(), j, date, "")
	if err != nil {
		t.Fatal(err)
	}
	if s.From != date || s.To != date {
		t.Errorf("period %s – %s, want %s", s.From, s.To, date)
	}
	var got []string
	for _, l := range s.Lines {
		got = append(got, strings.Join([]string{l.PayType.Wallet, l.Currency.Code, payment.FormatMinor(l.Paid, l.Currency),
			payment.FormatMinor(l.Refunded, l.Currency), payment.FormatMinor(l.Net(), l.Currency)}, " ")+
			" "+string(rune('0'+l.Sales))+"/"+string(rune('0'+l.Refunds)))
	}
	// In pay-type code order, as journal.Day sorts its totals.
	want := []string{"wechat HKD 60.00 15.00 45.00 1/1", "alipayhk HKD 10.00 0.00 10.00 1/0"}
	if strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Errorf("lines\n %q\nwant\n %q", got, want)
	}
}

// A range adds its days; a bad range is refused naming the field.
func TestSummarizePeriod(t *testing.T) {
	j, date, _ := reconcileFixture(t)
	day, _ := time.Parse(payment.DayLayout, date)
	before := day.AddDate(0, 0, -3).Format(payment.DayLayout)
	after := day.AddDate(0, 0, 2).Format(payment.DayLayout)
	s, err := Summarize(context.Background(), j, before, after)
	if err != nil {
		t.Fatal(err)
	}
	if s.From != before || s.To != after || len(s.Lines) != 2 || s.Lines[0].Paid != 6000 {
		t.Errorf("summary %+v", s)
	}
	empty, err := Summarize(context.Background(), j, before, before)
	if err != nil || len(empty.Lines) != 0 {
		t.Errorf("a day without sales: %+v %v", empty, err)
	}
	for _, tc := range []struct{ from, to, field string }{
		{"2026-13-01", "", "from"},
		{date, "tomorrow", "to"},
		{after, before, "to"},
		{"2026-01-01", "2026-04-03", "to"}, // 93 days
	} {
		_, err := Summarize(context.Background(), j, tc.from, tc.to)
		var fe *payment.FieldError
		if !errors.As(err, &fe) || fe.Field != tc.field {
			t.Errorf("%s – %s: %v, want a problem with %s", tc.from, tc.to, err, tc.field)
		}
	}
	if days, err := Period(j, "2026-01-01", "2026-04-02"); err != nil || len(days) != MaxSummaryDays {
		t.Errorf("a quarter: %d days, %v", len(days), err)
	}
}

// listingGateway lists a fixed day and answers every query "not found".
type listingGateway struct {
	payment.Gateway
	txns []payment.Transaction
}

func (g listingGateway) ListTransactions(context.Context, time.Time, time.Time) ([]payment.Transaction, error) {
	return g.txns, nil
}

func (listingGateway) QueryOrder(context.Context, payment.OrderRef) (*payment.Transaction, error) {
	return nil, payment.ErrNotFound
}

func (listingGateway) QueryRefund(context.Context, payment.RefundRequest) (*payment.Transaction, error) {
	return nil, payment.ErrNotFound
}

// The check of a period counts each day's differences with the gateway,
// as reconcile lists them.
func TestCheckPeriod(t *testing.T) {
	j, date, gw := reconcileFixture(t)
	c, err := CheckPeriod(context.Background(), j, date, date, listingGateway{txns: gw})
	if err != nil || c.Differences != 0 || !c.Listed {
		t.Fatalf("agreeing day: %+v %v", c, err)
	}
	c, err = CheckPeriod(context.Background(), j, date, date, listingGateway{txns: remove(gw, "QK-PAID")})
	if err != nil || c.Differences != 1 {
		t.Fatalf("a payment missing at the gateway: %+v %v", c, err)
	}
	if _, err := CheckPeriod(context.Background(), j, date, date, nil); err == nil {
		t.Fatal("checked without a gateway")
	}
}
