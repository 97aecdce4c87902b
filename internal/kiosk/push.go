package kiosk

import (
	"log/slog"
	"sync"

	"qrkiosk/payment"
	"qrkiosk/relay/relayclient"
)

// attach feeds an order from the relay: every message is verified again
// with the merchant's key (the relay is not trusted blindly) and handed to
// the order's machine, which cross-checks it against the order and asks
// the gateway before it believes it. The order's push path is up while the
// link is and the relay took the subscription of its current
// out_trade_no: a refused one (another kiosk of the merchant claimed the
// order first) brings nothing, so the order polls as without push. An
// order reissued under a new out_trade_no (its QR was lost) is followed
// under that one too. It returns a stop function.
func attach(rc *relayclient.Client, o *payment.Order, verify payment.NotificationVerifier, log *slog.Logger) (stop func()) {
	done := make(chan struct{})
	msgs := make(chan relayclient.Message)
	followed := make(chan *relayclient.Subscription)
	var mu sync.Mutex
	var subs []*relayclient.Subscription
	stopped := false
	subscribe := func(otn string) *relayclient.Subscription {
		mu.Lock()
		defer mu.Unlock()
		if stopped {
			return nil
		}
		s := rc.Follow(otn)
		subs = append(subs, s)
		go func() {
			for m := range s.Messages() {
				select {
				case msgs <- m:
				case <-done:
					return
				}
			}
		}()
		return s
	}
	cur := subscribe(o.Snapshot().OutTradeNo)
	stopObserving := o.Observe(func(e payment.Event) {
		if e.Kind == payment.EventReissued {
			go func() { // observers must not block the machine
				if s := subscribe(e.OutTradeNo); s != nil {
					select {
					case followed <- s:
					case <-done:
					}
				}
			}()
		}
	})
	link, unwatch := rc.WatchLink()
	go func() {
		linkUp := rc.Up()
		report := func() { o.PushLink(linkUp && !cur.Refused()) }
		report()
		for {
			select {
			case <-done:
				return
			case <-o.Closed():
				return
			case linkUp = <-link:
				report()
			case s := <-followed:
				cur = s
				report()
			case <-cur.Refusals():
				report()
			case m := <-msgs:
				t, err := verify.VerifyNotification(m.Body, m.Sign)
				if err != nil {
					log.Warn("relay message refused: not a notification signed with the merchant's key", "out_trade_no", m.OutTradeNo, "syssn", m.SysSN, "err", err)
					continue
				}
				o.Notify(*t)
			}
		}
	}()
	return func() {
		stopObserving()
		close(done)
		mu.Lock()
		defer mu.Unlock()
		stopped = true
		for _, s := range subs {
			s.Close()
		}
		unwatch()
	}
}
