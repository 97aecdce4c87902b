package terminal

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"time"

	"qrkiosk/internal/ecr"
	"qrkiosk/internal/journal"
	"qrkiosk/payment"
)

// recordTries is how often the gateway is asked for a paid sale's record
// (the wallet's number, the gateway's times) before its notice goes
// without them.
const recordTries = 3

// paid is a POS payment's data, for its answer and its notice: made once,
// from the gateway's record of the payment, put in the outbox for the
// POS's webhook, and read back from there whenever it is asked again, so
// the POS hears one result however it learns it.
func (t *Terminal) paid(ctx context.Context, ref string, o journal.Order) ecr.TradeData {
	t.noticeMu.Lock()
	defer t.noticeMu.Unlock()
	j := t.k.Journal
	key := journal.NoticeKeyPayment(ref)
	if n, err := j.LookupPOSNotice(ctx, key); err == nil {
		if d, ok := t.tradeDataOf(n.Body); ok {
			return d
		}
	}
	rec := t.record(ctx, o)
	loc := j.Location()
	n := ecr.PaymentNotice{
		OutTradeNo: ref, SysSN: o.SysSN, ChnlSN: rec.ChnlSN, PayType: cmp.Or(rec.PayType, o.PayType.Code), MchID: t.k.Config.QFPay.MchID,
		Amount: o.Amount, TxTime: o.TxTime.In(loc), SysTime: localTime(rec.SysDtm, o.TxTime, loc), PayTime: localTime(rec.PayDtm, o.Updated, loc),
	}
	body, err := n.Body()
	if err != nil {
		t.log.Error("ecr: the payment's notice", "pos_ref", ref, "err", err)
	} else if url := t.k.Config.ECR.NotifyURL; url != "" {
		if _, err := j.AddPOSNotice(ctx, journal.POSNotice{Key: key, URL: url, Body: body}); err != nil {
			// Not marked done: the sweep tries again.
			t.log.Error("ecr: the payment's notice not recorded", "pos_ref", ref, "err", err)
			d, _ := t.tradeDataOf(body)
			return d
		}
		t.box.wake()
	}
	if err := j.MarkPOSSaleDone(ref); err != nil {
		t.log.Warn("ecr: marking the POS's sale settled", "pos_ref", ref, "err", err)
	}
	d, _ := t.tradeDataOf(body)
	return d
}

// record is the gateway's record of a paid order, or what the journal
// knows when the gateway does not answer.
func (t *Terminal) record(ctx context.Context, o journal.Order) payment.Transaction {
	if t.k.Gateway == nil {
		return payment.Transaction{}
	}
	for i := range recordTries {
		qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		rec, err := t.k.Gateway.QueryOrder(qctx, o.Ref())
		cancel()
		if err == nil && rec.Outcome() == payment.OutcomePaid {
			return *rec
		}
		t.log.Warn("ecr: asking the gateway for a paid sale's record", "out_trade_no", o.OutTradeNo, "attempt", i+1, "err", err)
		select {
		case <-ctx.Done():
			return payment.Transaction{}
		case <-time.After(time.Second):
		}
	}
	return payment.Transaction{}
}

// localTime reads a gateway time (the merchant's zone, loc); def when
// there is none.
func localTime(s string, def time.Time, loc *time.Location) time.Time {
	if t, err := time.ParseInLocation(payment.LocalTimeLayout, s, loc); err == nil {
		return t
	}
	return def.In(loc)
}

// tradeDataOf is a 1001 answer's data from the payment's notice.
func (t *Terminal) tradeDataOf(body []byte) (ecr.TradeData, bool) {
	var n map[string]string
	if err := json.Unmarshal(body, &n); err != nil {
		return ecr.TradeData{}, false
	}
	return ecr.TradeData{
		Respcd: n["respcd"], SysDtm: n["sysdtm"], PayDtm: n["paydtm"], Busicd: n["pay_type"], TxAmt: n["txamt"],
		TxCurrCd: n["txcurrcd"], ChnlSN: n["chnlsn"], SysSN: n["syssn"], OutTradeNo: n["out_trade_no"], UDID: t.k.Config.UDID,
	}, true
}

// refundNotice puts a POS refund's notice in the outbox (once).
func (t *Terminal) refundNotice(ctx context.Context, r journal.Refund) error {
	url := t.k.Config.ECR.NotifyURL
	if url == "" {
		return nil
	}
	j := t.k.Journal
	ref, err := j.POSRef(ctx, r.OrigOutTradeNo)
	if err != nil {
		return err
	}
	n := ecr.RefundNotice{
		OrigOutTradeNo: cmp.Or(ref, r.OrigOutTradeNo), OrigSysSN: r.OrigSysSN, OutTradeNo: r.OutTradeNo, SysSN: r.SysSN,
		MchID: t.k.Config.QFPay.MchID, Amount: r.Amount, TxTime: r.TxTime.In(j.Location()), SysTime: r.TxTime.In(j.Location()),
	}
	body, err := n.Body()
	if err != nil {
		return err
	}
	if _, err := j.AddPOSNotice(ctx, journal.POSNotice{Key: journal.NoticeKeyRefund(r.OutTradeNo), URL: url, Body: body}); err != nil {
		return err
	}
	t.box.wake()
	return nil
}

// unorderedAfter is how long a POS sale may have no order (a SCAN_PAY sale
// waits for the scanner at most MaxPaymentTimeout) before it is taken as
// never started (the kiosk was busy, or the POS withdrew it).
const unorderedAfter = ecr.MaxPaymentTimeout + time.Hour

// noticeAge bounds which refunds the sweep still notifies: a POS waits for
// a refund's notice while its cashier is at the counter, not for days.
const noticeAge = 48 * time.Hour

// sweep puts in the outbox what the journal holds and the outbox does
// not: the POS's sales paid while no request waited for them (the POS
// went away, or the kiosk restarted), and the refunds settled since.
func (t *Terminal) sweep(ctx context.Context) {
	j := t.k.Journal
	sales, err := j.OpenPOSSales(ctx)
	if err != nil {
		if !errors.Is(err, context.Canceled) {
			t.log.Warn("ecr: reading the POS's sales", "err", err)
		}
		return
	}
	now := j.Now()
	for _, s := range sales {
		switch {
		case s.Order == nil:
			if now.Sub(s.Created) > unorderedAfter {
				j.MarkPOSSaleDone(s.Ref)
			}
		case !s.Order.State.Final():
		case s.Order.State == payment.StatePaid && !s.Order.Late:
			t.paid(ctx, s.Ref, *s.Order)
		default:
			// QFPay notifies successes only; the POS had the outcome in
			// its answer.
			j.MarkPOSSaleDone(s.Ref)
		}
	}
	refunds, err := j.UnnotifiedPOSRefunds(ctx)
	if err != nil {
		t.log.Warn("ecr: reading the POS's refunds", "err", err)
		return
	}
	for _, r := range refunds {
		if now.Sub(r.TxTime) > noticeAge {
			continue
		}
		if err := t.refundNotice(ctx, r); err != nil {
			t.log.Warn("ecr: the refund's notice", "out_trade_no", r.OutTradeNo, "err", err)
		}
	}
}
