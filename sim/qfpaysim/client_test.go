package qfpaysim

import (
	"context"
	"testing"
	"time"

	"qrkiosk/payment"
	"qrkiosk/payment/qfpay"
)

// The project's own QFPay client, unchanged, works against the simulator.
func TestWithQFPayClient(t *testing.T) {
	for _, st := range []qfpay.SignType{qfpay.SignMD5, qfpay.SignSHA256} {
		t.Run(string(st), func(t *testing.T) {
			f := newFixture(t, func(c *Config) { c.MchID = "MCH0001" })
			client, err := qfpay.NewClient(testApp, testKey,
				qfpay.WithBaseURL(f.srv.URL), qfpay.WithMchID("MCH0001"), qfpay.WithUDID("kiosk-7"),
				qfpay.WithSignType(st), qfpay.WithRetry(2, time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			hkd, _ := payment.LookupCurrency("HKD")
			wechat, _ := payment.LookupPayType("wechat")
			alipay, _ := payment.LookupPayType("alipayhk")

			at := f.clock.Now()
			created, err := client.CreateMPM(ctx, payment.CreateRequest{
				OutTradeNo: "CLIENT-1", Amount: payment.Amount{Minor: 4200, Currency: hkd}, PayType: wechat,
				Expiry: 10 * time.Minute, GoodsName: "Egg tart", TxTime: at,
			})
			if err != nil {
				t.Fatal(err)
			}
			txn, err := client.QueryOrder(ctx, payment.OrderRef{OutTradeNo: "CLIENT-1", TxTime: at})
			if err != nil || txn.Outcome() != payment.OutcomePending || txn.SysSN != created.SysSN {
				t.Fatalf("query: %+v, %v", txn, err)
			}
			if err := client.CancelOrder(ctx, payment.OrderRef{OutTradeNo: "CLIENT-1", SysSN: created.SysSN, Amount: payment.Amount{Minor: 4200, Currency: hkd}, PayType: wechat, TxTime: at}); err != nil {
				t.Fatal(err)
			}
			if txn, err = client.QueryOrder(ctx, payment.OrderRef{OutTradeNo: "CLIENT-1", SysSN: created.SysSN}); err != nil || txn.Outcome() != payment.OutcomeClosed {
				t.Fatalf("after cancel: %+v, %v", txn, err)
			}

			paid, err := client.CreateMPM(ctx, payment.CreateRequest{
				OutTradeNo: "CLIENT-2", Amount: payment.Amount{Minor: 5000, Currency: hkd}, PayType: alipay, TxTime: f.clock.Now(),
			})
			if err != nil {
				t.Fatal(err)
			}
			if err := f.sim.Pay(paid.SysSN); err != nil {
				t.Fatal(err)
			}
			ref, err := client.Refund(ctx, payment.RefundRequest{Orig: payment.OrderRef{SysSN: paid.SysSN}, OutTradeNo: "CLIENT-2-R1", Amount: payment.Amount{Minor: 1500}, TxTime: f.clock.Now()})
			if err != nil || ref.OrigSysSN != paid.SysSN || ref.TxAmt != 1500 {
				t.Fatalf("refund: %+v, %v", ref, err)
			}
			_, err = client.Refund(ctx, payment.RefundRequest{Orig: payment.OrderRef{SysSN: paid.SysSN}, OutTradeNo: "CLIENT-2-R2", Amount: payment.Amount{Minor: 3501}, TxTime: f.clock.Now()})
			if code, _ := payment.CodeOf(err); code != qfpay.CodeRefundTooLarge {
				t.Fatalf("over-refund: %v", err)
			}
			if _, err := client.QueryOrder(ctx, payment.OrderRef{OutTradeNo: "NOPE"}); err == nil {
				t.Fatal("an unknown order was found")
			}
		})
	}
}

// A dropped create reply is settled by the client's query: the order is
// adopted, and the gateway holds exactly one. (Its QR cannot be had again:
// the query carries no qrcode.)
func TestWithQFPayClientCommitDrop(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.CommitDropRate = 1 })
	client, err := qfpay.NewClient(testApp, testKey, qfpay.WithBaseURL(f.srv.URL), qfpay.WithRetry(3, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	hkd, _ := payment.LookupCurrency("HKD")
	wechat, _ := payment.LookupPayType("wechat")
	created, err := client.CreateMPM(context.Background(), payment.CreateRequest{
		OutTradeNo: "CLIENT-DROP", Amount: payment.Amount{Minor: 300, Currency: hkd}, PayType: wechat, TxTime: f.clock.Now(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if !created.Adopted || created.SysSN != f.sim.Orders()[0].SysSN {
		t.Fatalf("created %+v: want the order adopted", created)
	}
	if n := len(f.sim.Orders()); n != 1 {
		t.Fatalf("%d orders", n)
	}
}
