package relay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"qrkiosk/relay/store"
	"qrkiosk/relay/wire"
)

// subscriptionRefused is the error of every refused subscription to an
// out_trade_no, whatever the reason: another device's order, another
// merchant's, a limit, the store. Told apart, they would say whether an
// order exists at any merchant; the kiosk does the same in every case
// (polls the gateway for that order), and the reason goes to the log
// and the metric.
const subscriptionRefused = "subscription refused: no push for this order; poll the gateway"

// refuseSub answers a subscription with an error naming it, and logs it
// (sampled) with the reason and detail. A udid subscription's error says
// why (detail): it concerns the token's own device only.
func (s *Server) refuseSub(c *wsConn, req wire.KioskFrame, reason, detail string) {
	s.m.SubscriptionRefused(reason)
	s.subLog.warn(s.log, "ws: subscription refused", "reason", reason, "detail", detail, "remote", c.remote,
		"token_id", c.cred.tokenID, "merchant", c.cred.scope.Merchant, "token_udid", c.cred.scope.UDID,
		"out_trade_no", req.OutTradeNo, "udid", req.UDID)
	msg := detail
	if req.OutTradeNo != "" {
		msg = subscriptionRefused
	}
	s.reply(c, wire.RelayFrame{Type: wire.TypeError, OutTradeNo: req.OutTradeNo, UDID: req.UDID, Error: msg})
}

// onShortGoroutine runs a store call on a goroutine of its own: SQLite's
// deep call stack would otherwise stay with the long-lived reader,
// costing every idle connection many KB.
func onShortGoroutine[T any](f func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := f()
		done <- result{v, err}
	}()
	r := <-done
	return r.v, r.err
}

// subscribe checks the subscription against the kiosk's credential,
// registers it, then streams what is stored (replay): in that order
// nothing committed in between is missed (it may come twice).
func (s *Server) subscribe(c *wsConn, req wire.KioskFrame) bool {
	scope := c.cred.scope
	if req.UDID != "" && scope.UDID != "" && req.UDID != scope.UDID {
		s.refuseSub(c, req, reasonForeignDevice, fmt.Sprintf("udid %s: this kiosk's token is for device %s only", req.UDID, scope.UDID))
		return true
	}
	if err := s.hub.room(c, req.OutTradeNo, req.UDID, s.cfg.MaxSubscriptions); err != nil {
		s.refuseSub(c, req, reasonTooManySubs, err.Error())
		return true
	}
	if req.OutTradeNo != "" && scope.UDID != "" {
		owner, err := onShortGoroutine(func() (string, error) {
			ctx, cancel := context.WithTimeout(context.Background(), s.cfg.WriteTimeout)
			defer cancel()
			return s.st.Claim(ctx, scope.Merchant, req.OutTradeNo, scope.UDID, s.cfg.Claims)
		})
		switch {
		case errors.Is(err, store.ErrDeviceClaimLimit):
			s.refuseSub(c, req, reasonDeviceClaimLimit, err.Error())
			return true
		case errors.Is(err, store.ErrMerchantClaimLimit):
			s.refuseSub(c, req, reasonMerchantClaimLimit, err.Error())
			return true
		case err != nil:
			s.log.Error("ws: subscribe", "out_trade_no", req.OutTradeNo, "err", err)
			s.refuseSub(c, req, reasonUnavailable, "relay storage unavailable")
			return true
		case owner != scope.UDID:
			s.refuseSub(c, req, reasonForeignOrder, "another device claimed the order first, or a notification names it")
			return true
		}
	}
	if req.OutTradeNo != "" {
		foreign, err := onShortGoroutine(func() (bool, error) {
			ctx, cancel := context.WithTimeout(context.Background(), s.cfg.WriteTimeout)
			defer cancel()
			return s.st.Foreign(ctx, req.OutTradeNo, scope)
		})
		if err != nil {
			s.log.Error("ws: subscribe", "out_trade_no", req.OutTradeNo, "err", err)
			s.refuseSub(c, req, reasonUnavailable, "relay storage unavailable")
			return true
		}
		if foreign {
			s.refuseSub(c, req, reasonForeignOrder, "a stored notification for it is another device's or merchant's")
			return true
		}
	}
	if err := s.hub.subscribe(c, req.OutTradeNo, req.UDID, s.cfg.MaxSubscriptions); err != nil {
		if errors.Is(err, errTooManySubs) {
			s.refuseSub(c, req, reasonTooManySubs, err.Error())
			return true
		}
		return false
	}
	q := store.ReplayQuery{Scope: scope, OutTradeNo: req.OutTradeNo, UDID: req.UDID, Since: time.Now().Add(-s.cfg.ReplayWindow)}
	n, ok := s.replay(c, q)
	if !ok {
		return false
	}
	ack := wire.RelayFrame{Type: wire.TypeSubscribed, OutTradeNo: req.OutTradeNo, UDID: req.UDID, Replayed: &n}
	frame, _ := json.Marshal(ack)
	return s.enqueue(c, &outbound{data: frame})
}
