package qfpaysim

import (
	"net/http"
	"strconv"
	"time"

	"qrkiosk/payment/qfpay"
	"qrkiosk/sim/simkit"
)

// notifySchedule is QFPay's retry schedule after a notification that was
// not answered with SUCCESS; after the last one it gives up.
var notifySchedule = []time.Duration{
	2 * time.Minute, 10 * time.Minute, 10 * time.Minute, 60 * time.Minute,
	2 * time.Hour, 6 * time.Hour, 15 * time.Hour,
}

// notifyBody is the JSON QFPay POSTs for a successful payment or refund:
// every value a string, in the order and the exact bytes of QFPay's
// Python (see pyJSON). mchid is the merchant's: the one it was issued, or
// the gateway's own number for it (a real notification always names the
// merchant, as Odoo's tour shows). Caller holds s.mu.
func notifyBody(t *txn, merchant string) []byte {
	var o object
	if t.kind == kindRefund {
		// The shape of a real refund notification: it names its payment by
		// orig_syssn and orig_out_trade_no and has no pay_type, cancel,
		// status or paydtm.
		o = object{
			{"sysdtm", fmtDtm(t.created)},
			{"txcurrcd", t.currency.Code},
			{"orig_out_trade_no", t.orig.outTradeNo},
			{"mchid", t.mchID},
			{"txdtm", t.txDtm},
			{"txamt", strconv.FormatInt(t.txAmt, 10)},
			{"orig_syssn", t.orig.sysSN},
			{"out_trade_no", t.outTradeNo},
			{"syssn", t.sysSN},
			{"respcd", string(t.respcd())},
			{"notify_type", kindRefund},
		}
	} else {
		// QFPay's documented payment notification, field for field.
		o = object{
			{"status", "1"},
			{"pay_type", t.wirePayType()},
			{"sysdtm", fmtDtm(t.created)},
			{"paydtm", fmtDtm(t.paid)},
			{"goods_name", t.goodsName},
			{"txcurrcd", t.currency.Code},
			{"txdtm", t.txDtm},
			{"mchid", t.mchID},
			{"txamt", strconv.FormatInt(t.txAmt, 10)},
			{"exchange_rate", ""},
			{"chnlsn2", ""},
			{"out_trade_no", t.outTradeNo},
			{"syssn", t.sysSN},
			{"cash_fee_type", ""},
			{"cancel", strconv.Itoa(t.cancel)},
			{"respcd", string(t.respcd())},
			{"goods_info", ""},
			{"cash_fee", "0"},
			{"notify_type", kindPayment},
			{"chnlsn", t.chnlSN},
			{"cardcd", ""},
			{"customer_source", "HK"},
			{"outcardnm", ""},
		}
	}
	if t.mchID == "" {
		for i := range o {
			if o[i].k == "mchid" {
				o[i].v = merchant
			}
		}
	}
	return pyJSON(o)
}

// notifyLocked schedules the notification of a successful transaction t
// (a payment, or a refund of payment orig). Caller holds s.mu.
func (s *Sim) notifyLocked(t, orig *txn) {
	url := orig.notifyURL
	if url == "" || s.closed {
		return
	}
	if t.kind == kindPayment && s.dice.Chance(s.cfg.NotifyDropRate) {
		s.log.Info("notification dropped (fault injection)", "syssn", t.sysSN, "out_trade_no", t.outTradeNo)
		return
	}
	copies := 1
	if s.dice.Chance(s.cfg.NotifyDupRate) {
		copies = 2
	}
	body := notifyBody(t, s.merchantID)
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set(qfpay.HeaderSign, qfpay.SignBody(body, s.cfg.Key, qfpay.SignMD5))
	s.notifier.Send(simkit.Notification{
		URL: url, Body: body, Header: h, Ack: "SUCCESS", Copies: copies,
		Attrs: []any{"syssn", t.sysSN, "out_trade_no", t.outTradeNo, "notify_type", t.kind},
		Delivered: func() {
			s.mu.Lock()
			t.notified++
			s.mu.Unlock()
		},
	})
}
