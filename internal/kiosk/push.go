package kiosk

import (
	"log/slog"

	"qrkiosk/payment"
	"qrkiosk/relay"
)

// attach feeds an order from the relay: every message is verified again
// with the merchant's key (the relay is not trusted blindly) and handed to
// the order's machine, which cross-checks it against the order. Link
// changes adapt the machine's polling. It returns a stop function.
func attach(rc *relay.Client, o *payment.Order, verify payment.NotificationVerifier, log *slog.Logger) (stop func()) {
	otn := o.Snapshot().OutTradeNo
	msgs, unsubscribe := rc.Subscribe(otn)
	link, unwatch := rc.WatchLink()
	done := make(chan struct{})
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
			case m, ok := <-msgs:
				if !ok {
					return
				}
				t, err := verify.VerifyNotification(m.Body, m.Sign)
				if err != nil {
					log.Warn("relay message refused: not a notification signed with the merchant's key", "out_trade_no", otn, "syssn", m.SysSN, "err", err)
					continue
				}
				o.Notify(*t)
			}
		}
	}()
	return func() {
		close(done)
		unsubscribe()
		unwatch()
	}
}
