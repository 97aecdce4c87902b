package settle

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"qrkiosk/internal/journal"
	"qrkiosk/payment"
)

// statedRefunder is a gateway that states a refund's outcome outright and
// has no refund query: a refund it accepted but is still "dealing" with can
// only be confirmed later (here: when settle is set).
type statedRefunder struct {
	answer payment.Outcome // what the refund call says
	settle payment.Outcome // what a later query can say; 0 = it cannot tell
	calls  int
}

func (s *statedRefunder) Refund(_ context.Context, r payment.RefundRequest) (*payment.Transaction, error) {
	s.calls++
	return &payment.Transaction{Kind: payment.TxnRefund, OutTradeNo: r.OutTradeNo, TxAmt: r.Amount.Minor, Currency: "HKD", Status: s.answer}, nil
}

func (s *statedRefunder) QueryRefund(_ context.Context, r payment.RefundRequest) (*payment.Transaction, error) {
	if s.settle == payment.OutcomeUnknown {
		return nil, fmt.Errorf("refund %s: %w (no refund query at this gateway)", r.OutTradeNo, payment.ErrOutcomeUnknown)
	}
	return &payment.Transaction{Kind: payment.TxnRefund, OutTradeNo: r.OutTradeNo, TxAmt: r.Amount.Minor, Currency: "HKD", Status: s.settle}, nil
}

func paidInJournal(t *testing.T, j *journal.Journal, otn string, minor int64, pt payment.PayType) {
	t.Helper()
	if err := j.Begin(context.Background(), request(otn, minor, pt, time.Now())); err != nil {
		t.Fatal(err)
	}
	j.Observer()(payment.Event{Kind: payment.EventPaid, Snapshot: payment.Snapshot{OutTradeNo: otn, SysSN: "S-" + otn, State: payment.StatePaid}})
}

// A refund the gateway accepted but is still processing ("dealing") stays
// pending: never sent again, never called failed, and settled only when
// the gateway can say so.
func TestRefundDealingStaysPending(t *testing.T) {
	j := open(t, t.TempDir())
	ctx := context.Background()
	paidInJournal(t, j, "QK-D1", 5000, wechat)
	rf := &statedRefunder{answer: payment.OutcomePending}

	r, err := Refund(ctx, j, rf, "QK-D1", 2000)
	if !errors.Is(err, ErrRefundProcessing) || r.State != journal.RefundPending {
		t.Fatalf("dealing refund: %+v, %v; want pending with ErrRefundProcessing", r, err)
	}
	if _, err := Refund(ctx, j, rf, "QK-D1", 1000); !errors.Is(err, ErrRefundPending) {
		t.Fatalf("a second refund while one is dealing: %v; want refused locally", err)
	}
	// The gateway cannot tell yet: still pending, nothing sent again.
	if settled, err := ResolveRefunds(ctx, j, rf); err != nil || len(settled) != 0 {
		t.Fatalf("resolve while the gateway cannot tell: %+v, %v", settled, err)
	}
	if o, _ := j.Order(ctx, "QK-D1"); o.RefundPending != 2000 || o.Refunded != 0 {
		t.Fatalf("order while dealing: pending %d refunded %d", o.RefundPending, o.Refunded)
	}
	// Now it can: done.
	rf.settle = payment.OutcomePaid
	settled, err := ResolveRefunds(ctx, j, rf)
	if err != nil || len(settled) != 1 || settled[0].State != journal.RefundDone {
		t.Fatalf("resolve once the gateway confirms: %+v, %v", settled, err)
	}
	if rf.calls != 1 {
		t.Fatalf("%d refund calls; a dealing refund is never sent again", rf.calls)
	}
}

// Reconcile on a gateway that cannot list a day: every journal record is
// asked for by name; one the gateway cannot confirm is listed as
// unconfirmed, not as a disagreement; an order expired on the kiosk and
// still payable at a gateway without cancel agrees; orders sent to
// another gateway are left out.
func TestReconcileWithoutDayList(t *testing.T) {
	noCancel := payment.Catalog{}
	for _, p := range payment.AllPayTypes() {
		if p.Wallet == "alipay" || p.Wallet == "wechat" {
			p.Cancel, p.HonoursExpiry = payment.CancelNone, false
			noCancel = append(noCancel, p)
		}
	}
	dir := t.TempDir()
	ctx := context.Background()
	// An order of the kiosk's earlier gateway, then the switch.
	old := open(t, dir)
	paidInJournal(t, old, "QK-OTHER", 700, wechat)
	old.Close()
	j, err := journal.Open(journal.Options{Dir: dir, UDID: "test-kiosk", Gateway: "nocancel", PayTypes: noCancel})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()

	alipayHere, _ := noCancel.Lookup("alipay")
	paidInJournal(t, j, "QK-P", 1000, alipayHere)
	if err := j.Begin(ctx, request("QK-E", 2000, alipayHere, time.Now())); err != nil {
		t.Fatal(err)
	}
	j.Observer()(payment.Event{Kind: payment.EventExpired, Snapshot: payment.Snapshot{OutTradeNo: "QK-E", SysSN: "S-QK-E", State: payment.StateExpired}})
	o, err := j.Order(ctx, "QK-E")
	if err != nil || o.PayType.Cancel != payment.CancelNone {
		t.Fatalf("order read back with pay type %+v, %v; want the gateway's own (no cancel)", o.PayType, err)
	}
	rf := &statedRefunder{answer: payment.OutcomePaid}
	if _, err := Refund(ctx, j, rf, "QK-P", 400); err != nil {
		t.Fatal(err)
	}

	lookup := &byName{orders: map[string]payment.Transaction{
		"QK-P": {OutTradeNo: "QK-P", SysSN: "S-QK-P", TxAmt: 1000, Currency: "HKD", Status: payment.OutcomePaid},
		"QK-E": {OutTradeNo: "QK-E", SysSN: "S-QK-E", TxAmt: 2000, Currency: "HKD", Status: payment.OutcomePending},
	}}
	date := time.Now().In(payment.HongKong).Format(payment.DayLayout)
	diffs, err := Reconcile(ctx, j, date, nil, lookup)
	if err != nil {
		t.Fatal(err)
	}
	if len(diffs) != 1 || diffs[0].Kind != DiffUnconfirmed || diffs[0].Record != "refund" || diffs[0].Disagrees() {
		t.Fatalf("diffs %v; want only the partial refund, unconfirmed", diffs)
	}
	if lookup.asked["QK-OTHER"] {
		t.Fatal("an order of another gateway was asked about")
	}
	if !lookup.asked["QK-P"] || !lookup.asked["QK-E"] {
		t.Fatalf("asked %v; want every journal order asked by name", lookup.asked)
	}
}

type byName struct {
	orders map[string]payment.Transaction
	asked  map[string]bool
}

func (b *byName) QueryOrder(_ context.Context, ref payment.OrderRef) (*payment.Transaction, error) {
	if b.asked == nil {
		b.asked = map[string]bool{}
	}
	b.asked[ref.OutTradeNo] = true
	t, ok := b.orders[ref.OutTradeNo]
	if !ok {
		return nil, payment.ErrNotFound
	}
	return &t, nil
}

func (b *byName) QueryRefund(_ context.Context, r payment.RefundRequest) (*payment.Transaction, error) {
	return nil, fmt.Errorf("refund %s: %w", r.OutTradeNo, payment.ErrOutcomeUnknown)
}
