package kiosk

import (
	"log/slog"
	"sync"

	"qrkiosk/payment"
	"qrkiosk/relay"
)

// attach feeds an order from the relay: every message is verified again
// with the merchant's key (the relay is not trusted blindly) and handed to
// the order's machine, which cross-checks it against the order. Link
// changes adapt the machine's polling. An order reissued under a new
// out_trade_no (its QR was lost) is followed under that one too. It
// returns a stop function.
func attach(rc *relay.Client, o *payment.Order, verify payment.NotificationVerifier, log *slog.Logger) (stop func()) {
	done := make(chan struct{})
	msgs := make(chan relay.Message)
	var mu sync.Mutex
	var unsubscribe []func()
	stopped := false
	subscribe := func(otn string) {
		mu.Lock()
		defer mu.Unlock()
		if stopped {
			return
		}
		ch, unsub := rc.Subscribe(otn)
		unsubscribe = append(unsubscribe, unsub)
		go func() {
			for m := range ch {
				select {
				case msgs <- m:
				case <-done:
					return
				}
			}
		}()
	}
	subscribe(o.Snapshot().OutTradeNo)
	stopObserving := o.Observe(func(e payment.Event) {
		if e.Kind == payment.EventReissued {
			go subscribe(e.OutTradeNo) // observers must not block the machine
		}
	})
	link, unwatch := rc.WatchLink()
	go func() {
		o.PushLink(rc.Up())
		for {
			select {
			case <-done:
				return
			case <-o.Closed():
				return
			case up := <-link:
				o.PushLink(up)
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
		for _, u := range unsubscribe {
			u()
		}
		unwatch()
	}
}
