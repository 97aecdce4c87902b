package journal

import (
	"context"
	"strings"
	"testing"
	"time"

	"qrkiosk/payment"
	"qrkiosk/payment/qfpay"
)

// okRefunder refunds everything it is asked to.
type okRefunder struct{}

func (okRefunder) Refund(_ context.Context, p qfpay.RefundParams) (*payment.Transaction, error) {
	return &payment.Transaction{Kind: "refund", SysSN: "R" + p.OutTradeNo, OutTradeNo: p.OutTradeNo, TxAmt: p.TxAmt, Code: payment.CodeSuccess, OrigSysSN: p.SysSN}, nil
}

func (okRefunder) QueryOrder(context.Context, string) (*payment.Transaction, error) {
	return nil, payment.ErrNotFound
}

// reconcileFixture is a day where the journal and the gateway agree.
func reconcileFixture(t *testing.T) (*Journal, string, []payment.Transaction) {
	t.Helper()
	j := open(t, t.TempDir())
	ctx := context.Background()
	at := time.Now()
	date := at.In(HongKong).Format(dayLayout)
	var gw []payment.Transaction
	add := func(otn string, minor int64, pt payment.PayType, st payment.State, syssn string, gwCode payment.Code, gwCancel int) {
		if err := j.Begin(ctx, request(otn, minor, pt, at)); err != nil {
			t.Fatal(err)
		}
		j.Observer()(payment.Event{Kind: st.String(), Snapshot: payment.Snapshot{OutTradeNo: otn, SysSN: syssn, State: st}})
		if syssn != "" {
			gw = append(gw, payment.Transaction{Kind: "payment", SysSN: syssn, OutTradeNo: otn, PayType: pt.Code, TxAmt: minor, Currency: "HKD", Code: gwCode, Cancel: gwCancel})
		}
	}
	add("QK-PAID", 1000, alipay, payment.StatePaid, "S1", payment.CodeSuccess, 0)
	add("QK-EXP", 2000, alipay, payment.StateExpired, "S2", payment.CodeOrderClosed, payment.CancelFlagMPMCancelled)
	add("QK-FPS", 3000, fps, payment.StateExpired, "S3", payment.CodeUserPaying, 0) // FPS has no cancel: still pending there
	add("QK-FAIL", 4000, wechat, payment.StateFailed, "S4", "1205", 0)
	add("QK-NEVER", 5000, alipay, payment.StateFailed, "", "", 0) // refused before reaching the gateway
	add("QK-REF", 6000, wechat, payment.StatePaid, "S6", payment.CodeSuccess, payment.CancelFlagPartlyRefunded)
	r, err := j.Refund(ctx, okRefunder{}, "QK-REF", 1500)
	if err != nil {
		t.Fatal(err)
	}
	gw = append(gw, payment.Transaction{Kind: "refund", SysSN: r.SysSN, OutTradeNo: r.OutTradeNo, TxAmt: 1500, Currency: "HKD", Code: payment.CodeSuccess, OrigSysSN: "S6"})
	return j, date, gw
}

func TestReconcileAgrees(t *testing.T) {
	j, date, gw := reconcileFixture(t)
	diffs, err := j.Reconcile(context.Background(), date, gw)
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
			return append(gw, payment.Transaction{Kind: "payment", SysSN: "S9", OutTradeNo: "QK-OTHER", TxAmt: 700, Currency: "HKD", Code: payment.CodeSuccess})
		}, "missing_in_journal payment QK-OTHER"},
		{"paid at the gateway, expired in the journal", func(gw []payment.Transaction) []payment.Transaction {
			return edit(gw, "QK-EXP", func(t *payment.Transaction) { t.Code, t.Cancel = payment.CodeSuccess, 0 })
		}, "state_differs payment QK-EXP"},
		{"not paid at the gateway, paid in the journal", func(gw []payment.Transaction) []payment.Transaction {
			return edit(gw, "QK-PAID", func(t *payment.Transaction) { t.Code = payment.CodeOrderExpired })
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
			return append(gw, payment.Transaction{Kind: "refund", SysSN: "R9", OutTradeNo: "PORTAL-REFUND", TxAmt: 100, Currency: "HKD", Code: payment.CodeSuccess, OrigSysSN: "S1"})
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
			diffs, err := j.Reconcile(context.Background(), date, c.plant(gw))
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
