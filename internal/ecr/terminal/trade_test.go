package terminal

import (
	"context"
	"image"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	gozxingqr "github.com/makiuchi-d/gozxing/qrcode"

	"qrkiosk/internal/ecr/posclient"
	"qrkiosk/internal/escpos/escpostest"
	"qrkiosk/internal/journal"
	"qrkiosk/internal/lan"
	"qrkiosk/payment"
)

// A POS payment in Odoo's exact format: the kiosk's till takes it under
// the POS's out_trade_no, the simulated customer pays, the held request is
// answered 6000 with the payment's data, and the POS's webhook gets one
// notification, signed as QFPay signs, that Odoo's controller accepts and
// matches to its payment line.
func TestTradePaid(t *testing.T) {
	r := newRig(t, rigOpt{})
	answer := r.sendAsync("trade", trade(12.34, "wx", tradeNo))
	s := r.live()
	snap := s.Order.Snapshot()
	if snap.OutTradeNo != tradeNo || snap.Amount.Minor != 1234 || snap.PayType.Wallet != "wechat" || s.POSRef != tradeNo || !s.FromPOS {
		t.Fatalf("the till's sale: %+v %+v", s, snap)
	}
	if err := r.k.Demo.Pay(snap); err != nil {
		t.Fatal(err)
	}
	a := r.answer(answer)
	if !a.OK() {
		t.Fatalf("answer %+v: %s", a, a.Message())
	}
	d := data(t, a)
	if d["respcd"] != "0000" || d["syssn"] != snap.SysSN || d["txamt"] != "1234" || d["txcurrcd"] != "HKD" || d["out_trade_no"] != tradeNo || d["chnlsn"] == "" || d["busicd"] != "800201" {
		t.Fatalf("data %v", d)
	}
	n := r.notices(1)[0]
	if !n.Paid() || n.Refund() || n.NotifyType != "payment" || n.LineUUID != "f1c2e3d4-a5b6-4c7d-8e9f-0a1b2c3d4e5f" || n.SessionID != "17" || n.PaymentMethodID != "3" ||
		n.SysSN != snap.SysSN || n.ChnlSN != d["chnlsn"] || n.Fields["txamt"] != "1234" || n.Fields["respcd"] != "0000" {
		t.Fatalf("notice %+v", n)
	}
	// The outbox knows it was taken.
	paymentNoticeDelivered(t, r)

	// The POS asks again (its fetch timed out): the same answer, the same
	// sale, and no second notice.
	again := r.send("trade", trade(12.34, "wx", tradeNo))
	if !again.OK() || again.Data != a.Data {
		t.Fatalf("again %+v; first %+v", again, a)
	}
	time.Sleep(300 * time.Millisecond)
	if n := len(r.hook.got()); n != 1 || r.orders() != 1 {
		t.Fatalf("%d notices, %d orders after a retry", n, r.orders())
	}
}

func paymentNoticeDelivered(t *testing.T, r *rig) journal.POSNotice {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		n, err := r.k.Journal.LookupPOSNotice(context.Background(), journal.NoticeKeyPayment(tradeNo))
		if err == nil && !n.Delivered.IsZero() {
			return n
		}
		if time.Now().After(deadline) {
			t.Fatalf("notice %+v, %v", n, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The same out_trade_no for another amount is refused: it names another
// sale.
func TestTradeSameReferenceOtherAmount(t *testing.T) {
	r := newRig(t, rigOpt{})
	first := r.sendAsync("trade", trade(12.34, "wx", tradeNo))
	r.live()
	a := r.send("trade", trade(99, "wx", tradeNo))
	if a.Respcd != "4006" || !strings.Contains(a.Resperr, "was sent before for HK$12.34") {
		t.Fatalf("answer %+v", a)
	}
	r.k.Till.Cancel("test", false)
	if a := r.answer(first); !a.Cancelled() {
		t.Fatalf("first %+v", a)
	}
}

// Cancelled at the kiosk (the cashier's Esc), the POS's request is
// answered 6001, which Odoo takes without an error; nothing is notified.
func TestTradeCancelledAtTheKiosk(t *testing.T) {
	r := newRig(t, rigOpt{})
	answer := r.sendAsync("trade", trade(5, "alipay", tradeNo))
	r.live()
	r.k.Till.Cancel("cancelled at the kiosk", false)
	if a := r.answer(answer); !a.Cancelled() || a.Resperr != "cancelled at the kiosk" {
		t.Fatalf("answer %+v", a)
	}
	time.Sleep(300 * time.Millisecond)
	if len(r.hook.got()) != 0 {
		t.Fatal("a cancelled sale was notified")
	}
}

// The POS's cancel_request (Odoo's cancel button) withdraws its sale: the
// held trade is answered 6001, the cancel_request 6000.
func TestCancelRequest(t *testing.T) {
	r := newRig(t, rigOpt{})
	answer := r.sendAsync("trade", trade(5, "alipay", tradeNo))
	r.live()
	if a := r.send("cancel_request", posclient.CancelRequest()); !a.OK() {
		t.Fatalf("cancel_request %+v", a)
	}
	if a := r.answer(answer); !a.Cancelled() {
		t.Fatalf("trade %+v", a)
	}
	if a := r.send("cancel_request", posclient.CancelRequest()); a.Respcd != "6002" || !strings.Contains(a.Resperr, "nothing from the POS") {
		t.Fatalf("with nothing to cancel: %+v", a)
	}
}

// Never two: while the cashier's own sale is live, the POS's is refused
// (an error Odoo shows the cashier) and nothing is recorded for it; the
// POS's cancel_request never stops the cashier's sale.
func TestTradeWhileBusy(t *testing.T) {
	r := newRig(t, rigOpt{})
	pt, _ := payment.LookupPayType("alipayhk")
	own, err := r.k.Till.Start(payment.CreateRequest{OutTradeNo: payment.NewOutTradeNo("QK", time.Now()), Amount: payment.Amount{Minor: 700, Currency: r.k.Config.Currency},
		PayType: pt, Expiry: 5 * time.Minute, TxTime: time.Now()}, "", false)
	if err != nil {
		t.Fatal(err)
	}
	a := r.send("trade", trade(12.34, "wx", tradeNo))
	if a.Respcd != "6002" || !strings.Contains(a.Resperr, "busy: a sale of HK$7.00 is in progress") {
		t.Fatalf("answer %+v", a)
	}
	if a := r.send("cancel_request", posclient.CancelRequest()); a.OK() {
		t.Fatalf("the POS cancelled the cashier's sale: %+v", a)
	}
	if own.Order.Snapshot().Cancelling || r.orders() != 1 {
		t.Fatalf("the cashier's sale was touched, or another recorded (%d orders)", r.orders())
	}
	// Nor can the POS take the cashier's sale over by sending its number.
	ownNo := own.Order.Snapshot().OutTradeNo
	own.Order.Cancel()
	<-own.Order.Done()
	if a := r.send("trade", trade(7, "alipay", ownNo)); a.Respcd != "4006" || !strings.Contains(a.Resperr, "a sale the kiosk rang up itself") {
		t.Fatalf("the POS sent the cashier's number: %+v", a)
	}
	if _, err := r.k.Journal.POSSale(context.Background(), ownNo); err == nil {
		t.Fatal("the cashier's sale was recorded as the POS's")
	}
}

// payment_timeout shorter than a QR's shortest life: the sale is withdrawn
// when it passes, and the POS is told it was not paid in time.
func TestTradePaymentTimeout(t *testing.T) {
	r := newRig(t, rigOpt{})
	p := append(trade(5, "alipay", tradeNo), posclient.Field{Key: "payment_timeout", Value: posclient.Int(1)})
	a := r.send("trade", p)
	if a.Respcd != "6002" || !strings.Contains(a.Resperr, "within payment_timeout") {
		t.Fatalf("answer %+v", a)
	}
	if _, live := r.k.Till.Live(); live {
		t.Fatal("the sale is still live")
	}
}

// A sale by the customer's code (SCAN_PAY) waits for the cashier's
// scanner; the code is charged for the POS's amount under its
// out_trade_no with its channel's pay type.
func TestTradeScanPay(t *testing.T) {
	r := newRig(t, rigOpt{})
	p := append(trade(8.8, "alipay", tradeNo), posclient.Field{Key: "scan_type", Value: posclient.Str("SCAN_PAY")})
	answer := r.sendAsync("trade", p)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if w, ok := r.k.Till.Waiting(); ok {
			if w.Amount.Minor != 880 || w.POSRef != tradeNo || w.PayType.Code != "800108" {
				t.Fatalf("wait %+v", w)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the till does not wait for the scanner")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The cashier scans (as the pane does: its own all-in-one request).
	cpm, _ := payment.LookupCPMPayType(payment.AllInOneCPM)
	s, err := r.k.Till.Start(payment.CreateRequest{OutTradeNo: "QK-typed", Amount: payment.Amount{Minor: 1, Currency: r.k.Config.Currency},
		PayType: cpm, TxTime: time.Now(), AuthCode: "287654321098760000"}, "", false)
	if err != nil {
		t.Fatal(err)
	}
	if snap := s.Order.Snapshot(); snap.OutTradeNo != tradeNo || snap.Amount.Minor != 880 || snap.PayType.Code != "800108" {
		t.Fatalf("sale %+v", snap)
	}
	a := r.answer(answer)
	if !a.OK() || data(t, a)["out_trade_no"] != tradeNo {
		t.Fatalf("answer %+v", a)
	}
	if n := r.notices(1)[0]; !n.Paid() || n.TradeNo != tradeNo {
		t.Fatalf("notice %+v", n)
	}
}

// The POS's fetch is dropped while the customer pays (the cashier's
// browser reloaded): the sale goes on, its notification still reaches the
// webhook, and the POS asking again gets the payment.
func TestTradeFetchDropped(t *testing.T) {
	r := newRig(t, rigOpt{})
	ctx, cancel := context.WithCancel(context.Background())
	gone := make(chan error, 1)
	go func() {
		_, err := r.pos.Send(ctx, "trade", trade(20, "payme", tradeNo))
		gone <- err
	}()
	s := r.live()
	cancel()
	if err := <-gone; err == nil {
		t.Fatal("the dropped fetch got an answer")
	}
	if err := r.k.Demo.Pay(s.Order.Snapshot()); err != nil {
		t.Fatal(err)
	}
	if n := r.notices(1)[0]; !n.Paid() || n.TradeNo != tradeNo {
		t.Fatalf("notice %+v", n)
	}
	if a := r.send("trade", trade(20, "payme", tradeNo)); !a.OK() || data(t, a)["syssn"] != s.Order.Snapshot().SysSN {
		t.Fatalf("asked again: %+v", a)
	}
	if r.orders() != 1 {
		t.Fatalf("%d orders", r.orders())
	}
}

// An inquiry (4001) answers a payment as the kiosk holds it, by syssn or
// by the POS's out_trade_no.
func TestInquiry(t *testing.T) {
	r := newRig(t, rigOpt{})
	answer := r.sendAsync("trade", trade(12.34, "wx", tradeNo))
	s := r.live()
	r.k.Demo.Pay(s.Order.Snapshot())
	paid := data(t, r.answer(answer))
	for _, q := range []posclient.Payload{
		{{Key: "func_type", Value: posclient.Int(4001)}, {Key: "orderId", Value: posclient.Str(paid["syssn"])}},
		{{Key: "func_type", Value: posclient.Int(4001)}, {Key: "out_trade_no", Value: posclient.Str(tradeNo)}},
	} {
		a := r.send("query_transaction", q)
		d := data(t, a)
		if !a.OK() || d["syssn"] != paid["syssn"] || d["respcd"] != "0000" || d["out_trade_no"] != tradeNo || d["allow_refund_amt"] != "1234" || d["chnlsn"] != paid["chnlsn"] {
			t.Fatalf("inquiry %+v %v", a, d)
		}
	}
	q := posclient.Payload{{Key: "func_type", Value: posclient.Int(4001)}, {Key: "orderId", Value: posclient.Str("nope")}}
	if a := r.send("query_transaction", q); a.Respcd != "6002" {
		t.Fatalf("unknown order: %+v", a)
	}
	pr := posclient.Payload{{Key: "func_type", Value: posclient.Int(3001)}, {Key: "orderId", Value: posclient.Str(paid["syssn"])}}
	if a := r.send("print_receipt", pr); a.Respcd != "6002" || !strings.Contains(a.Resperr, "no receipt printer") {
		t.Fatalf("print without a printer: %+v", a)
	}
}

// A payment is held well past the LAN server's read and write timeouts
// (here 1 s): the POS still gets its answer when the customer pays later.
func TestTradeHeldPastServerTimeouts(t *testing.T) {
	r := newRig(t, rigOpt{})
	certs, err := lan.EnsureCerts(filepath.Join(r.data, "lan"), time.Now(), lan.Hosts{})
	if err != nil {
		t.Fatal(err)
	}
	srv := lan.New(lan.Config{TLS: certs.TLSConfig(), ReadTimeout: time.Second, WriteTimeout: time.Second, IdleTimeout: time.Second}, slog.New(slog.DiscardHandler))
	srv.Handle("/api/pos/{endpoint}", r.term, Route)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Shutdown(context.Background()) })
	r.pos = posclient.New(ln.Addr().String(), posKey, r.pool)

	answer := r.sendAsync("trade", trade(12.34, "wx", tradeNo))
	s := r.live()
	time.Sleep(2500 * time.Millisecond)
	if err := r.k.Demo.Pay(s.Order.Snapshot()); err != nil {
		t.Fatal(err)
	}
	if a := r.answer(answer); !a.OK() {
		t.Fatalf("answer %+v", a)
	}
}

// With [printer] set, the POS's print receipt (3001) and print summary
// (3002) come out of the kiosk's own printer: a slip for the payment the
// POS names by syssn, and the day's summary; an unknown payment prints
// nothing.
func TestPOSPrintsOnTheKiosksPrinter(t *testing.T) {
	printer := escpostest.Start(t)
	r := newRig(t, rigOpt{config: "[printer]\naddress = \"" + printer.Addr() + "\"\nwidth_mm = 58\n"})
	answer := r.sendAsync("trade", trade(12.34, "wx", tradeNo))
	s := r.live()
	r.k.Demo.Pay(s.Order.Snapshot())
	paid := data(t, r.answer(answer))

	pr := posclient.Payload{{Key: "func_type", Value: posclient.Int(3001)}, {Key: "orderId", Value: posclient.Str(paid["syssn"])}}
	if a := r.send("print_receipt", pr); !a.OK() {
		t.Fatalf("print receipt: %+v", a)
	}
	doc, err := escpostest.Decode(printer.Next(t, 10*time.Second))
	if err != nil || doc.Raster == nil {
		t.Fatalf("the receipt the printer got: %v", err)
	}
	if w := doc.Raster.Bounds().Dx(); w != 384 {
		t.Errorf("the slip is %d dots wide; 58 mm paper takes 384", w)
	}
	if got := slipQR(doc.Raster); got != paid["syssn"] {
		t.Errorf("the slip's QR reads %q, want the syssn %q", got, paid["syssn"])
	}
	unknown := posclient.Payload{{Key: "func_type", Value: posclient.Int(3001)}, {Key: "orderId", Value: posclient.Str("20990101000000000000")}}
	if a := r.send("print_receipt", unknown); a.OK() || !strings.Contains(a.Resperr, "no payment") {
		t.Fatalf("print an unknown payment: %+v", a)
	}
	sum := posclient.Payload{{Key: "func_type", Value: posclient.Int(3002)}}
	if a := r.send("transaction_info", sum); !a.OK() {
		t.Fatalf("print summary: %+v", a)
	}
	if _, err := escpostest.Decode(printer.Next(t, 10*time.Second)); err != nil {
		t.Fatalf("the summary the printer got: %v", err)
	}
	if n := printer.Pending(); n != 0 {
		t.Errorf("%d more jobs printed", n)
	}
}

// slipQR is the text of the QR code on a printed slip ("" when none reads).
func slipQR(img image.Image) string {
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		return ""
	}
	res, err := gozxingqr.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true})
	if err != nil {
		return ""
	}
	return res.GetText()
}
