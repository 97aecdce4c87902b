package relayclient

import (
	"sync"
	"time"

	"qrkiosk/relay/wire"
)

// Message is one notification as a kiosk receives it. Body and Sign are
// exactly what the gateway sent, so the kiosk can verify them again with
// its own key before trusting anything in Body.
type Message struct {
	Body       []byte // the raw notification body exactly as the gateway sent it
	Sign       string // its X-QF-SIGN (QFPay); "" where the signature is in the body (ScanForPay)
	SignType   string // "MD5" for QFPay (it signs notifications with MD5 only), "SHA256" for ScanForPay
	ReceivedAt time.Time

	// Convenience copies of the relay's index fields; unverified until
	// Body+Sign are.
	ID         int64
	Merchant   string // the relay's merchant id
	Gateway    string // "qfpay"
	SysSN      string
	NotifyType string
	OutTradeNo string
	UDID       string
	Replay     bool // sent from the journal on (re)subscribe, not live
}

// Subscription is one Follow of an order: its notifications, and whether
// the relay took the subscription.
type Subscription struct {
	c        *Client
	otn      string
	ch       chan Message
	refusals chan bool // the latest change of refused
	refused  bool      // guarded by c.mu
	once     sync.Once
}

// subscriberBuffer is per Subscribe channel; a subscriber that lets it
// fill loses notifications (and falls back on polling).
const subscriberBuffer = 16

// Subscribe delivers every notification for outTradeNo, live and replayed,
// until unsubscribe is called (which closes msgs). The channel is
// buffered; delivery never blocks the link, so a full channel drops.
func (c *Client) Subscribe(outTradeNo string) (msgs <-chan Message, unsubscribe func()) {
	s := c.Follow(outTradeNo)
	return s.Messages(), s.Close
}

// Follow subscribes to outTradeNo like Subscribe, and also tells whether
// the relay took the subscription: a relay refuses one (an error frame
// naming the out_trade_no) when, say, another kiosk of the merchant
// claimed the order first, and then nothing of that order comes over this
// link, however up the link is.
func (c *Client) Follow(outTradeNo string) *Subscription {
	s := &Subscription{c: c, otn: outTradeNo, ch: make(chan Message, subscriberBuffer), refusals: make(chan bool, 1)}
	c.mu.Lock()
	set := c.subs[outTradeNo]
	if set == nil {
		set = make(map[*Subscription]struct{}, 1)
		c.subs[outTradeNo] = set
	}
	first := len(set) == 0
	for other := range set {
		s.refused = other.refused // one subscription at the relay: its answer is theirs
		break
	}
	set[s] = struct{}{}
	ws := c.ws
	c.mu.Unlock()
	if first && ws != nil {
		c.write(ws, wire.KioskFrame{Type: wire.TypeSubscribe, OutTradeNo: outTradeNo})
	}
	return s
}

// Messages delivers the order's notifications until Close (which closes it).
func (s *Subscription) Messages() <-chan Message { return s.ch }

// Refused reports that the relay refused the subscription: until a later
// subscribe (after a reconnect) is confirmed, no notification of the order
// comes.
func (s *Subscription) Refused() bool {
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	return s.refused
}

// Refusals receives Refused's new value each time it changes; it holds
// only the latest.
func (s *Subscription) Refusals() <-chan bool { return s.refusals }

// Close ends the subscription; the relay is told when it was the order's
// last one.
func (s *Subscription) Close() {
	s.once.Do(func() {
		c := s.c
		c.mu.Lock()
		set := c.subs[s.otn]
		delete(set, s)
		last := len(set) == 0
		if last {
			delete(c.subs, s.otn)
		}
		close(s.ch)
		ws := c.ws
		c.mu.Unlock()
		if last && ws != nil {
			c.write(ws, wire.KioskFrame{Type: wire.TypeUnsubscribe, OutTradeNo: s.otn})
		}
	})
}

// setRefused records the relay's answer to the subscriptions of otn.
// Called with c.mu held.
func (c *Client) setRefused(otn string, refused bool) {
	for s := range c.subs[otn] {
		if s.refused != refused {
			s.refused = refused
			latest(s.refusals, refused)
		}
	}
}
