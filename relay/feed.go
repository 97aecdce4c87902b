package relay

import (
	"context"
	"encoding/json"
	"time"

	"qrkiosk/relay/store"
	"qrkiosk/relay/wire"
)

// feedPage is how many stored notifications the fan-out reads at a time.
const feedPage = 256

// fanout delivers every stored notification, whichever instance stored
// it, to this instance's kiosks: it reads the store by id from where it
// left off whenever this instance stores something, another instance
// signals (LISTEN), or FeedPoll passes. Ids become visible in order, so
// a dropped database connection loses nothing: the next read catches up.
func (s *Server) fanout(ctx context.Context, last int64) {
	defer s.bg.Done()
	t := time.NewTicker(s.cfg.FeedPoll)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.kick:
		case <-s.st.Changed():
		case <-t.C:
		}
		for {
			recs, err := s.st.After(ctx, last, feedPage)
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				s.m.StoreError()
				if !failing {
					s.log.Error("fan-out: reading the store; kiosks here get no pushes until it answers", "err", err)
					failing = true
				}
				break
			}
			if failing {
				s.log.Info("fan-out: the store answers again", "after_id", last)
				failing = false
			}
			for _, r := range recs {
				s.broadcast(r)
				last = r.ID
			}
			s.m.FannedOut(len(recs))
			if len(recs) > 0 {
				s.advance(last)
			}
			if len(recs) < feedPage {
				break
			}
		}
	}
}

func (s *Server) advance(id int64) {
	s.fanMu.Lock()
	defer s.fanMu.Unlock()
	s.fanned = id
	close(s.fanWait)
	s.fanWait = make(chan struct{})
}

// waitFanned waits, at most timeout, until the fan-out has offered the
// notification with id to this instance's kiosks.
func (s *Server) waitFanned(id int64, timeout time.Duration) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		s.fanMu.Lock()
		done, ch := s.fanned >= id, s.fanWait
		s.fanMu.Unlock()
		if done {
			return
		}
		select {
		case <-ch:
		case <-t.C:
			return
		}
	}
}

// broadcast offers a stored notification to the connections that follow
// it, and refuses the subscriptions of those that may not see it.
func (s *Server) broadcast(rec *store.Record) {
	frame, err := encodeNotification(rec, false)
	if err != nil {
		s.log.Error("encode notification", "err", err)
		return
	}
	dropped, foreign := s.hub.broadcast(rec, frame)
	for _, c := range dropped {
		s.dropSlow(c, "send queue full")
	}
	for _, c := range foreign {
		s.hub.unsubscribe(c, rec.OutTradeNo, "")
		s.log.Warn("ws: notification withheld from a kiosk outside its scope", "out_trade_no", rec.OutTradeNo,
			"notification_merchant", rec.Merchant, "notification_udid", rec.UDID, "token_id", c.cred.tokenID,
			"token_merchant", c.cred.scope.Merchant, "token_udid", c.cred.scope.UDID)
		s.refuseSub(c, wire.KioskFrame{Type: wire.TypeSubscribe, OutTradeNo: rec.OutTradeNo}, reasonForeignOrder,
			"a notification for it, just stored, is another device's or merchant's: subscription dropped")
	}
}

// encodeNotification is the frame that carries r to a kiosk.
func encodeNotification(r *store.Record, replay bool) ([]byte, error) {
	return json.Marshal(notificationFrame(r, replay))
}

func notificationFrame(r *store.Record, replay bool) wire.RelayFrame {
	at := r.ReceivedAt.UTC()
	return wire.RelayFrame{
		Type:       wire.TypeNotification,
		ID:         r.ID,
		Merchant:   r.Merchant,
		Gateway:    r.Gateway,
		SysSN:      r.SysSN,
		NotifyType: r.NotifyType,
		OutTradeNo: r.OutTradeNo,
		UDID:       r.UDID,
		Body:       r.Body,
		Sign:       r.Sign,
		SignType:   r.SignType,
		ReceivedAt: &at,
		Replay:     replay,
	}
}
