package kiosk

import (
	"context"
	"errors"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"qrkiosk/internal/journal"
	"qrkiosk/internal/proctest"
	"qrkiosk/internal/settle"
	"qrkiosk/payment"
	"qrkiosk/payment/paymenttest"
	"qrkiosk/payment/scanforpay"
	"qrkiosk/sim/sfpsim"
)

// sfpGateway is a ScanForPay simulator on loopback with a clock the test
// moves, and the settings that point a kiosk at it.
type sfpGateway struct {
	sim   *sfpsim.Sim
	vars  []string
	clock *paymenttest.Clock
}

func newSFP(t *testing.T, cfg sfpsim.Config) *sfpGateway {
	t.Helper()
	g := &sfpGateway{clock: paymenttest.NewClock(time.Now())}
	cfg.PartnerNo, cfg.StoreNo, cfg.Key = "10001", "100010000000002", "KIOSKTESTKEY"
	cfg.Now = g.clock.Now
	g.sim = sfpsim.New(cfg)
	srv := httptest.NewServer(g.sim)
	g.sim.SetBaseURL(srv.URL)
	t.Cleanup(func() { srv.Close(); g.sim.Close() })
	g.vars = []string{"QRKIOSK_GATEWAY", "scanforpay", "SCANFORPAY_BASE_URL", srv.URL, "SCANFORPAY_PARTNER_NO", "10001",
		"SCANFORPAY_STORE_NO", "100010000000002", "SCANFORPAY_KEY", "KIOSKTESTKEY"}
	return g
}

func openSFP(t *testing.T, g *sfpGateway, dir string) *Kiosk {
	t.Helper()
	k, err := Open(Options{DataDir: dir, Getenv: env(t, "", g.vars...)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(k.Close)
	return k
}

// sale rings up amount on wallet and waits for its QR.
func sale(t *testing.T, k *Kiosk, minor int64, wallet string) (*payment.Order, payment.Snapshot) {
	t.Helper()
	pt, err := payment.PayTypesOf(k.Gateway).Lookup(wallet)
	if err != nil {
		t.Fatal(err)
	}
	created := make(chan payment.Snapshot, 1)
	o, err := k.Start(payment.CreateRequest{OutTradeNo: payment.NewOutTradeNo("QK", time.Now()), Amount: payment.Amount{Minor: minor, Currency: k.Config.Currency},
		PayType: pt, Expiry: 5 * time.Minute, TxTime: time.Now()}, func(e payment.Event) {
		if e.Kind == payment.EventCreated {
			created <- e.Snapshot
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case s := <-created:
		return o, s
	case <-time.After(10 * time.Second):
		t.Fatalf("no QR: %+v", o.Snapshot())
	}
	return nil, payment.Snapshot{}
}

func waitState(t *testing.T, o *payment.Order, want payment.State) payment.Snapshot {
	t.Helper()
	paymenttest.Eventually(t, "order "+want.String(), 15*time.Second, func() bool { return o.Snapshot().State == want })
	return o.Snapshot()
}

// The kiosk on ScanForPay: the one order machine, the journal with the
// gateway's own pay types, history totals and a full refund through the
// gateway-neutral core.
func TestKioskOnScanForPay(t *testing.T) {
	g := newSFP(t, sfpsim.Config{})
	k := openSFP(t, g, t.TempDir())
	if k.Gateway.Name() != scanforpay.Name || k.Demo != nil {
		t.Fatalf("gateway %s, demo %v", k.Gateway.Name(), k.Demo)
	}
	if _, ok := k.Gateway.(payment.DayLister); ok {
		t.Fatal("the ScanForPay client claims a day listing it does not have")
	}
	o, s := sale(t, k, 2500, "alipay")
	if s.PayType.Cancel != payment.CancelNone {
		t.Fatalf("pay type %+v: ScanForPay has no cancel", s.PayType)
	}
	if err := g.sim.Pay(s.SysSN); err != nil {
		t.Fatal(err)
	}
	waitState(t, o, payment.StatePaid)

	ctx := context.Background()
	rec, err := k.Journal.Order(ctx, s.OutTradeNo)
	if err != nil || rec.Gateway != scanforpay.Name || rec.State != payment.StatePaid || rec.PayType.Cancel != payment.CancelNone {
		t.Fatalf("journal: %+v, %v", rec, err)
	}
	day, err := k.Journal.Today(ctx)
	if err != nil || len(day.Totals) != 1 || day.Totals[0].PayType.Wallet != "alipay" || day.Totals[0].Paid != 2500 {
		t.Fatalf("today: %+v, %v", day.Totals, err)
	}
	r, err := k.Refund(ctx, s.OutTradeNo, 0)
	if err != nil || r.State != journal.RefundDone || r.Amount.Minor != 2500 {
		t.Fatalf("refund: %+v, %v", r, err)
	}
	if got := g.sim.Orders()[0]; got.Status != scanforpay.StatusRefunded {
		t.Fatalf("gateway after the refund: %+v", got)
	}
}

// A refund ScanForPay answers "dealing" is pending, never sent again, and
// settled at the next start once payQuery shows the payment refunded.
func TestKioskScanForPayDealingRefund(t *testing.T) {
	g := newSFP(t, sfpsim.Config{RefundDealingRate: 1, RefundDelay: time.Hour})
	dir := t.TempDir()
	k := openSFP(t, g, dir)
	o, s := sale(t, k, 900, "wechat")
	g.sim.Pay(s.SysSN)
	waitState(t, o, payment.StatePaid)
	ctx := context.Background()
	r, err := k.Refund(ctx, s.OutTradeNo, 0)
	if !errors.Is(err, settle.ErrRefundProcessing) || r.State != journal.RefundPending {
		t.Fatalf("dealing refund: %+v, %v", r, err)
	}
	k.Close()

	k = openSFP(t, g, dir)
	rec, err := k.Recover(ctx)
	if err != nil || len(rec.Refunds) != 0 {
		t.Fatalf("recovery while still dealing: %+v, %v", rec.Refunds, err)
	}
	g.clock.Advance(time.Hour)
	rec, err = k.Recover(ctx)
	if err != nil || len(rec.Refunds) != 1 || rec.Refunds[0].State != journal.RefundDone {
		t.Fatalf("recovery once done: %+v, %v", rec.Refunds, err)
	}
	if n := len(g.sim.Refunds()); n != 1 {
		t.Fatalf("%d refunds at the gateway; a dealing refund is never sent again", n)
	}
}

// A sale left unfinished by a crash is resumed at the next start and
// found paid: never created again.
func TestKioskScanForPayRecovery(t *testing.T) {
	g := newSFP(t, sfpsim.Config{})
	dir := t.TempDir()
	k := openSFP(t, g, dir)
	_, s := sale(t, k, 1234, "alipay")
	k.Close() // the machine stops with the order still awaiting payment
	if err := g.sim.Pay(s.SysSN); err != nil {
		t.Fatal(err)
	}

	k = openSFP(t, g, dir)
	rec, err := k.Recover(context.Background())
	if err != nil || len(rec.Orders) != 1 {
		t.Fatalf("recover: %+v, %v", rec, err)
	}
	waitState(t, rec.Orders[0], payment.StatePaid)
	// The journal flags it as it records the Paid event.
	paymenttest.Eventually(t, "the order flagged paid while the kiosk was offline", 5*time.Second, func() bool {
		got, err := k.Journal.Order(context.Background(), s.OutTradeNo)
		return err == nil && got.PaidOffline && got.State == payment.StatePaid
	})
	if n := len(g.sim.Orders()); n != 1 {
		t.Fatalf("%d orders at the gateway", n)
	}
}

// Demo mode runs on the ScanForPay simulator when asked, with the wallets
// ScanForPay takes, and its payments reach the kiosk through the relay.
func TestDemoOnScanForPay(t *testing.T) {
	var logs proctest.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	k, err := Open(Options{DataDir: t.TempDir(), Getenv: env(t, ""), Logger: log, DemoIfUnconfigured: true, DemoHost: "127.0.0.1", DemoGateway: "scanforpay"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(k.Close)
	if k.Config.Gateway != scanforpay.Name || k.Gateway.Name() != scanforpay.Name || len(k.Config.PayTypes) != 2 {
		t.Fatalf("demo gateway %s/%s, wallets %d", k.Config.Gateway, k.Gateway.Name(), len(k.Config.PayTypes))
	}
	o, s := sale(t, k, 1234, "wechat")
	// Once the relay link is up the machine polls only every 15 s: a
	// payment seen within seconds came by push.
	paymenttest.Eventually(t, "the relay link", 10*time.Second, func() bool { return o.Snapshot().PushUp })
	// On the link coming up the machine asks once at once (anything
	// missed meanwhile); pay only after that answer is in, so only the
	// push can bring the payment.
	// (A link already up when the QR showed brings no such query.)
	paymenttest.Eventually(t, "the query on reconnect", 10*time.Second, func() bool {
		if s.PushUp {
			return true
		}
		events, _ := k.Journal.Events(context.Background(), s.OutTradeNo)
		up := false
		for _, e := range events {
			up = up || e.Kind == string(payment.EventPushUp)
			if up && e.Source == "gateway" && e.Kind == "query" {
				return true
			}
		}
		return false
	})
	if err := k.Demo.Pay(s); err != nil {
		t.Fatal(err)
	}
	waitState(t, o, payment.StatePaid)
	// The payment travelled simulator → signed notification → relay →
	// kiosk (verified again with the kiosk's key), not a poll.
	paidBy := `msg="order paid" out_trade_no=` + s.OutTradeNo + ` source=`
	paymenttest.Eventually(t, "the machine's log of the payment", 5*time.Second, func() bool { return strings.Contains(logs.String(), paidBy) })
	if !strings.Contains(logs.String(), paidBy+"push") {
		t.Fatalf("not paid by push:\n%s", logs.String())
	}

	// gateway = "scanforpay" in the file, without credentials: the same.
	k2, err := Open(Options{DataDir: t.TempDir(), Getenv: env(t, "gateway = \"scanforpay\"\n"), DemoIfUnconfigured: true, DemoHost: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	defer k2.Close()
	if k2.Demo == nil || k2.Gateway.Name() != scanforpay.Name {
		t.Fatalf("configured scanforpay without credentials: demo %v gateway %s", k2.Demo, k2.Gateway.Name())
	}
}
