package journal

import (
	"context"
	"fmt"
	"sort"

	"qrkiosk/payment"
)

// DiffKind names a difference between the journal and the gateway.
type DiffKind string

const (
	DiffMissingAtGateway DiffKind = "missing_at_gateway" // journal has it, the gateway does not
	DiffMissingInJournal DiffKind = "missing_in_journal" // the gateway has it, the journal does not
	DiffState            DiffKind = "state_differs"
	DiffAmount           DiffKind = "amount_differs"
)

// Difference is one disagreement, described for a person on both sides.
type Difference struct {
	Kind       DiffKind
	Record     string // "payment" or "refund"
	OutTradeNo string
	SysSN      string
	Journal    string // what the journal says ("" when missing)
	Gateway    string // what the gateway says ("" when missing)
}

func (d Difference) String() string {
	return fmt.Sprintf("%s %s %s (syssn %s): journal: %s; gateway: %s", d.Kind, d.Record, d.OutTradeNo, d.SysSN, orNone(d.Journal), orNone(d.Gateway))
}

func orNone(s string) string {
	if s == "" {
		return "nothing"
	}
	return s
}

// Reconcile compares a day of the journal with the gateway's transactions
// for the same day (payments and refunds, as a query lists them) and
// returns every difference, sorted by out_trade_no. The gateway lists the
// whole merchant: another kiosk's sales on the same account appear as
// missing in this journal.
func (j *Journal) Reconcile(ctx context.Context, date string, gateway []payment.Transaction) ([]Difference, error) {
	day, err := j.Day(ctx, date)
	if err != nil {
		return nil, err
	}
	payments := map[string]payment.Transaction{}
	refunds := map[string]payment.Transaction{}
	for _, t := range gateway {
		if t.Kind == "refund" {
			refunds[t.OutTradeNo] = t
		} else {
			payments[t.OutTradeNo] = t
		}
	}
	var diffs []Difference
	for _, o := range day.Orders {
		t, ok := payments[o.OutTradeNo]
		delete(payments, o.OutTradeNo)
		js := fmt.Sprintf("%s %s %s", o.State, o.Amount.String(), o.Amount.Currency.Code)
		switch {
		case !ok && o.SysSN == "" && o.State.Final() && o.State != payment.StatePaid:
			// Never reached the gateway (refused, or not found there).
		case !ok:
			diffs = append(diffs, Difference{Kind: DiffMissingAtGateway, Record: "payment", OutTradeNo: o.OutTradeNo, SysSN: o.SysSN, Journal: js})
		case t.TxAmt != o.Amount.Minor || (t.Currency != "" && t.Currency != o.Amount.Currency.Code):
			diffs = append(diffs, Difference{Kind: DiffAmount, Record: "payment", OutTradeNo: o.OutTradeNo, SysSN: t.SysSN, Journal: js, Gateway: describe(t)})
		case !consistent(o.State, t.Outcome(), o.PayType):
			diffs = append(diffs, Difference{Kind: DiffState, Record: "payment", OutTradeNo: o.OutTradeNo, SysSN: t.SysSN, Journal: js, Gateway: describe(t)})
		}
	}
	for _, t := range payments {
		diffs = append(diffs, Difference{Kind: DiffMissingInJournal, Record: "payment", OutTradeNo: t.OutTradeNo, SysSN: t.SysSN, Gateway: describe(t)})
	}
	for _, r := range day.Refunds {
		t, ok := refunds[r.OutTradeNo]
		delete(refunds, r.OutTradeNo)
		js := fmt.Sprintf("refund %s %s %s of %s", r.State, r.Amount.String(), r.Amount.Currency.Code, r.OrigOutTradeNo)
		switch {
		case !ok && r.State == RefundFailed:
		case !ok:
			diffs = append(diffs, Difference{Kind: DiffMissingAtGateway, Record: "refund", OutTradeNo: r.OutTradeNo, SysSN: r.SysSN, Journal: js})
		case t.TxAmt != r.Amount.Minor || (t.Currency != "" && t.Currency != r.Amount.Currency.Code):
			diffs = append(diffs, Difference{Kind: DiffAmount, Record: "refund", OutTradeNo: r.OutTradeNo, SysSN: t.SysSN, Journal: js, Gateway: describe(t)})
		case (t.Code == payment.CodeSuccess) != (r.State == RefundDone):
			diffs = append(diffs, Difference{Kind: DiffState, Record: "refund", OutTradeNo: r.OutTradeNo, SysSN: t.SysSN, Journal: js, Gateway: describe(t)})
		}
	}
	for _, t := range refunds {
		diffs = append(diffs, Difference{Kind: DiffMissingInJournal, Record: "refund", OutTradeNo: t.OutTradeNo, SysSN: t.SysSN, Gateway: describe(t)})
	}
	sort.Slice(diffs, func(a, b int) bool {
		if diffs[a].OutTradeNo != diffs[b].OutTradeNo {
			return diffs[a].OutTradeNo < diffs[b].OutTradeNo
		}
		return diffs[a].Kind < diffs[b].Kind
	})
	return diffs, nil
}

func describe(t payment.Transaction) string {
	s := fmt.Sprintf("%s %d minor units %s, respcd %s", t.Outcome(), t.TxAmt, t.Currency, t.Code)
	if cur, err := payment.LookupCurrency(t.Currency); err == nil {
		s = fmt.Sprintf("%s %s %s, respcd %s", t.Outcome(), FormatMinor(t.TxAmt, cur), cur.Code, t.Code)
	}
	if t.Kind == "refund" {
		s = "refund " + s + " of syssn " + t.OrigSysSN
	}
	return s
}

// consistent says whether the journal's state agrees with the gateway's
// outcome. An unpaid order the kiosk ended may be closed, expired or (for a
// wallet without cancel) still pending at the gateway.
func consistent(st payment.State, out payment.Outcome, pt payment.PayType) bool {
	switch out {
	case payment.OutcomePaid:
		return st == payment.StatePaid
	case payment.OutcomePending:
		return !st.Final() || ((st == payment.StateExpired || st == payment.StateCancelled) && pt.Cancel == payment.CancelNone)
	case payment.OutcomeFailed:
		return st == payment.StateFailed
	default: // closed, expired
		return st == payment.StateExpired || st == payment.StateCancelled || st == payment.StateFailed
	}
}
