package relayclient

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"qrkiosk/relay/wire"
)

// refusingRelay is a relay stand-in that answers each subscribe with the
// frames answer gives (a refusal, an acknowledgement, other errors).
func refusingRelay(t *testing.T, answer func(otn string) []wire.RelayFrame) (url string, connections *atomic.Int32) {
	t.Helper()
	connections = &atomic.Int32{}
	up := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		connections.Add(1)
		for {
			var req wire.KioskFrame
			if ws.ReadJSON(&req) != nil {
				return
			}
			if req.Type != wire.TypeSubscribe {
				continue
			}
			for _, m := range answer(req.OutTradeNo) {
				ws.WriteJSON(m)
			}
		}
	}))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws", connections
}

func nextRefusal(t *testing.T, s *Subscription) bool {
	t.Helper()
	select {
	case r := <-s.Refusals():
		return r
	case <-time.After(5 * time.Second):
		t.Fatal("no change of the subscription's refusal")
		return false
	}
}

// A refusal is an error frame naming an order the client follows, whatever
// its text; it is told to that order's followers only, and a later
// subscribe that the relay confirms (after a reconnect) lifts it.
func TestFollowReportsARefusedSubscription(t *testing.T) {
	var accept atomic.Bool
	url, conns := refusingRelay(t, func(otn string) []wire.RelayFrame {
		if accept.Load() {
			return []wire.RelayFrame{{Type: wire.TypeSubscribed, OutTradeNo: otn}}
		}
		if otn == "O-KEPT" {
			// Errors that name no order this client follows are no refusal
			// of O-KEPT: one without an order, one for another order.
			return []wire.RelayFrame{{Type: wire.TypeError, Error: "not a JSON message"}, {Type: wire.TypeError, OutTradeNo: "O-ELSE", Error: "x"},
				{Type: wire.TypeSubscribed, OutTradeNo: otn}}
		}
		return []wire.RelayFrame{{Type: wire.TypeError, OutTradeNo: otn, Error: "any words at all"}}
	})
	c := NewClient(Config{URL: url, Token: "t", MinBackoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond})
	kept := c.Follow("O-KEPT")
	defer kept.Close()
	refused := c.Follow("O-TAKEN")
	defer refused.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go c.Run(ctx)
	if !nextRefusal(t, refused) || !refused.Refused() {
		t.Fatal("the refused subscription is not reported refused")
	}
	waitUp(t, c) // the link itself counts as up
	if kept.Refused() {
		t.Fatal("an error naming no order of this subscription refused it")
	}
	select {
	case <-kept.Refusals():
		t.Fatal("a confirmed subscription was told of a refusal")
	default:
	}
	// A second follower of the same order shares the relay's answer.
	again := c.Follow("O-TAKEN")
	if !again.Refused() {
		t.Fatal("a second follower of a refused order is not told")
	}
	again.Close()

	accept.Store(true)
	c.mu.Lock()
	ws := c.ws
	c.mu.Unlock()
	ws.Close() // reconnect: subscribed again, and confirmed this time
	if nextRefusal(t, refused) || refused.Refused() {
		t.Fatal("a confirmed resubscription still reports the refusal")
	}
	if conns.Load() < 2 {
		t.Fatalf("%d connections: the client did not reconnect", conns.Load())
	}
}

// FuzzClientFrame: whatever a relay sends, a frame changes only the
// subscriptions of the order it names — a refusal by an error naming it,
// a notification delivered to it — and never panics the client.
func FuzzClientFrame(f *testing.F) {
	for _, s := range []string{
		`{"type":"error","out_trade_no":"O-1","error":"refused"}`, `{"type":"error","error":"not a JSON message"}`,
		`{"type":"subscribed","out_trade_no":"O-2","replayed":0}`, `{"type":"notification","out_trade_no":"O-2","syssn":"S","body":"e30="}`,
		`{"type":"error","out_trade_no":"O-3"}`, `{}`, `not json`, `{"type":"notification","body":"!!"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		c := NewClient(Config{URL: "ws://127.0.0.1:1/ws"})
		subs := map[string]*Subscription{"O-1": c.Follow("O-1"), "O-2": c.Follow("O-2")}
		c.handle(frame)
		var m wire.RelayFrame
		decoded := json.Unmarshal(frame, &m) == nil
		for otn, s := range subs {
			named := decoded && m.OutTradeNo == otn
			if want := named && m.Type == wire.TypeError; s.Refused() != want {
				t.Fatalf("%s refused %v after %q", otn, s.Refused(), frame)
			}
			select {
			case <-s.Messages():
				if !named || m.Type != wire.TypeNotification {
					t.Fatalf("%s was delivered %q", otn, frame)
				}
			default:
			}
			s.Close()
		}
	})
}

func waitUp(t *testing.T, c *Client) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !c.Up() {
		if time.Now().After(deadline) {
			t.Fatal("client not up")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
