package cli

import (
	"context"
	"log/slog"
	"net/url"
	"strings"

	"qrkiosk/payment"
	"qrkiosk/payment/qfpay"
	"qrkiosk/relay"
)

// relayPush connects to the notify relay when QRKIOSK_RELAY_URL is set;
// otherwise the order is followed by polling alone.
func relayPush(ctx context.Context, env Env, client *qfpay.Client) (Push, bool, func(), error) {
	raw := strings.TrimSpace(env.Getenv("QRKIOSK_RELAY_URL"))
	if raw == "" {
		return nil, false, func() {}, nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
		return nil, false, nil, usagef("QRKIOSK_RELAY_URL %q: must be a ws:// or wss:// URL of the relay's /ws", raw)
	}
	token := strings.TrimSpace(env.Getenv("QRKIOSK_RELAY_TOKEN"))
	if token == "" {
		return nil, false, nil, usagef("QRKIOSK_RELAY_TOKEN: is required with QRKIOSK_RELAY_URL")
	}
	log := env.Logger()
	rc := relay.NewClient(relay.ClientConfig{URL: raw, Token: token, UDID: env.Getenv(qfpay.EnvUDID), Logger: log})
	rctx, cancel := context.WithCancel(ctx)
	go rc.Run(rctx)
	push := func(o *payment.Order) func() { return Attach(rc, o, client.VerifyNotification, log) }
	return push, rc.Up(), cancel, nil
}

// Attach feeds an order from the relay: every message is verified again
// with the merchant's key (the relay is not trusted blindly), parsed, and
// handed to the order's machine, which cross-checks it against the order.
// Link changes adapt the machine's polling. It returns a stop function.
func Attach(rc *relay.Client, o *payment.Order, verify func(body []byte, sign string) error, log *slog.Logger) (stop func()) {
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
				if err := verify(m.Body, m.Sign); err != nil {
					log.Warn("relay message with a bad signature ignored", "out_trade_no", otn, "syssn", m.SysSN, "err", err)
					continue
				}
				n, err := qfpay.ParseNotification(m.Body)
				if err != nil {
					log.Warn("relay message not a notification", "out_trade_no", otn, "err", err)
					continue
				}
				o.Notify(n.Transaction)
			}
		}
	}()
	return func() {
		close(done)
		unsubscribe()
		unwatch()
	}
}
