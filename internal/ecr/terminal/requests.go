package terminal

import (
	"cmp"
	"context"
	"errors"
	"strconv"

	"qrkiosk/internal/ecr"
	"qrkiosk/internal/journal"
	"qrkiosk/payment"
	"qrkiosk/payment/qfpay"
)

// cancelRequest (5001) withdraws what the POS started: its live sale, its
// wait for a customer's code, or its refund waiting for the manager PIN.
// The cashier's own sale is never the POS's to cancel.
func (t *Terminal) cancelRequest() ecr.Answer {
	if t.k.Till.Cancel("cancelled by the POS", true) || t.k.Till.CancelRefund("cancelled by the POS") {
		a, _ := ecr.Accepted(nil)
		return a
	}
	return ecr.Refused(ecr.CodeRequestError, "nothing from the POS is in progress on the kiosk")
}

// inquiryData is a 4001 answer's data, as the docs list it.
type inquiryData struct {
	SysSN          string `json:"syssn"`
	OutTradeNo     string `json:"out_trade_no"`
	TradeTp        string `json:"tradetp"`
	Busicd         string `json:"busicd"`
	TxAmt          string `json:"txamt"`
	TxCurrCd       string `json:"txcurrcd"`
	Respcd         string `json:"respcd"`
	Cancel         string `json:"cancel"`
	SysDtm         string `json:"sysdtm"`
	ChnlSN         string `json:"chnlsn"`
	AllowRefundAmt string `json:"allow_refund_amt"`
	Desc           string `json:"desc"`
}

// inquiry (4001) answers one transaction as the journal holds it.
func (t *Terminal) inquiry(ctx context.Context, q *ecr.Inquiry) ecr.Answer {
	id := cmp.Or(q.OrderID, q.OutTradeNo)
	o, err := t.findOrder(ctx, id)
	if errors.Is(err, journal.ErrNotFound) {
		return ecr.Refused(ecr.CodeRequestError, "no transaction "+id+" on this kiosk")
	}
	if err != nil {
		return ecr.Refused(ecr.CodeOther, "the kiosk cannot read its journal")
	}
	ref, _ := t.k.Journal.POSRef(ctx, o.OutTradeNo)
	d := inquiryData{
		SysSN: o.SysSN, OutTradeNo: cmp.Or(ref, o.OutTradeNo), TradeTp: "payment", Busicd: o.PayType.Code, TxAmt: o.Amount.TxAmt(),
		TxCurrCd: o.Amount.Currency.Code, Respcd: inquiryCode(o), Cancel: strconv.Itoa(cancelFlag(o)),
		SysDtm: o.TxTime.In(t.k.Journal.Location()).Format(payment.LocalTimeLayout), AllowRefundAmt: strconv.FormatInt(max(0, o.Remaining()), 10),
		Desc: o.State.String(),
	}
	if n, err := t.k.Journal.LookupPOSNotice(ctx, journal.NoticeKeyPayment(d.OutTradeNo)); err == nil {
		if td, ok := t.tradeDataOf(n.Body); ok {
			d.ChnlSN = td.ChnlSN
		}
	}
	a, err := ecr.Accepted(d)
	if err != nil {
		return ecr.Refused(ecr.CodeOther, "the kiosk could not write the answer")
	}
	return a
}

// inquiryCode is the order's state in QFPay's codes.
func inquiryCode(o journal.Order) string {
	switch o.State {
	case payment.StatePaid:
		return string(qfpay.CodeSuccess)
	case payment.StateCreating, payment.StateAwaitingPayment:
		return string(qfpay.CodeUserPaying)
	case payment.StateExpired:
		return string(cmp.Or(o.Code, qfpay.CodeOrderExpired))
	case payment.StateCancelled:
		return string(cmp.Or(o.Code, qfpay.CodeOrderClosed))
	}
	return string(cmp.Or(o.Code, qfpay.CodeInsufficientBalance))
}

// cancelFlag is QFPay's cancel flag of a payment: 3 refunded in full, 5 in
// part, 0 not.
func cancelFlag(o journal.Order) int {
	switch {
	case o.Refunded > 0 && o.Refunded >= o.Amount.Minor:
		return 3
	case o.Refunded > 0:
		return 5
	}
	return 0
}

// noPrinter is the answer while the kiosk has no receipt printer.
var noPrinter = ecr.Refused(ecr.CodeRequestError, "this kiosk has no receipt printer set up")

// printReceipt (3001) prints a payment's receipt on the kiosk's printer.
func (t *Terminal) printReceipt(ctx context.Context, req *ecr.PrintReceipt) ecr.Answer {
	if t.opts.Printer == nil {
		return noPrinter
	}
	o, err := t.findOrder(ctx, req.OrderID)
	if err != nil {
		return ecr.Refused(ecr.CodeRequestError, "no payment "+req.OrderID+" on this kiosk")
	}
	if err := t.opts.Printer.PrintSale(ctx, o.OutTradeNo); err != nil {
		return ecr.Refused(ecr.CodeRequestError, "the receipt was not printed: "+err.Error())
	}
	a, _ := ecr.Accepted(nil)
	return a
}

// printSummary (3002) prints the day's summary on the kiosk's printer.
func (t *Terminal) printSummary(ctx context.Context) ecr.Answer {
	if t.opts.Printer == nil {
		return noPrinter
	}
	if err := t.opts.Printer.PrintSummary(ctx, "", ""); err != nil {
		return ecr.Refused(ecr.CodeRequestError, "the summary was not printed: "+err.Error())
	}
	a, _ := ecr.Accepted(nil)
	return a
}
