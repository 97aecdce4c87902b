package kiosk

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"qrkiosk/payment"
	"qrkiosk/payment/paymenttest"
	"qrkiosk/relay/relayclient"
	"qrkiosk/relay/wire"
)

// standIn is a relay that refuses every subscription, as the relay does
// when another kiosk of the merchant claimed the order first, until told
// to accept them.
type standIn struct {
	url    string
	accept atomic.Bool

	mu    sync.Mutex
	conns []*websocket.Conn
}

func newStandIn(t *testing.T) *standIn {
	t.Helper()
	r := &standIn{}
	up := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		ws, err := up.Upgrade(w, req, nil)
		if err != nil {
			return
		}
		r.mu.Lock()
		r.conns = append(r.conns, ws)
		r.mu.Unlock()
		defer ws.Close()
		for {
			var sub struct {
				Type       string `json:"type"`
				OutTradeNo string `json:"out_trade_no"`
			}
			if ws.ReadJSON(&sub) != nil {
				return
			}
			if sub.Type != wire.TypeSubscribe {
				continue
			}
			answer := map[string]any{"type": wire.TypeError, "out_trade_no": sub.OutTradeNo, "error": "refused"}
			if r.accept.Load() {
				answer = map[string]any{"type": wire.TypeSubscribed, "out_trade_no": sub.OutTradeNo, "replayed": 0}
			}
			ws.WriteJSON(answer) // this handler is its connection's only writer
		}
	}))
	t.Cleanup(srv.Close)
	r.url = "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws"
	return r
}

// drop closes every connection, as a relay restart does.
func (r *standIn) drop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.conns {
		c.Close()
	}
	r.conns = nil
}

// A subscription the relay refuses brings no push for its order, however
// up the link is: the order is polled at the no-push rate (2 s), not at
// the 15 s safety rate. Once a resubscribe after a reconnect is
// confirmed, the order counts on push again.
func TestRefusedSubscriptionPollsFast(t *testing.T) {
	r := newStandIn(t)
	rc := relayclient.NewClient(relayclient.Config{URL: r.url, Token: "t", MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go rc.Run(ctx)
	paymenttest.Eventually(t, "the link up", 5*time.Second, rc.Up)

	gw := paymenttest.NewGateway()
	clock := paymenttest.NewClock(time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC))
	pt, _ := payment.LookupPayType("alipayhk")
	cur, _ := payment.LookupCurrency("HKD")
	events := make(chan payment.EventKind, 100)
	o := payment.StartOrder(ctx, payment.MachineConfig{Gateway: gw, Clock: clock, PushUp: rc.Up()},
		payment.CreateRequest{OutTradeNo: "QK1", Amount: payment.Amount{Minor: 1234, Currency: cur}, PayType: pt, Expiry: 5 * time.Minute, TxTime: clock.Now()},
		func(e payment.Event) { events <- e.Kind })
	detach := attach(rc, o, gw, slog.New(slog.DiscardHandler))
	defer func() { cancel(); <-o.Closed(); detach() }()

	until := func(want payment.EventKind) {
		t.Helper()
		for timeout := time.After(5 * time.Second); ; {
			select {
			case k := <-events:
				if k == want {
					return
				}
			case <-timeout:
				t.Fatalf("no %s event; push up %v", want, o.Snapshot().PushUp)
			}
		}
	}
	nextPoll := func() time.Duration {
		t.Helper()
		paymenttest.Eventually(t, "the deadline and the next poll armed", 5*time.Second, func() bool { return clock.Pending() == 2 })
		d, _ := clock.NextTimer()
		return d
	}

	until(payment.EventPushDown)
	if !rc.Up() {
		t.Fatal("the link itself went down; only the subscription was refused")
	}
	if d := nextPoll(); d != 2*time.Second {
		t.Fatalf("next poll in %v with the subscription refused, want 2 s", d)
	}

	r.accept.Store(true)
	r.drop() // the kiosk reconnects and subscribes again: confirmed this time
	until(payment.EventPushUp)
	paymenttest.Eventually(t, "the query on reconnect", 5*time.Second, func() bool { return gw.Count("query") == 1 })
	if d := nextPoll(); d != 15*time.Second {
		t.Fatalf("next poll in %v with the subscription confirmed, want the 15 s safety poll", d)
	}
}
