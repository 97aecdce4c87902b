package sfpsim

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"qrkiosk/payment/scanforpay"
)

// notifySchedule is the wait before each retry of a notification not
// answered `success`. ScanForPay says only that it retries "several times"
// and then stops; this schedule is the simulator's assumption.
var notifySchedule = []time.Duration{15 * time.Second, time.Minute, 3 * time.Minute, 10 * time.Minute, 30 * time.Minute}

// notifyTimeout bounds one delivery attempt.
const notifyTimeout = 10 * time.Second

// notifyLocked schedules the notification of a paid order to its
// notifyUrl (none without one, as ScanForPay). Caller holds s.mu.
func (s *Sim) notifyLocked(o *order) {
	url := o.notifyURL
	if url == "" || s.closed {
		return
	}
	if s.chance(s.cfg.NotifyDropRate) {
		s.log.Info("notification dropped (fault injection)", "order_no", o.orderNo, "partner_order_no", o.partnerOrderNo)
		return
	}
	copies := 1
	if s.chance(s.cfg.NotifyDupRate) {
		copies = 2
	}
	body, err := scanforpay.Marshal(s.payment(o))
	if err != nil {
		s.log.Error("notification not encoded", "order_no", o.orderNo, "err", err)
		return
	}
	h := scanforpay.Header{Version: scanforpay.Version, PartnerNo: s.cfg.PartnerNo, RespMsgID: scanforpay.NewMsgID(),
		RespTime: s.now().In(gatewayZone).Format(time.RFC3339), SignType: scanforpay.SignType}
	obj, err := scanforpay.Marshal(scanforpay.Response{Header: h, Body: body})
	if err != nil {
		s.log.Error("notification not encoded", "order_no", o.orderNo, "err", err)
		return
	}
	env := scanforpay.SealResponse(obj, s.answerKey())
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for range copies {
			if !s.deliver(s.ctx, o, url, env) {
				return
			}
		}
	}()
}

// deliver POSTs one notification until it is answered `success`,
// following the retry schedule. It reports whether it was.
func (s *Sim) deliver(ctx context.Context, o *order, url string, env []byte) bool {
	for attempt := 1; ; attempt++ {
		err := s.post(ctx, url, env)
		if err == nil {
			s.mu.Lock()
			o.notified++
			s.mu.Unlock()
			s.log.Info("notification delivered", "order_no", o.orderNo, "partner_order_no", o.partnerOrderNo, "attempt", attempt)
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		if attempt > len(notifySchedule) {
			s.log.Warn("notification given up", "order_no", o.orderNo, "partner_order_no", o.partnerOrderNo, "attempt", attempt, "err", err)
			return false
		}
		wait := time.Duration(float64(notifySchedule[attempt-1]) * s.cfg.NotifyScale)
		s.log.Info("notification not acknowledged; will retry", "order_no", o.orderNo, "attempt", attempt, "retry_in", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return false
		case <-t.C:
		}
	}
}

// notAcked is an answer other than HTTP 200 `success`.
type notAcked struct {
	status int
	body   string
}

func (e *notAcked) Error() string {
	return "answered HTTP " + strconv.Itoa(e.status) + " " + strconv.Quote(e.body) + ", not 200 success"
}

func (s *Sim) post(ctx context.Context, url string, env []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(env))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json;charset=UTF-8")
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	reply := strings.TrimSpace(string(got))
	if resp.StatusCode != http.StatusOK || !strings.EqualFold(reply, scanforpay.Reply) {
		if len(reply) > 64 {
			reply = reply[:64]
		}
		return &notAcked{status: resp.StatusCode, body: reply}
	}
	return nil
}
