package sfpsim

import (
	"net/http"
	"time"

	"qrkiosk/payment/scanforpay"
	"qrkiosk/sim/simkit"
)

// notifySchedule is the wait before each retry of a notification not
// answered `success`. ScanForPay says only that it retries "several times"
// and then stops; this schedule is the simulator's assumption.
var notifySchedule = []time.Duration{15 * time.Second, time.Minute, 3 * time.Minute, 10 * time.Minute, 30 * time.Minute}

// notifyLocked schedules the notification of a paid order to its
// notifyUrl (none without one, as ScanForPay). Caller holds s.mu.
func (s *Sim) notifyLocked(o *order) {
	url := o.notifyURL
	if url == "" {
		return
	}
	if s.dice.Chance(s.cfg.NotifyDropRate) {
		s.log.Info("notification dropped (fault injection)", "order_no", o.orderNo, "partner_order_no", o.partnerOrderNo)
		return
	}
	copies := 1
	if s.dice.Chance(s.cfg.NotifyDupRate) {
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
	post := http.Header{}
	post.Set("Content-Type", "application/json;charset=UTF-8")
	s.notifier.Send(simkit.Notification{
		URL: url, Body: env, Header: post, Ack: scanforpay.Reply, FoldCase: true, Copies: copies,
		Attrs: []any{"order_no", o.orderNo, "partner_order_no", o.partnerOrderNo},
		Delivered: func() {
			s.mu.Lock()
			o.notified++
			s.mu.Unlock()
		},
	})
}
