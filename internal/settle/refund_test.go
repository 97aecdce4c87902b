package settle

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"qrkiosk/internal/journal"
	"qrkiosk/payment"
	"qrkiosk/payment/qfpay"
)

// countingRefunder counts refund calls; lose makes the next refund's answer
// get lost (after the gateway acted when sent is true).
type countingRefunder struct {
	payment.Refunder
	calls atomic.Int32
	lose  func() (sent bool)
}

func (c *countingRefunder) Refund(ctx context.Context, p payment.RefundRequest) (*payment.Transaction, error) {
	c.calls.Add(1)
	if c.lose != nil {
		sent := c.lose()
		c.lose = nil
		if sent {
			c.Refunder.Refund(ctx, p)
		}
		return nil, &payment.TransportError{Op: "refund", Err: errors.New("connection reset after sending"), MaybeActed: true}
	}
	return c.Refunder.Refund(ctx, p)
}

// paidOrder charges amount at the simulated gateway and pays it.
func paidOrder(t *testing.T, j *journal.Journal, g *gateway, otn string, minor int64, pt payment.PayType) {
	t.Helper()
	o, err := Start(context.Background(), j, fastMachine(g.client), request(otn, minor, pt, time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	if s := g.pay(t, o); s.State != payment.StatePaid {
		t.Fatalf("%s: %v", otn, s.State)
	}
}

func TestRefundPaths(t *testing.T) {
	g := newGateway(t)
	j := open(t, t.TempDir())
	ctx := context.Background()
	rf := &countingRefunder{Refunder: g.client}
	paidOrder(t, j, g, "QK-R-FULL", 5000, alipay)
	paidOrder(t, j, g, "QK-R-PART", 5000, wechat)
	paidOrder(t, j, g, "QK-R-FPS", 3000, fps)

	// Full: the whole amount by default.
	r, err := Refund(ctx, j, rf, "QK-R-FULL", 0)
	if err != nil || r.State != journal.RefundDone || r.Amount.Minor != 5000 || r.SysSN == "" || r.OutTradeNo[:2] != "RF" {
		t.Fatalf("full refund: %+v, %v", r, err)
	}
	if o := g.order(t, "QK-R-FULL"); o.RefundedAmt != 5000 || o.Cancel != qfpay.CancelFlagRefunded {
		t.Fatalf("gateway after full refund: %+v", o)
	}
	// Twice: refused locally.
	before := rf.calls.Load()
	if _, err := Refund(ctx, j, rf, "QK-R-FULL", 0); !errors.Is(err, ErrFullyRefunded) {
		t.Fatalf("second full refund: %v", err)
	}

	// Partial, then the rest; more than remains is refused locally.
	if r, err = Refund(ctx, j, rf, "QK-R-PART", 1250); err != nil || r.Amount.Minor != 1250 {
		t.Fatalf("partial: %+v, %v", r, err)
	}
	_, err = Refund(ctx, j, rf, "QK-R-PART", 3751)
	var refused *RefusedError
	if !errors.As(err, &refused) || !errors.Is(err, ErrRefundTooLarge) {
		t.Fatalf("over-refund: %v", err)
	}
	if r, err = Refund(ctx, j, rf, "QK-R-PART", 3750); err != nil || r.Amount.Minor != 3750 {
		t.Fatalf("the rest: %+v, %v", r, err)
	}
	if o, _ := j.Order(ctx, "QK-R-PART"); o.Refunded != 5000 || o.Remaining() != 0 {
		t.Fatalf("journal after partial refunds: refunded %d remaining %d", o.Refunded, o.Remaining())
	}

	// FPS cannot be refunded: refused with a clear message.
	if _, err = Refund(ctx, j, rf, "QK-R-FPS", 0); !errors.Is(err, ErrNotRefundable) || !errors.As(err, &refused) {
		t.Fatalf("FPS: %v", err)
	}
	// Unknown orders and unpaid ones are refused too.
	if _, err = Refund(ctx, j, rf, "QK-NOPE", 0); !errors.Is(err, journal.ErrNotFound) {
		t.Fatalf("unknown order: %v", err)
	}
	if n := rf.calls.Load() - before; n != 2 {
		t.Fatalf("%d refund calls reached the gateway; want 2 (partial and rest), refusals send nothing", n)
	}
	if len(g.sim.Orders()) != 3 {
		t.Fatal("a refund created a payment")
	}
}

func TestRefundOutcomeUnknown(t *testing.T) {
	g := newGateway(t)
	dir := t.TempDir()
	j := open(t, dir)
	ctx := context.Background()
	paidOrder(t, j, g, "QK-U1", 4000, alipay)
	paidOrder(t, j, g, "QK-U2", 4000, alipay)

	// The gateway refunds, the answer is lost.
	rf := &countingRefunder{Refunder: g.client, lose: func() bool { return true }}
	r1, err := Refund(ctx, j, rf, "QK-U1", 1000)
	if !errors.Is(err, ErrRefundProcessing) || r1.State != journal.RefundPending {
		t.Fatalf("lost answer: %+v, %v", r1, err)
	}
	// While unknown, a second refund is refused: the first may have worked.
	if _, err := Refund(ctx, j, rf, "QK-U1", 1000); !errors.Is(err, ErrRefundPending) {
		t.Fatalf("refund during an unknown one: %v", err)
	}
	// The request never got there, and the answer is lost.
	rf.lose = func() bool { return false }
	r2, err := Refund(ctx, j, rf, "QK-U2", 4000)
	if !errors.Is(err, ErrRefundProcessing) {
		t.Fatalf("lost request: %v", err)
	}

	// A crash now; the next start resolves both by query.
	j.Close()
	j = open(t, dir)
	settled, err := ResolveRefunds(ctx, j, g.client)
	if err != nil || len(settled) != 2 {
		t.Fatalf("resolve: %+v, %v", settled, err)
	}
	got := map[string]journal.RefundState{}
	for _, r := range settled {
		got[r.OutTradeNo] = r.State
	}
	if got[r1.OutTradeNo] != journal.RefundDone || got[r2.OutTradeNo] != journal.RefundFailed {
		t.Fatalf("resolved %v; want the first refunded, the second failed", got)
	}
	o1, _ := j.Order(ctx, "QK-U1")
	o2, _ := j.Order(ctx, "QK-U2")
	if o1.Refunded != 1000 || o1.Remaining() != 3000 || o2.Refunded != 0 || o2.Remaining() != 4000 {
		t.Fatalf("after resolve: U1 refunded %d remaining %d; U2 refunded %d remaining %d", o1.Refunded, o1.Remaining(), o2.Refunded, o2.Remaining())
	}
	if a := g.order(t, "QK-U1"); a.RefundedAmt != 1000 {
		t.Fatalf("gateway U1 refunded %d", a.RefundedAmt)
	}
	if settled, _ := ResolveRefunds(ctx, j, g.client); len(settled) != 0 {
		t.Fatalf("resolved again: %+v", settled)
	}
}

func TestRefundRefusedByGateway(t *testing.T) {
	g := newGateway(t)
	j := open(t, t.TempDir())
	ctx := context.Background()
	paidOrder(t, j, g, "QK-G1", 2000, payme)
	// Someone refunded part of it from the merchant portal: the gateway
	// now has less left than the journal thinks.
	o := g.order(t, "QK-G1")
	if _, err := g.client.Refund(ctx, payment.RefundRequest{Orig: payment.OrderRef{SysSN: o.SysSN}, OutTradeNo: "PORTAL-1", Amount: payment.Amount{Minor: 1500}, TxTime: time.Now()}); err != nil {
		t.Fatal(err)
	}
	r, err := Refund(ctx, j, g.client, "QK-G1", 1000)
	if err == nil || r.State != journal.RefundFailed || r.Code != qfpay.CodeRefundTooLarge {
		t.Fatalf("over-refund at the gateway: %+v, %v", r, err)
	}
	if rec, _ := j.Order(ctx, "QK-G1"); rec.Refunded != 0 || rec.RefundPending != 0 {
		t.Fatalf("a refused refund counts: %+v", rec)
	}
}
