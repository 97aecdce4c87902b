package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// fakeRelay is a relay that has been broken into: it holds the merchant's
// key (as every relay does, to check what the gateway posts) and signs with
// it what the attacker likes. It acknowledges every subscription.
type fakeRelay struct {
	url  string
	subs chan string // out_trade_no of each subscription

	mu   sync.Mutex
	conn *websocket.Conn
}

func startFakeRelay(t *testing.T) *fakeRelay {
	t.Helper()
	f := &fakeRelay{subs: make(chan string, 16)}
	up := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		f.mu.Lock()
		f.conn = ws
		f.mu.Unlock()
		for {
			var req struct {
				Type       string `json:"type"`
				OutTradeNo string `json:"out_trade_no"`
			}
			if err := ws.ReadJSON(&req); err != nil {
				return
			}
			if req.Type == "subscribe" {
				f.send(t, map[string]any{"type": "subscribed", "out_trade_no": req.OutTradeNo, "replayed": 0})
				f.subs <- req.OutTradeNo
			}
		}
	}))
	t.Cleanup(srv.Close)
	f.url = "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws"
	return f
}

func (f *fakeRelay) send(t *testing.T, m map[string]any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.conn.WriteJSON(m); err != nil {
		t.Errorf("fake relay: %v", err)
	}
}

// subscribed waits for the kiosk to subscribe to otn.
func (f *fakeRelay) subscribed(t *testing.T, otn string) {
	t.Helper()
	deadline := time.After(15 * time.Second)
	for {
		select {
		case got := <-f.subs:
			if got == otn {
				return
			}
		case <-deadline:
			t.Fatalf("the kiosk never subscribed to %s", otn)
		}
	}
}

// The attack of issue 20: a relay holding the merchant's key pushes a
// genuinely signed "paid" for an order the customer never paid (the
// gateway answers 1143). The charge shows it is confirming, the gateway
// disputes it, and the charge never exits 0; the cashier can still cancel.
func TestChargeNotPaidOnAForgedPush(t *testing.T) {
	base, _ := startSim(t)
	relay := startFakeRelay(t)
	p, created := charge(t, base, []string{"QRKIOSK_RELAY_URL=" + relay.url, "QRKIOSK_RELAY_TOKEN=e2e-token"}, "--amount", "15.00")
	relay.subscribed(t, created.OutTradeNo)
	body := fmt.Appendf(nil, `{"notify_type":"payment","status":"1","respcd":"0000","syssn":%q,"out_trade_no":%q,`+
		`"txamt":"%d","txcurrcd":%q,"pay_type":%q,"udid":"e2e-kiosk","sysdtm":%q}`,
		created.SysSN, created.OutTradeNo, created.TxAmt, created.Currency, created.PayType, time.Now().Format("2006-01-02 15:04:05"))
	relay.send(t, map[string]any{"type": "notification", "out_trade_no": created.OutTradeNo, "syssn": created.SysSN,
		"notify_type": "payment", "body": body, "sign": signMD5(body, key), "sign_type": "MD5"})

	p.untilEvent("confirming_paid", 15*time.Second)
	p.untilEvent("push_disputed", 15*time.Second)
	if err := p.Cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	last, code := p.lastEvent(30 * time.Second)
	if code == 0 || last.Event != "cancelled" {
		t.Fatalf("exit %d, last event %+v; want the order cancelled (exit 3), never paid", code, last)
	}
	if orders := simOrders(t, base); len(orders) != 1 || orders[0].Respcd == "0000" {
		t.Fatalf("gateway holds %+v", orders)
	}
	var logged []string
	for _, l := range strings.Split(p.Stderr.String(), "\n") {
		if strings.Contains(l, "push disagreed") {
			logged = append(logged, l)
		}
	}
	if len(logged) != 1 {
		t.Fatalf("want one warning that the push disagreed with the gateway; stderr:\n%s", p.Stderr.String())
	}
	if b, _ := json.Marshal(logged); strings.Contains(string(b), key) {
		t.Fatal("the merchant's key is in the log")
	}
}
