package settle

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"qrkiosk/internal/journal"
	"qrkiosk/payment"
	"qrkiosk/payment/qfpay"
)

// okRefunder refunds everything it is asked to.
type okRefunder struct{}

func (okRefunder) Refund(_ context.Context, r payment.RefundRequest) (*payment.Transaction, error) {
	return &payment.Transaction{Kind: payment.TxnRefund, SysSN: "R" + r.OutTradeNo, OutTradeNo: r.OutTradeNo, TxAmt: r.Amount.Minor, Code: qfpay.CodeSuccess, Status: payment.OutcomePaid, OrigSysSN: r.Orig.SysSN}, nil
}

func (okRefunder) QueryRefund(context.Context, payment.RefundRequest) (*payment.Transaction, error) {
	return nil, payment.ErrNotFound
}

// reconcileFixture is a day where the journal and the gateway agree.
func reconcileFixture(t *testing.T) (*journal.Journal, string, []payment.Transaction) {
	t.Helper()
	j := open(t, t.TempDir())
	ctx := context.Background()
	at := time.Now()
	date := at.In(payment.HongKong).Format(payment.DayLayout)
	var gw []payment.Transaction
	add := func(otn string, minor int64, pt payment.PayType, st payment.State, syssn string, gwCode payment.Code, gwCancel int) {
		if err := j.Begin(ctx, request(otn, minor, pt, at)); err != nil {
			t.Fatal(err)
		}
		j.Observer()(payment.Event{Kind: payment.EventKind(st.String()), Snapshot: payment.Snapshot{OutTradeNo: otn, SysSN: syssn, State: st}})
		if syssn != "" {
			gw = append(gw, payment.Transaction{Kind: "payment", SysSN: syssn, OutTradeNo: otn, PayType: pt.Code, TxAmt: minor, Currency: "HKD", Code: gwCode, Cancel: gwCancel, Status: qfpay.Outcome(gwCode, gwCancel)})
		}
	}
	add("QK-PAID", 1000, alipay, payment.StatePaid, "S1", qfpay.CodeSuccess, 0)
	add("QK-EXP", 2000, alipay, payment.StateExpired, "S2", qfpay.CodeOrderClosed, qfpay.CancelFlagMPMCancelled)
	add("QK-FPS", 3000, fps, payment.StateExpired, "S3", qfpay.CodeUserPaying, 0) // FPS has no cancel: still pending there
	add("QK-FAIL", 4000, wechat, payment.StateFailed, "S4", "1205", 0)
	add("QK-NEVER", 5000, alipay, payment.StateFailed, "", "", 0) // refused before reaching the gateway
	add("QK-REF", 6000, wechat, payment.StatePaid, "S6", qfpay.CodeSuccess, qfpay.CancelFlagPartlyRefunded)
	r, err := Refund(ctx, j, okRefunder{}, "QK-REF", 1500)
	if err != nil {
		t.Fatal(err)
	}
	gw = append(gw, payment.Transaction{Kind: "refund", SysSN: r.SysSN, OutTradeNo: r.OutTradeNo, TxAmt: 1500, Currency: "HKD", Code: qfpay.CodeSuccess, Status: payment.OutcomePaid, OrigSysSN: "S6"})
	return j, date, gw
}

func TestReconcileAgrees(t *testing.T) {
	j, date, gw := reconcileFixture(t)
	diffs, err := Reconcile(context.Background(), j, date, gw, nil)
	if err != nil || len(diffs) != 0 {
		t.Fatalf("diffs %v, %v", diffs, err)
	}
}

func TestReconcileFindsEachPlantedDifference(t *testing.T) {
	cases := []struct {
		name  string
		plant func(gw []payment.Transaction) []payment.Transaction
		want  string // kind record out_trade_no
	}{
		{"payment missing at the gateway", func(gw []payment.Transaction) []payment.Transaction {
			return remove(gw, "QK-PAID")
		}, "missing_at_gateway payment QK-PAID"},
		{"payment missing in the journal", func(gw []payment.Transaction) []payment.Transaction {
			return append(gw, payment.Transaction{Kind: "payment", SysSN: "S9", OutTradeNo: "QK-OTHER", TxAmt: 700, Currency: "HKD", Code: qfpay.CodeSuccess, Status: payment.OutcomePaid})
		}, "missing_in_journal payment QK-OTHER"},
		{"paid at the gateway, expired in the journal", func(gw []payment.Transaction) []payment.Transaction {
			return edit(gw, "QK-EXP", func(t *payment.Transaction) { t.Code, t.Cancel, t.Status = qfpay.CodeSuccess, 0, payment.OutcomePaid })
		}, "state_differs payment QK-EXP"},
		{"not paid at the gateway, paid in the journal", func(gw []payment.Transaction) []payment.Transaction {
			return edit(gw, "QK-PAID", func(t *payment.Transaction) { t.Code, t.Status = qfpay.CodeOrderExpired, payment.OutcomeExpired })
		}, "state_differs payment QK-PAID"},
		{"amount differs", func(gw []payment.Transaction) []payment.Transaction {
			return edit(gw, "QK-FAIL", func(t *payment.Transaction) { t.TxAmt = 4001 })
		}, "amount_differs payment QK-FAIL"},
		{"currency differs", func(gw []payment.Transaction) []payment.Transaction {
			return edit(gw, "QK-PAID", func(t *payment.Transaction) { t.Currency = "CNY" })
		}, "amount_differs payment QK-PAID"},
		{"refund missing at the gateway", func(gw []payment.Transaction) []payment.Transaction {
			var out []payment.Transaction
			for _, t := range gw {
				if t.Kind != "refund" {
					out = append(out, t)
				}
			}
			return out
		}, "missing_at_gateway refund RF"},
		{"refund missing in the journal", func(gw []payment.Transaction) []payment.Transaction {
			return append(gw, payment.Transaction{Kind: "refund", SysSN: "R9", OutTradeNo: "PORTAL-REFUND", TxAmt: 100, Currency: "HKD", Code: qfpay.CodeSuccess, Status: payment.OutcomePaid, OrigSysSN: "S1"})
		}, "missing_in_journal refund PORTAL-REFUND"},
		{"refund amount differs", func(gw []payment.Transaction) []payment.Transaction {
			for i := range gw {
				if gw[i].Kind == "refund" {
					gw[i].TxAmt = 1400
				}
			}
			return gw
		}, "amount_differs refund RF"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			j, date, gw := reconcileFixture(t)
			diffs, err := Reconcile(context.Background(), j, date, c.plant(gw), nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(diffs) != 1 || !strings.HasPrefix(string(diffs[0].Kind)+" "+diffs[0].Record+" "+diffs[0].OutTradeNo, c.want) {
				t.Fatalf("diffs %v; want exactly one %q", diffs, c.want)
			}
			if s := diffs[0].String(); !strings.Contains(s, "journal:") || !strings.Contains(s, "gateway:") {
				t.Fatalf("description %q", s)
			}
		})
	}
}

func remove(gw []payment.Transaction, otn string) []payment.Transaction {
	var out []payment.Transaction
	for _, t := range gw {
		if t.OutTradeNo != otn {
			out = append(out, t)
		}
	}
	return out
}

func edit(gw []payment.Transaction, otn string, fn func(*payment.Transaction)) []payment.Transaction {
	for i := range gw {
		if gw[i].OutTradeNo == otn {
			fn(&gw[i])
		}
	}
	return gw
}

// Midnight: a sale the journal has on one day may be on the next at the
// gateway. Neither side is called missing when the other day has it.
func TestReconcileAcrossMidnight(t *testing.T) {
	j, date, gw := reconcileFixture(t)
	ctx := context.Background()
	// Rung up a second before today began: yesterday in the journal, but
	// the gateway lists it today.
	start, _, err := j.DayBounds(date)
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Begin(ctx, request("QK-LATE-NIGHT", 800, alipay, start.Add(-time.Second))); err != nil {
		t.Fatal(err)
	}
	j.Observer()(payment.Event{Kind: "paid", Snapshot: payment.Snapshot{OutTradeNo: "QK-LATE-NIGHT", SysSN: "S-LN", State: payment.StatePaid}})
	lateNight := payment.Transaction{Kind: "payment", SysSN: "S-LN", OutTradeNo: "QK-LATE-NIGHT", TxAmt: 800, Currency: "HKD", Code: qfpay.CodeSuccess, Status: payment.OutcomePaid}
	gw = append(gw, lateNight)

	// Today's QK-PAID is listed tomorrow at the gateway: asked for by name.
	var held payment.Transaction
	for _, t := range gw {
		if t.OutTradeNo == "QK-PAID" {
			held = t
		}
	}
	gw = remove(gw, "QK-PAID")
	var asked []string
	lookup := lookupFunc(func(_ context.Context, otn string) (*payment.Transaction, error) {
		asked = append(asked, otn)
		if otn == "QK-PAID" {
			return &held, nil
		}
		return nil, payment.ErrNotFound
	})
	diffs, err := Reconcile(ctx, j, date, gw, lookup)
	if err != nil || len(diffs) != 0 {
		t.Fatalf("diffs %v, %v", diffs, err)
	}
	if len(asked) != 1 || asked[0] != "QK-PAID" {
		t.Fatalf("asked the gateway for %v; want only QK-PAID (orders that never reached it are not asked for)", asked)
	}

	// What the other day's records say is still checked.
	held.Code, held.Status = qfpay.CodeOrderExpired, payment.OutcomeExpired
	diffs, err = Reconcile(ctx, j, date, edit(gw, "QK-LATE-NIGHT", func(t *payment.Transaction) { t.TxAmt = 801 }), lookup)
	if err != nil || len(diffs) != 2 || diffs[0].Kind != DiffAmount || diffs[0].OutTradeNo != "QK-LATE-NIGHT" || diffs[1].Kind != DiffState || diffs[1].OutTradeNo != "QK-PAID" {
		t.Fatalf("diffs %v, %v", diffs, err)
	}

	// A gateway that cannot be asked fails the reconciliation; it does
	// not report the order missing.
	failing := lookupFunc(func(context.Context, string) (*payment.Transaction, error) {
		return nil, errors.New("connection refused")
	})
	if diffs, err := Reconcile(ctx, j, date, gw, failing); err == nil || !strings.Contains(err.Error(), "QK-PAID") {
		t.Fatalf("diffs %v, err %v", diffs, err)
	}
}

// lookupFunc asks one function for orders and refunds alike, by out_trade_no.
type lookupFunc func(ctx context.Context, outTradeNo string) (*payment.Transaction, error)

func (f lookupFunc) QueryOrder(ctx context.Context, ref payment.OrderRef) (*payment.Transaction, error) {
	return f(ctx, ref.OutTradeNo)
}

func (f lookupFunc) QueryRefund(ctx context.Context, req payment.RefundRequest) (*payment.Transaction, error) {
	return f(ctx, req.OutTradeNo)
}
