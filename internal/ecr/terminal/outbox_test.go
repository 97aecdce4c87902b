package terminal

import (
	"context"
	"testing"
	"time"

	"qrkiosk/internal/journal"
	"qrkiosk/payment"
)

// A POS that does not answer SUCCESS (restarting, or checking with
// another key) gets the notification again, with backoff, until it does;
// then never again.
func TestNoticeRetriedUntilSuccess(t *testing.T) {
	hook := newWebhook(t)
	hook.fail = 3
	r := newRig(t, rigOpt{webhook: hook})
	r.paidSale(12.34)
	n := paymentNoticeDelivered(t, r)
	if n.Attempts != 4 || n.LastError != "" {
		t.Fatalf("notice %+v", n)
	}
	time.Sleep(300 * time.Millisecond)
	hook.mu.Lock()
	posts := hook.posts
	hook.mu.Unlock()
	if posts != 4 || len(hook.got()) != 1 {
		t.Fatalf("%d posts, %d taken", posts, len(hook.got()))
	}
}

// A notification the POS never takes stays in the journal: a kiosk
// started again on the same data delivers it.
func TestNoticeSurvivesARestart(t *testing.T) {
	hook := newWebhook(t)
	hook.fail = 1 << 30
	data := t.TempDir()
	r := newRig(t, rigOpt{webhook: hook, data: data, opts: Options{Backoff: []time.Duration{time.Hour}}})
	r.paidSale(12.34)
	deadline := time.Now().Add(5 * time.Second)
	for {
		n, err := r.k.Journal.LookupPOSNotice(context.Background(), journal.NoticeKeyPayment(tradeNo))
		if err == nil && n.Attempts > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no attempt: %+v %v", n, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	r.close()

	hook.mu.Lock()
	hook.fail = 0
	hook.mu.Unlock()
	// An hour's backoff: due only once its time has come, so the restart
	// must not lose it meanwhile. Bring it forward as time passing would.
	r2 := newRig(t, rigOpt{webhook: hook, data: data, opts: Options{Backoff: []time.Duration{time.Hour}}})
	if n, _ := r2.k.Journal.LookupPOSNotice(context.Background(), journal.NoticeKeyPayment(tradeNo)); !n.Delivered.IsZero() {
		t.Fatal("delivered before it was due")
	}
	if err := r2.k.Journal.RecordPOSNoticeAttempt(journal.NoticeKeyPayment(tradeNo), false, "test: due now", time.Now(), false); err != nil {
		t.Fatal(err)
	}
	r2.term.box.wake()
	if n := r2.notices(1)[0]; !n.Paid() || n.TradeNo != tradeNo {
		t.Fatalf("notice %+v", n)
	}
}

// A sale the POS was told ended unpaid (cancelled at the kiosk) that the
// customer pays afterwards (a wallet without cancel) is never notified as
// paid: the POS hears one result per sale. The kiosk's paid-late banner
// tells the cashier.
func TestPaidLateIsNotASecondResult(t *testing.T) {
	r := newRig(t, rigOpt{})
	answer := r.sendAsync("trade", trade(30, "payme", tradeNo))
	s := r.live()
	r.k.Till.Cancel("cancelled at the kiosk", false)
	if a := r.answer(answer); !a.Cancelled() {
		t.Fatalf("answer %+v", a)
	}
	if err := r.k.Demo.Pay(s.Order.Snapshot()); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		o, err := r.k.Journal.Order(context.Background(), tradeNo)
		if err == nil && o.State == payment.StatePaid && o.Late {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not paid late: %+v %v", o, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // a sweep or two
	if got := r.hook.got(); len(got) != 0 {
		t.Fatalf("a sale answered cancelled was notified paid: %+v", got[0])
	}
	if a := r.send("trade", trade(30, "payme", tradeNo)); a.Respcd != "6002" || a.OK() {
		t.Fatalf("asked again: %+v", a)
	}
}
