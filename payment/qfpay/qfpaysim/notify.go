package qfpaysim

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
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

// notifyBody is the JSON QFPay POSTs, every value a string. A struct keeps
// the field order stable.
type notifyBody struct {
	NotifyType string `json:"notify_type"`
	Status     string `json:"status"`
	Respcd     string `json:"respcd"`
	SysSN      string `json:"syssn"`
	OrigSysSN  string `json:"orig_syssn,omitempty"`
	OutTradeNo string `json:"out_trade_no"`
	TxAmt      string `json:"txamt"`
	TxCurrcd   string `json:"txcurrcd"`
	PayType    string `json:"pay_type"`
	TxDtm      string `json:"txdtm"`
	SysDtm     string `json:"sysdtm"`
	PayDtm     string `json:"paydtm"`
	Cancel     string `json:"cancel"`
	MchID      string `json:"mchid"`
	UDID       string `json:"udid"`
	ChnlSN     string `json:"chnlsn"`
	GoodsName  string `json:"goods_name"`
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
	body, err := json.Marshal(notifyBody{
		NotifyType: t.kind,
		Status:     "1",
		Respcd:     string(t.respcd()),
		SysSN:      t.sysSN,
		OrigSysSN:  t.origSysSN,
		OutTradeNo: t.outTradeNo,
		TxAmt:      strconv.FormatInt(t.txAmt, 10),
		TxCurrcd:   t.currency.Code,
		PayType:    t.payType.Code,
		TxDtm:      t.txDtm,
		SysDtm:     fmtDtm(t.created),
		PayDtm:     fmtDtm(t.paid),
		Cancel:     strconv.Itoa(t.cancel),
		MchID:      orig.mchID,
		UDID:       t.udid,
		ChnlSN:     t.chnlSN,
		GoodsName:  orig.goodsName,
	})
	if err != nil {
		s.log.Error("notification not encoded", "syssn", t.sysSN, "err", err)
		return
	}
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
