package relayclient

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"qrkiosk/relay/wire"
)

func okReceipt() wire.Receipt {
	return wire.Receipt{Kind: wire.ReceiptSale, Time: time.Now(), Amount: 880, Currency: "HKD", Wallet: wire.Names{En: "PayMe"},
		Status: wire.ReceiptPaid, SysSN: "S1", OutTradeNo: "QK1"}
}

// receiptRelay is a relay stand-in that answers each receipt frame as
// answer says (nil: it hangs up instead).
func receiptRelay(t *testing.T, answer func(f wire.KioskFrame) *wire.RelayFrame) *Client {
	t.Helper()
	up := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		for {
			var f wire.KioskFrame
			if ws.ReadJSON(&f) != nil || f.Type != wire.TypeReceipt {
				return
			}
			a := answer(f)
			if a == nil {
				return
			}
			ws.WriteJSON(a)
		}
	}))
	t.Cleanup(srv.Close)
	c := NewClient(Config{URL: "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws", MaxBackoff: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	for deadline := time.Now().Add(5 * time.Second); !c.Up(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("not connected")
		}
	}
	return c
}

// The relay's answer goes to the receipt it names: its link, or its
// refusal; an answer naming no receipt is not a subscription refusal.
func TestPutReceiptGetsItsAnswer(t *testing.T) {
	c := receiptRelay(t, func(f wire.KioskFrame) *wire.RelayFrame {
		if f.Receipt.OutTradeNo == "QK-REFUSED" {
			return &wire.RelayFrame{Type: wire.TypeError, Ref: f.Ref, Error: "limit"}
		}
		return &wire.RelayFrame{Type: wire.TypeReceiptStored, Ref: f.Ref, URL: "https://relay.example.invalid/r/" + f.Receipt.OutTradeNo}
	})
	ctx := context.Background()
	if url, err := c.PutReceipt(ctx, okReceipt()); err != nil || url != "https://relay.example.invalid/r/QK1" {
		t.Fatalf("%q %v", url, err)
	}
	r := okReceipt()
	r.OutTradeNo = "QK-REFUSED"
	var refused *RefusedError
	if _, err := c.PutReceipt(ctx, r); !errors.As(err, &refused) || refused.Msg != "limit" {
		t.Fatalf("refusal: %v", err)
	}
	r.Amount = 0
	if _, err := c.PutReceipt(ctx, r); err == nil || !strings.Contains(err.Error(), "amount") {
		t.Fatalf("a bad receipt was sent: %v", err)
	}
}

// A receipt has no link when the relay is not there, hangs up before
// answering, or does not answer in time; the sender is never left waiting.
func TestPutReceiptWithoutARelay(t *testing.T) {
	if _, err := NewClient(Config{URL: "ws://127.0.0.1:1/ws"}).PutReceipt(context.Background(), okReceipt()); !errors.Is(err, ErrNotConnected) {
		t.Errorf("never connected: %v", err)
	}
	hangUp := receiptRelay(t, func(wire.KioskFrame) *wire.RelayFrame { return nil })
	if _, err := hangUp.PutReceipt(context.Background(), okReceipt()); !errors.Is(err, ErrNotConnected) {
		t.Errorf("hung up: %v", err)
	}
	silent := receiptRelay(t, func(f wire.KioskFrame) *wire.RelayFrame {
		return &wire.RelayFrame{Type: wire.TypeReceiptStored, Ref: "other"}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := silent.PutReceipt(ctx, okReceipt()); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("no answer: %v", err)
	}
}
