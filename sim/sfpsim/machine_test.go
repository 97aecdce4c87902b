package sfpsim

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"qrkiosk/payment"
	"qrkiosk/payment/paymenttest"
	"qrkiosk/payment/scanforpay"
)

func machine(c *scanforpay.Client, clk payment.Clock) payment.MachineConfig {
	return payment.MachineConfig{Gateway: c, Clock: clk, PollFast: time.Second, PollSlow: 15 * time.Second, SettleRetry: time.Second, CallTimeout: 5 * time.Second}
}

func state(o *payment.Order, want payment.State) func() bool {
	return func() bool { return o.Snapshot().State == want }
}

// The one order machine runs on ScanForPay unchanged: a payment found by a
// poll ends the order Paid.
func TestMachinePaidByPoll(t *testing.T) {
	f := newFixture(t)
	clk := paymenttest.NewClock(time.Now())
	o := payment.StartOrder(context.Background(), machine(f.client, clk), req("QK-M1", 1234, wechat))
	paymenttest.Eventually(t, "the QR", 5*time.Second, state(o, payment.StateAwaitingPayment))
	if err := f.sim.Pay(o.Snapshot().SysSN); err != nil {
		t.Fatal(err)
	}
	for o.Snapshot().State != payment.StatePaid {
		paymenttest.Eventually(t, "the next poll armed", 5*time.Second, func() bool { _, ok := clk.NextTimer(); return ok || o.Snapshot().State == payment.StatePaid })
		if d, ok := clk.NextTimer(); ok {
			clk.Advance(d)
		}
	}
	if s := o.Snapshot(); s.Late || s.PayType.Cancel != payment.CancelNone {
		t.Fatalf("snapshot %+v", s)
	}
}

// ScanForPay has no expiry and no cancel: when the kiosk's own countdown
// runs out the order ends Expired after a final query (the gateway still
// holds it payable); a payment made afterwards arrives as a signed
// notification and turns it Paid late. A forged notification is refused
// by the signature check and changes nothing.
func TestMachineExpiredThenPaidLate(t *testing.T) {
	sink := newSink(t, func(int) (int, string) { return http.StatusOK, "success" })
	f := newFixture(t)
	c := f.newClient(t, scanforpay.WithNotifyURL(sink.srv.URL))
	clk := paymenttest.NewClock(time.Now())
	o := payment.StartOrder(context.Background(), machine(c, clk), req("QK-M2", 500, alipay))
	paymenttest.Eventually(t, "the QR", 5*time.Second, state(o, payment.StateAwaitingPayment))
	// Run the clock to the kiosk's deadline, timer by timer (polls, then
	// the deadline), but never into the day-long watch for a late payment.
	for !o.Snapshot().State.Final() {
		paymenttest.Eventually(t, "a timer armed", 5*time.Second, func() bool { _, ok := clk.NextTimer(); return ok || o.Snapshot().State.Final() })
		if d, ok := clk.NextTimer(); ok && d <= 5*time.Minute {
			clk.Advance(d)
		}
	}
	if s := o.Snapshot(); s.State != payment.StateExpired {
		t.Fatalf("at the kiosk's deadline: %s", s.State)
	}
	if got := f.sim.Orders()[0]; got.Status != scanforpay.StatusUnpaid {
		t.Fatalf("gateway status %d; nothing can withdraw it there", got.Status)
	}

	// A forged "paid" for this very order: refused, never fed to the machine.
	forged := New(Config{PartnerNo: testPartner, StoreNo: testStore, Key: "FORGER"})
	defer forged.Close()
	forged.mu.Lock()
	fo := &order{orderNo: o.Snapshot().SysSN, partnerOrderNo: "QK-M2", wallet: "Alipay", amount: 500, status: scanforpay.StatusPaid, paid: time.Now()}
	body, _ := scanforpay.Marshal(forged.payment(fo))
	forged.mu.Unlock()
	obj, _ := scanforpay.Marshal(scanforpay.Response{Header: scanforpay.Header{Version: "1.0", PartnerNo: testPartner}, Body: body})
	if _, err := c.VerifyNotification(scanforpay.SealResponse(obj, "FORGER"), ""); !errors.Is(err, scanforpay.ErrBadSignature) {
		t.Fatalf("forged notification: %v", err)
	}
	if s := o.Snapshot(); s.State != payment.StateExpired {
		t.Fatalf("after a forged notification: %s", s.State)
	}

	// The customer pays the QR still on their phone.
	if err := f.sim.Pay(o.Snapshot().SysSN); err != nil {
		t.Fatal(err)
	}
	paymenttest.Eventually(t, "the notification", 5*time.Second, func() bool { return sink.count() == 1 })
	sink.mu.Lock()
	raw := sink.got[0]
	sink.mu.Unlock()
	txn, err := c.VerifyNotification(raw, "")
	if err != nil {
		t.Fatal(err)
	}
	o.Notify(*txn)
	paymenttest.Eventually(t, "paid late", 5*time.Second, state(o, payment.StatePaid))
	if !o.Snapshot().Late {
		t.Fatal("a payment after the kiosk's deadline is not flagged late")
	}
}
