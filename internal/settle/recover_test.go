package settle

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"qrkiosk/internal/journal"
	"qrkiosk/payment"
	"qrkiosk/payment/paymenttest"
	"qrkiosk/payment/qfpay"
)

// Each case leaves an order the way a crash at one step would, then a new
// process (a new Journal on the same directory) recovers it.
func TestRecover(t *testing.T) {
	cases := []struct {
		name string
		// crash leaves the order behind; it returns the syssn if the
		// gateway has the order.
		crash       func(t *testing.T, j *journal.Journal, g *gateway, req payment.CreateRequest) string
		age         time.Duration // how long before the restart the sale was rung up
		payWhileOff bool
		wantState   payment.State
		wantOffline bool
		wantGateway string // the sim's respcd, "" = no order there
		wantCancel  int
		// wantReplaced: the order's QR was lost; it is withdrawn and a new
		// one, awaiting payment, continues the sale.
		wantReplaced bool
	}{
		{
			name:      "before the create was sent",
			crash:     func(*testing.T, *journal.Journal, *gateway, payment.CreateRequest) string { return "" },
			wantState: payment.StateFailed,
		},
		{
			name: "create reached the gateway, answer lost",
			crash: func(t *testing.T, j *journal.Journal, g *gateway, req payment.CreateRequest) string {
				c, err := g.client.CreateMPM(context.Background(), req) // not journaled: the process died first
				if err != nil {
					t.Fatal(err)
				}
				return c.SysSN
			},
			wantState: payment.StateCancelled, wantReplaced: true,
		},
		{
			name:      "after the create answer, paid while down",
			crash:     createJournaled,
			wantState: payment.StatePaid, payWhileOff: true, wantOffline: true, wantGateway: "0000",
		},
		{
			name:      "after the create answer, unpaid, still before the deadline",
			crash:     createJournaled,
			wantState: payment.StateAwaitingPayment, wantGateway: "1143",
		},
		{
			name:      "unpaid, past the deadline: withdrawn",
			crash:     createJournaled,
			age:       6 * time.Minute,
			wantState: payment.StateExpired, wantGateway: "1142", wantCancel: qfpay.CancelFlagMPMCancelled,
		},
		{
			name:      "paid while down, past the deadline",
			crash:     createJournaled,
			age:       6 * time.Minute,
			wantState: payment.StatePaid, payWhileOff: true, wantOffline: true, wantGateway: "0000",
		},
		{
			name: "during the cashier's cancel",
			crash: func(t *testing.T, j *journal.Journal, g *gateway, req payment.CreateRequest) string {
				sys := createJournaled(t, j, g, req)
				j.Observer()(payment.Event{Kind: "cancelling", Snapshot: payment.Snapshot{OutTradeNo: req.OutTradeNo, SysSN: sys, State: payment.StateAwaitingPayment, Cancelling: true}})
				return sys
			},
			wantState: payment.StateCancelled, wantGateway: "1142", wantCancel: qfpay.CancelFlagMPMCancelled,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := newGateway(t)
			dir := t.TempDir()
			j := open(t, dir)
			req := request("QK-REC", 2500, alipay, time.Now().Add(-c.age))
			if err := j.Begin(context.Background(), req); err != nil {
				t.Fatal(err)
			}
			sys := c.crash(t, j, g, req)
			if c.payWhileOff {
				if err := g.sim.Pay(sys); err != nil {
					t.Fatal(err)
				}
			}
			j.Close()

			j = open(t, dir)
			var mu sync.Mutex
			var alerts []journal.Alert
			j.OnAlert(func(a journal.Alert) { mu.Lock(); alerts = append(alerts, a); mu.Unlock() })
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			rec, err := Recover(ctx, j, fastMachine(g.client))
			if err != nil || len(rec.Orders) != 1 {
				t.Fatalf("recover: %v, %d orders", err, len(rec.Orders))
			}
			wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
			defer wcancel()
			if err := rec.Wait(wctx); err != nil {
				t.Fatalf("wait: %v (snapshot %+v)", err, rec.Orders[0].Snapshot())
			}
			got, _ := j.Order(ctx, "QK-REC")
			if got.State != c.wantState || got.PaidOffline != c.wantOffline {
				t.Fatalf("journal: %v offline=%v; want %v offline=%v (%s)", got.State, got.PaidOffline, c.wantState, c.wantOffline, got.Reason)
			}
			mu.Lock()
			if c.wantOffline && (len(alerts) != 1 || alerts[0].Kind != journal.AlertPaidOffline || alerts[0].Order.OutTradeNo != "QK-REC") {
				t.Fatalf("alerts %+v, want one paid_offline", alerts)
			}
			mu.Unlock()
			orders := g.sim.Orders()
			if c.wantReplaced {
				next, err := j.Order(ctx, got.ReplacedBy)
				if err != nil || next.State != payment.StateAwaitingPayment || next.Replaces != "QK-REC" || len(orders) != 2 ||
					orders[0].OutTradeNo != "QK-REC" || orders[0].Cancel != qfpay.CancelFlagMPMCancelled || orders[1].OutTradeNo != next.OutTradeNo {
					t.Fatalf("replaced by %+v (%v); gateway %+v", next, err, orders)
				}
				return
			}
			switch {
			case c.wantGateway == "" && len(orders) != 0:
				t.Fatalf("gateway holds %+v, want nothing", orders)
			case c.wantGateway != "" && (len(orders) != 1 || string(orders[0].Respcd) != c.wantGateway || orders[0].Cancel != c.wantCancel):
				t.Fatalf("gateway holds %+v, want one with respcd %s cancel %d", orders, c.wantGateway, c.wantCancel)
			}
			if c.wantState == payment.StateAwaitingPayment {
				// Resumed: a payment now is an ordinary one, not an offline one.
				if err := g.sim.Pay(orders[0].SysSN); err != nil {
					t.Fatal(err)
				}
				waitDone(t, rec.Orders[0])
				if got, _ := j.Order(ctx, "QK-REC"); got.State != payment.StatePaid || got.PaidOffline {
					t.Fatalf("resumed order after paying: %v offline=%v", got.State, got.PaidOffline)
				}
			}
			cancel()
			<-rec.Orders[0].Closed()
			if more, _ := j.Pending(context.Background()); len(more) != 0 && c.wantState.Final() {
				t.Fatalf("still pending after recovery: %+v", more)
			}
		})
	}
}

func createJournaled(t *testing.T, j *journal.Journal, g *gateway, req payment.CreateRequest) string {
	t.Helper()
	c, err := Journaled(j, g.client).CreateMPM(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	return c.SysSN
}

func TestRecoverNothing(t *testing.T) {
	g := newGateway(t)
	j := open(t, t.TempDir())
	rec, err := Recover(context.Background(), j, fastMachine(g.client))
	if err != nil || len(rec.Orders) != 0 || rec.Wait(context.Background()) != nil {
		t.Fatalf("%+v, %v", rec, err)
	}
}

func TestPaidLateAlert(t *testing.T) {
	g := newGateway(t)
	j := open(t, t.TempDir())
	alerts := make(chan journal.Alert, 4)
	j.OnAlert(func(a journal.Alert) { alerts <- a })
	// PayMe is closed on cancel; here the close is refused as if the
	// gateway were slow to see it, and the customer pays after Cancelled.
	o, err := Start(context.Background(), j, fastMachine(g.client), request("QK-LATE", 800, payme, time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "created", func() bool { return o.Snapshot().SysSN != "" })
	o.Cancel()
	if s := waitDone(t, o); s.State != payment.StateCancelled {
		t.Fatalf("state %v", s.State)
	}
	// The customer pays after all; the push is believed once the gateway's
	// record confirms it.
	if err := g.sim.Pay(o.Snapshot().SysSN); err != nil {
		t.Fatal(err)
	}
	o.Notify(payment.Transaction{Kind: "payment", SysSN: o.Snapshot().SysSN, OutTradeNo: "QK-LATE", TxAmt: 800, Currency: "HKD", Code: qfpay.CodeSuccess, Status: payment.OutcomePaid})
	select {
	case a := <-alerts:
		if a.Kind != journal.AlertPaidLate || a.Order.OutTradeNo != "QK-LATE" || !a.Order.Late || a.Order.State != payment.StatePaid {
			t.Fatalf("alert %+v", a)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no paid_late alert")
	}
}

// testdata/journal-v1.db of the journal's tests was written by the first
// release: its FPS order left awaiting payment was sent to QFPay.
const v1Live = "QK20261101040500bbbbbbbbbbbbbbbb"

// An unfinished order of another gateway than the kiosk's is left alone:
// it cannot be checked now, and is the kiosk's to settle once it runs
// with that gateway again.
func TestRecoverLeavesAnotherGatewaysOrders(t *testing.T) {
	dir := t.TempDir()
	b, err := os.ReadFile(filepath.Join("..", "journal", "testdata", "journal-v1.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, journal.FileName), b, 0o600); err != nil {
		t.Fatal(err)
	}
	j, err := journal.Open(journal.Options{Dir: dir, Gateway: "scanforpay"})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	gw := paymenttest.NewGateway()
	rec, err := Recover(context.Background(), j, payment.MachineConfig{Gateway: gw})
	if err != nil || len(rec.Orders) != 0 || len(rec.Foreign) != 1 || rec.Foreign[0].OutTradeNo != v1Live || gw.Count("query") != 0 {
		t.Fatalf("recovery with another gateway: %+v, %v, calls %v", rec, err, gw.Calls())
	}
}
