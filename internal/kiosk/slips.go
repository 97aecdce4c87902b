package kiosk

import (
	"context"
	"errors"
	"fmt"
	"time"

	"qrkiosk/internal/journal"
	"qrkiosk/internal/receipt"
	"qrkiosk/internal/settle"
	"qrkiosk/payment"
)

// ErrNotPaid: a receipt is only for a paid sale, or a refund the gateway
// has confirmed.
var ErrNotPaid = errors.New("no receipt: not paid")

// SaleSlip is the receipt of a paid sale as the journal holds it now: a
// refunded sale's says REFUNDED or PARTLY REFUNDED with what was given back.
func (k *Kiosk) SaleSlip(ctx context.Context, outTradeNo string) (receipt.Slip, error) {
	o, err := k.Journal.Order(ctx, outTradeNo)
	if err != nil {
		return receipt.Slip{}, err
	}
	if o.State != payment.StatePaid {
		return receipt.Slip{}, fmt.Errorf("sale %s is %s: %w", outTradeNo, o.State, ErrNotPaid)
	}
	return k.saleSlip(o, k.paidAt(ctx, o)), nil
}

// saleSlip is the slip of a paid order, paid at paidAt.
func (k *Kiosk) saleSlip(o journal.Order, paidAt time.Time) receipt.Slip {
	s := receipt.Slip{
		Kind: receipt.Sale, Merchant: k.Config.MerchantName, Time: paidAt,
		Amount: o.Amount.Minor, Currency: o.Amount.Currency, Wallet: o.PayType.Name,
		Status: receipt.Paid, Refunded: o.Refunded,
		SysSN: o.SysSN, OutTradeNo: o.OutTradeNo, POSRef: posReference(o),
	}
	switch {
	case o.Refunded >= o.Amount.Minor:
		s.Status, s.Refunded = receipt.Refunded, o.Amount.Minor
	case o.Refunded > 0:
		s.Status = receipt.PartlyRefunded
	}
	return s
}

// posReference is the POS's reference of a sale the POS started. The
// journal records it with the POS protocol (issue 22); until then no sale
// has one and the slip leaves the line out.
func posReference(journal.Order) string { return "" }

// paidAt is when the journal recorded the order paid; an order whose
// events are lost falls back on its last update.
func (k *Kiosk) paidAt(ctx context.Context, o journal.Order) time.Time {
	events, err := k.Journal.Events(ctx, o.OutTradeNo)
	if err == nil {
		for _, e := range events {
			if e.Source == "machine" && e.State == payment.StatePaid.String() {
				return e.At
			}
		}
	}
	return o.Updated
}

// RefundSlip is the receipt of a refund the gateway confirmed.
func (k *Kiosk) RefundSlip(ctx context.Context, refundOutTradeNo string) (receipt.Slip, error) {
	r, err := k.Journal.LookupRefund(ctx, refundOutTradeNo)
	if err != nil {
		return receipt.Slip{}, err
	}
	if r.State != journal.RefundDone {
		return receipt.Slip{}, fmt.Errorf("refund %s is %s: %w", refundOutTradeNo, r.State, ErrNotPaid)
	}
	return receipt.Slip{
		Kind: receipt.Refund, Merchant: k.Config.MerchantName, Time: r.TxTime,
		Amount: r.Amount.Minor, Currency: r.Amount.Currency, Wallet: r.PayType.Name,
		SysSN: r.SysSN, OutTradeNo: r.OutTradeNo, OrigSysSN: r.OrigSysSN,
	}, nil
}

// SummaryWait bounds the check of a summary against the gateway: past it
// the slip says it was not checked, and why. A variable for tests.
var SummaryWait = 30 * time.Second

// Summary is the end-of-day slip of a period (from and to as YYYY-MM-DD,
// "" today; see settle.Period): the journal's totals, checked against the
// gateway when the kiosk has one.
func (k *Kiosk) Summary(ctx context.Context, from, to string) (receipt.Summary, settle.Summary, error) {
	s, err := settle.Summarize(ctx, k.Journal, from, to)
	if err != nil {
		return receipt.Summary{}, s, err
	}
	out := receipt.Summary{Merchant: k.Config.MerchantName, FirstDay: s.From, LastDay: s.To, Printed: k.Journal.Now()}
	for _, l := range s.Lines {
		out.Lines = append(out.Lines, receipt.SummaryLine{Wallet: l.PayType.Name, Currency: l.Currency,
			Sales: l.Sales, Paid: l.Paid, Refunds: l.Refunds, Refunded: l.Refunded})
	}
	if k.Gateway == nil {
		out.Check.Reason = "no gateway configured"
		return out, s, nil
	}
	cctx, cancel := context.WithTimeout(ctx, SummaryWait)
	defer cancel()
	c, err := settle.CheckPeriod(cctx, k.Journal, s.From, s.To, k.Gateway)
	if err != nil {
		k.log.Warn("summary: the check against the gateway failed", "from", s.From, "to", s.To, "err", err)
		out.Check.Reason = "the gateway could not be asked"
		return out, s, nil
	}
	out.Check = receipt.Check{Done: true, Differences: c.Differences, Unconfirmed: c.Unconfirmed}
	return out, s, nil
}
