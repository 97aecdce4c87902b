package settle

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"qrkiosk/internal/journal"
	"qrkiosk/payment"
)

// DiffKind names a difference between the journal and the gateway.
type DiffKind string

const (
	DiffMissingAtGateway DiffKind = "missing_at_gateway" // journal has it, the gateway does not
	DiffMissingInJournal DiffKind = "missing_in_journal" // the gateway has it, the journal does not
	DiffState            DiffKind = "state_differs"
	DiffAmount           DiffKind = "amount_differs"
	// DiffUnconfirmed: the gateway cannot say (a partial refund where the
	// gateway has no refund query): check it in the merchant portal.
	DiffUnconfirmed DiffKind = "unconfirmed"
)

// Disagrees reports whether the difference is a disagreement (the journal
// and the gateway say different things), not merely unconfirmed.
func (d Difference) Disagrees() bool { return d.Kind != DiffUnconfirmed }

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

// Lookup asks the gateway about one journal record by name (a
// payment.Gateway has both methods); payment.ErrNotFound when it has none.
type Lookup interface {
	QueryOrder(ctx context.Context, ref payment.OrderRef) (*payment.Transaction, error)
	QueryRefund(ctx context.Context, req payment.RefundRequest) (*payment.Transaction, error)
}

// Reconcile compares a day of the journal with the gateway's transactions
// for the same day (payments and refunds, as a query lists them) and
// returns every difference, sorted by out_trade_no. The gateway lists the
// whole merchant: another kiosk's sales on the same account appear as
// missing in this journal.
//
// A sale rung up a moment before midnight is on one day in the journal
// (its txdtm) and may be on the next at the gateway (its own time), so
// nothing is called missing on the strength of the day lists alone: a
// journal record not in the gateway's list is asked for by name with
// lookup (when not nil), and a gateway record not among the day's is
// looked for in the whole journal. A gateway that cannot list a day passes
// no list: every journal record is then asked for by name. A record the
// gateway cannot confirm either way is a DiffUnconfirmed. Orders sent to
// another gateway than the journal's are not compared.
func Reconcile(ctx context.Context, j *journal.Journal, date string, gateway []payment.Transaction, lookup Lookup) ([]Difference, error) {
	day, err := j.Day(ctx, date)
	if err != nil {
		return nil, err
	}
	payments := map[string]payment.Transaction{}
	refunds := map[string]payment.Transaction{}
	for _, t := range gateway {
		if t.Kind == payment.TxnRefund {
			refunds[t.OutTradeNo] = t
		} else {
			payments[t.OutTradeNo] = t
		}
	}
	// find is the gateway's record of a journal one missing from its list.
	var unconfirmed error
	find := func(otn string, ask func() (*payment.Transaction, error)) (payment.Transaction, bool, error) {
		unconfirmed = nil
		if lookup == nil {
			return payment.Transaction{}, false, nil
		}
		t, err := ask()
		switch {
		case errors.Is(err, payment.ErrNotFound):
			return payment.Transaction{}, false, nil
		case errors.Is(err, payment.ErrOutcomeUnknown):
			unconfirmed = err
			return payment.Transaction{}, false, nil
		case err != nil:
			return payment.Transaction{}, false, fmt.Errorf("asking the gateway for %s: %w", otn, err)
		}
		return *t, true, nil
	}

	var diffs []Difference
	add := func(d *Difference) {
		if d != nil {
			diffs = append(diffs, *d)
		}
	}
	ours := func(gateway string) bool { return j.GatewayName() == "" || gateway == j.GatewayName() }
	for _, o := range day.Orders {
		if !ours(o.Gateway) {
			continue
		}
		t, ok := payments[o.OutTradeNo]
		delete(payments, o.OutTradeNo)
		if !ok && !neverSent(o) {
			if t, ok, err = find(o.OutTradeNo, func() (*payment.Transaction, error) { return lookup.QueryOrder(ctx, o.Ref()) }); err != nil {
				return nil, err
			}
			if unconfirmed != nil {
				diffs = append(diffs, Difference{Kind: DiffUnconfirmed, Record: "payment", OutTradeNo: o.OutTradeNo, SysSN: o.SysSN,
					Journal: fmt.Sprintf("%s %s %s", o.State, o.Amount.String(), o.Amount.Currency.Code), Gateway: "cannot confirm it (" + unconfirmed.Error() + ")"})
				continue
			}
		}
		add(comparePayment(o, t, ok))
	}
	for _, t := range payments {
		o, err := j.Order(ctx, t.OutTradeNo)
		switch {
		case err == nil: // on another day in the journal
			add(comparePayment(o, t, true))
		case errors.Is(err, journal.ErrNotFound):
			diffs = append(diffs, Difference{Kind: DiffMissingInJournal, Record: "payment", OutTradeNo: t.OutTradeNo, SysSN: t.SysSN, Gateway: describe(t)})
		default:
			return nil, err
		}
	}
	for _, r := range day.Refunds {
		if !ours(r.Gateway) {
			continue
		}
		t, ok := refunds[r.OutTradeNo]
		delete(refunds, r.OutTradeNo)
		if !ok && r.State != journal.RefundFailed {
			if t, ok, err = find(r.OutTradeNo, func() (*payment.Transaction, error) { return lookup.QueryRefund(ctx, r.Request()) }); err != nil {
				return nil, err
			}
			if unconfirmed != nil {
				diffs = append(diffs, Difference{Kind: DiffUnconfirmed, Record: "refund", OutTradeNo: r.OutTradeNo, SysSN: r.SysSN,
					Journal: refundText(r), Gateway: "cannot confirm it (" + unconfirmed.Error() + "); check the merchant portal"})
				continue
			}
		}
		add(compareRefund(r, t, ok))
	}
	for _, t := range refunds {
		r, err := j.LookupRefund(ctx, t.OutTradeNo)
		switch {
		case err == nil: // on another day in the journal
			add(compareRefund(r, t, true))
		case errors.Is(err, journal.ErrNotFound):
			diffs = append(diffs, Difference{Kind: DiffMissingInJournal, Record: "refund", OutTradeNo: t.OutTradeNo, SysSN: t.SysSN, Gateway: describe(t)})
		default:
			return nil, err
		}
	}
	sort.Slice(diffs, func(a, b int) bool {
		if diffs[a].OutTradeNo != diffs[b].OutTradeNo {
			return diffs[a].OutTradeNo < diffs[b].OutTradeNo
		}
		return diffs[a].Kind < diffs[b].Kind
	})
	return diffs, nil
}

// neverSent: the order ended without reaching the gateway (refused, or not
// found there), so the gateway is right not to list it.
func neverSent(o journal.Order) bool {
	return o.SysSN == "" && o.State.Final() && o.State != payment.StatePaid
}

// comparePayment is the difference between a journal order and the
// gateway's record of it (found false: the gateway has none), or nil.
func comparePayment(o journal.Order, t payment.Transaction, found bool) *Difference {
	js := fmt.Sprintf("%s %s %s", o.State, o.Amount.String(), o.Amount.Currency.Code)
	switch {
	case !found && neverSent(o):
		return nil
	case o.ReplacedBy != "" && (!found || t.Outcome() != payment.OutcomePaid):
		// Its QR was lost, it was withdrawn (or, on a wallet without
		// cancel, left to expire: nobody had its QR) and replaced. Only
		// a payment of it would be news.
		return nil
	case !found:
		return &Difference{Kind: DiffMissingAtGateway, Record: "payment", OutTradeNo: o.OutTradeNo, SysSN: o.SysSN, Journal: js}
	case t.TxAmt != o.Amount.Minor || (t.Currency != "" && t.Currency != o.Amount.Currency.Code):
		return &Difference{Kind: DiffAmount, Record: "payment", OutTradeNo: o.OutTradeNo, SysSN: t.SysSN, Journal: js, Gateway: describe(t)}
	case !consistent(o.State, t.Outcome(), o.PayType):
		return &Difference{Kind: DiffState, Record: "payment", OutTradeNo: o.OutTradeNo, SysSN: t.SysSN, Journal: js, Gateway: describe(t)}
	}
	return nil
}

// compareRefund is comparePayment for a refund.
func compareRefund(r journal.Refund, t payment.Transaction, found bool) *Difference {
	js := refundText(r)
	switch {
	case !found && r.State == journal.RefundFailed:
		return nil
	case !found:
		return &Difference{Kind: DiffMissingAtGateway, Record: "refund", OutTradeNo: r.OutTradeNo, SysSN: r.SysSN, Journal: js}
	case t.TxAmt != r.Amount.Minor || (t.Currency != "" && t.Currency != r.Amount.Currency.Code):
		return &Difference{Kind: DiffAmount, Record: "refund", OutTradeNo: r.OutTradeNo, SysSN: t.SysSN, Journal: js, Gateway: describe(t)}
	case (t.Outcome() == payment.OutcomePaid) != (r.State == journal.RefundDone):
		return &Difference{Kind: DiffState, Record: "refund", OutTradeNo: r.OutTradeNo, SysSN: t.SysSN, Journal: js, Gateway: describe(t)}
	}
	return nil
}

func refundText(r journal.Refund) string {
	return fmt.Sprintf("refund %s %s %s of %s", r.State, r.Amount.String(), r.Amount.Currency.Code, r.OrigOutTradeNo)
}

func describe(t payment.Transaction) string {
	s := fmt.Sprintf("%s %d minor units %s, respcd %s", t.Outcome(), t.TxAmt, t.Currency, t.Code)
	if cur, err := payment.LookupCurrency(t.Currency); err == nil {
		s = fmt.Sprintf("%s %s %s, respcd %s", t.Outcome(), payment.FormatMinor(t.TxAmt, cur), cur.Code, t.Code)
	}
	if t.Kind == payment.TxnRefund {
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
