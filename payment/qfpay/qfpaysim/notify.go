package qfpaysim

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"qrkiosk/payment/qfpay"
)

// notifySchedule is QFPay's retry schedule after a notification that was
// not answered with SUCCESS; after the last one it gives up.
var notifySchedule = []time.Duration{
	2 * time.Minute, 10 * time.Minute, 10 * time.Minute, 60 * time.Minute,
	2 * time.Hour, 6 * time.Hour, 15 * time.Hour,
}

// notifyTimeout bounds one delivery attempt.
const notifyTimeout = 10 * time.Second

// notifyBody is the JSON QFPay POSTs for a successful payment or refund:
// every value a string, in the order and the exact bytes of QFPay's
// Python (see pyJSON). mchid is only there for a merchant that was issued
// one. Caller holds s.mu.
func notifyBody(t *txn) []byte {
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
			{"pay_type", t.payType.Code},
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
		}
	}
	if t.mchID == "" {
		o = slices.DeleteFunc(o, func(f field) bool { return f.k == "mchid" })
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
	if t.kind == kindPayment && s.chance(s.cfg.NotifyDropRate) {
		s.log.Info("notification dropped (fault injection)", "syssn", t.sysSN, "out_trade_no", t.outTradeNo)
		return
	}
	copies := 1
	if s.chance(s.cfg.NotifyDupRate) {
		copies = 2
	}
	body := notifyBody(t)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for range copies {
			if !s.deliver(s.ctx, t, url, body) {
				return
			}
		}
	}()
}

// deliver POSTs one notification until it is acknowledged, following
// QFPay's retry schedule. It reports whether it was acknowledged.
func (s *Sim) deliver(ctx context.Context, t *txn, url string, body []byte) bool {
	sign := qfpay.SignBody(body, s.cfg.Key, qfpay.SignMD5)
	for attempt := 1; ; attempt++ {
		err := s.post(ctx, url, body, sign)
		if err == nil {
			s.mu.Lock()
			t.notified++
			s.mu.Unlock()
			s.log.Info("notification delivered", "syssn", t.sysSN, "out_trade_no", t.outTradeNo, "notify_type", t.kind, "attempt", attempt)
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		if attempt > len(notifySchedule) {
			s.log.Warn("notification given up", "syssn", t.sysSN, "out_trade_no", t.outTradeNo, "notify_type", t.kind, "attempt", attempt, "err", err)
			return false
		}
		wait := time.Duration(float64(notifySchedule[attempt-1]) * s.cfg.NotifyScale)
		s.log.Info("notification not acknowledged; will retry", "syssn", t.sysSN, "out_trade_no", t.outTradeNo, "attempt", attempt, "retry_in", wait, "err", err)
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return false
		case <-timer.C:
		}
	}
}

// notAcked is a notification answer other than HTTP 200 "SUCCESS".
type notAcked struct {
	status int
	body   string
}

func (e *notAcked) Error() string {
	return "answered HTTP " + strconv.Itoa(e.status) + " " + strconv.Quote(e.body) + ", not 200 SUCCESS"
}

func (s *Sim) post(ctx context.Context, url string, body []byte, sign string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(qfpay.HeaderSign, sign)
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	reply := strings.TrimSpace(string(got))
	if resp.StatusCode != http.StatusOK || reply != "SUCCESS" {
		if len(reply) > 64 {
			reply = reply[:64]
		}
		return &notAcked{status: resp.StatusCode, body: reply}
	}
	return nil
}
