package journal

import (
	"context"
	"errors"
	"testing"
	"time"

	"qrkiosk/payment"
)

// A POS's reference names one sale for ever: recorded again (the POS
// retried) it keeps its first order; once the order exists it is found by
// the reference, through a replacement when its QR was lost, and the
// order (and its replacement) name the reference back.
func TestPOSSales(t *testing.T) {
	ctx := context.Background()
	j := open(t, t.TempDir())
	const ref = "u--1--2"
	if _, err := j.POSSale(ctx, ref); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown reference: %v", err)
	}
	if err := j.RecordPOSSale(ctx, ref, ref); err != nil {
		t.Fatal(err)
	}
	if err := j.RecordPOSSale(ctx, ref, "OTHER"); err != nil {
		t.Fatal(err)
	}
	s, err := j.POSSale(ctx, ref)
	if err != nil || s.OutTradeNo != ref || s.Order != nil || s.Done {
		t.Fatalf("before its order: %+v %v", s, err)
	}
	now := time.Now()
	if err := j.Begin(ctx, request(ref, 1234, alipay, now)); err != nil {
		t.Fatal(err)
	}
	if err := j.Reissue(request("QK-NEW", 1234, alipay, now), ref); err != nil {
		t.Fatal(err)
	}
	s, err = j.POSSale(ctx, ref)
	if err != nil || s.Order == nil || s.Order.OutTradeNo != "QK-NEW" || s.Order.Amount.Minor != 1234 {
		t.Fatalf("after a replacement: %+v %v", s, err)
	}
	for _, otn := range []string{ref, "QK-NEW"} {
		if got, err := j.POSRef(ctx, otn); err != nil || got != ref {
			t.Fatalf("POSRef(%s) = %q, %v", otn, got, err)
		}
	}
	if err := j.Begin(ctx, request("QK-OWN", 500, alipay, now)); err != nil {
		t.Fatal(err)
	}
	if got, err := j.POSRef(ctx, "QK-OWN"); err != nil || got != "" {
		t.Fatalf("the cashier's own sale names a POS reference: %q %v", got, err)
	}
	if open, _ := j.OpenPOSSales(ctx); len(open) != 1 {
		t.Fatalf("open %+v", open)
	}
	if err := j.MarkPOSSaleDone(ref); err != nil {
		t.Fatal(err)
	}
	if open, _ := j.OpenPOSSales(ctx); len(open) != 0 {
		t.Fatalf("open after done %+v", open)
	}
}

// A result's notice goes in the outbox once, whatever asks again; it is
// due at once, then when its attempt says, until delivered or given up.
func TestPOSNoticeOutbox(t *testing.T) {
	ctx := context.Background()
	j := open(t, t.TempDir())
	n := POSNotice{Key: NoticeKeyPayment("u--1--2"), URL: "https://odoo.example/qfpay/notify", Body: []byte(`{"status": "1"}`)}
	if added, err := j.AddPOSNotice(ctx, n); err != nil || !added {
		t.Fatalf("first: %v %v", added, err)
	}
	other := n
	other.Body = []byte(`{"status": "0"}`)
	if added, err := j.AddPOSNotice(ctx, other); err != nil || added {
		t.Fatalf("a second notice for one result: %v %v", added, err)
	}
	due, next, err := j.DuePOSNotices(ctx, time.Now(), 8)
	if err != nil || len(due) != 1 || string(due[0].Body) != `{"status": "1"}` || !next.IsZero() {
		t.Fatalf("due %+v next %v %v", due, next, err)
	}
	later := time.Now().Add(time.Minute)
	if err := j.RecordPOSNoticeAttempt(n.Key, false, "500", later, false); err != nil {
		t.Fatal(err)
	}
	due, next, _ = j.DuePOSNotices(ctx, time.Now(), 8)
	if len(due) != 0 || !next.Equal(time.Unix(0, later.UnixNano())) {
		t.Fatalf("after a failure: due %+v next %v", due, next)
	}
	due, _, _ = j.DuePOSNotices(ctx, later, 8)
	if len(due) != 1 || due[0].Attempts != 1 || due[0].LastError != "500" {
		t.Fatalf("when due again: %+v", due)
	}
	if err := j.RecordPOSNoticeAttempt(n.Key, true, "", time.Time{}, false); err != nil {
		t.Fatal(err)
	}
	if due, next, _ := j.DuePOSNotices(ctx, later.Add(time.Hour), 8); len(due) != 0 || !next.IsZero() {
		t.Fatalf("after delivery: %+v %v", due, next)
	}
	got, err := j.LookupPOSNotice(ctx, n.Key)
	if err != nil || got.Delivered.IsZero() || got.Attempts != 2 {
		t.Fatalf("delivered %+v %v", got, err)
	}
}

// A refund the POS asked for is marked so, and listed for its notice once
// done, until the notice is in the outbox.
func TestPOSRefunds(t *testing.T) {
	ctx := context.Background()
	j := open(t, t.TempDir())
	now := time.Now()
	req := request("QK-1", 1000, alipay, now)
	if err := j.Begin(ctx, req); err != nil {
		t.Fatal(err)
	}
	j.record(payment.Event{Snapshot: payment.Snapshot{OutTradeNo: "QK-1", SysSN: "S1", State: payment.StatePaid}, Kind: payment.EventPaid})
	allow := func(o Order) (int64, error) { return 300, nil }
	pos, err := j.AddPOSRefund(ctx, "QK-1", now, allow)
	if err != nil || !pos.FromPOS {
		t.Fatalf("POS refund %+v %v", pos, err)
	}
	own, err := j.AddRefund(ctx, "QK-1", now, allow)
	if err != nil || own.FromPOS {
		t.Fatalf("the kiosk's own refund %+v %v", own, err)
	}
	for _, r := range []Refund{pos, own} {
		r.State, r.SysSN = RefundDone, "R-"+r.OutTradeNo
		if err := j.RecordRefund(r, ""); err != nil {
			t.Fatal(err)
		}
	}
	list, err := j.UnnotifiedPOSRefunds(ctx)
	if err != nil || len(list) != 1 || list[0].OutTradeNo != pos.OutTradeNo || !list[0].FromPOS {
		t.Fatalf("unnotified %+v %v", list, err)
	}
	j.AddPOSNotice(ctx, POSNotice{Key: NoticeKeyRefund(pos.OutTradeNo), URL: "https://x", Body: []byte("{}")})
	if list, _ := j.UnnotifiedPOSRefunds(ctx); len(list) != 0 {
		t.Fatalf("still listed: %+v", list)
	}
	if o, err := j.OrderBySysSN(ctx, "S1"); err != nil || o.OutTradeNo != "QK-1" {
		t.Fatalf("by syssn: %+v %v", o, err)
	}
	if _, err := j.OrderBySysSN(ctx, ""); !errors.Is(err, ErrNotFound) {
		t.Fatalf("empty syssn: %v", err)
	}
}
