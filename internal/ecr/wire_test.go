package ecr

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"qrkiosk/internal/ecr/posclient"
	"qrkiosk/payment"
)

// terminal is the shape the kiosk's LAN route takes: read the body (capped),
// decode, check the endpoint, answer.
func terminal(t *testing.T, keys Keys) (*httptest.Server, *posclient.Client) {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/pos/{endpoint}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
		if err != nil {
			_, _ = w.Write(Refused(CodeOther, "request too large").JSON())
			return
		}
		req, err := Decode(body, keys)
		if err == nil {
			err = CheckEndpoint(r.PathValue("endpoint"), req)
		}
		if err != nil {
			_, _ = w.Write(AnswerFor(err).JSON())
			return
		}
		var data any
		switch req := req.(type) {
		case *Payment:
			data = TradeData{Respcd: "0000", TxAmt: req.Amount.TxAmt(), TxCurrCd: req.Amount.Currency.Code, SysSN: "20250826155400087645770447", OutTradeNo: req.OutTradeNo}
		case *Refund:
			data = RefundData{Respcd: "0000", TxAmt: req.Amount.TxAmt(), TxCurrCd: "HKD", OrigSysSN: req.OrderID, SysSN: "20250826155400099999999999"}
		}
		a, err := Accepted(data)
		if err != nil {
			t.Error(err)
		}
		_, _ = w.Write(a.JSON())
	})
	srv := httptest.NewTLSServer(mux)
	t.Cleanup(srv.Close)
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	return srv, posclient.New(strings.TrimPrefix(srv.URL, "https://"), keys.POSKey, pool)
}

// TestOdooDrivesTheKiosk: the POS stand-in, sending what Odoo sends over
// HTTPS, gets the answers Odoo acts on.
func TestOdooDrivesTheKiosk(t *testing.T) {
	_, pos := terminal(t, Keys{POSKey: testKey, Encryption: true})
	ctx := context.Background()

	a, err := pos.Send(ctx, "trade", posclient.Trade(posclient.Number(12.34), "wx", tradeNo))
	if err != nil || !a.OK() {
		t.Fatalf("trade: %+v, %v", a, err)
	}
	var trade TradeData
	if err := json.Unmarshal([]byte(a.Data), &trade); err != nil || trade.TxAmt != "1234" || trade.OutTradeNo != tradeNo {
		t.Fatalf("trade data %q: %v", a.Data, err)
	}

	a, err = pos.Send(ctx, "cancel", posclient.Refund("20250826155400087645770447", "12.50"))
	if err != nil || !a.OK() {
		t.Fatalf("refund: %+v, %v", a, err)
	}
	var refund RefundData
	if err := json.Unmarshal([]byte(a.Data), &refund); err != nil || refund.TxAmt != "1250" || refund.OrigSysSN != "20250826155400087645770447" {
		t.Fatalf("refund data %q: %v", a.Data, err)
	}

	if a, err = pos.Send(ctx, "cancel_request", posclient.CancelRequest()); err != nil || !a.OK() || a.Data != "" {
		t.Fatalf("cancel request: %+v, %v", a, err)
	}

	a, err = pos.Send(ctx, "trade", posclient.Trade(posclient.Number(5), "card_payment", tradeNo))
	if err != nil || a.OK() || a.Cancelled() ||
		a.Message() != `Error Code: 4006`+"\n"+`Error Message: bad channel: this kiosk takes QR payments only; card channel card_payment is not accepted` {
		t.Fatalf("card payment: %+v (%q), %v", a, a.Message(), err)
	}

	a, err = pos.Send(ctx, "trade", posclient.CancelRequest())
	if err != nil || a.Respcd != "4006" || !strings.Contains(a.Resperr, "/api/pos/cancel_request, not /api/pos/trade") {
		t.Fatalf("cancel request on trade: %+v, %v", a, err)
	}
}

// TestWrongPOSKey: a POS set up with another key is told so, without the
// kiosk acting on anything.
func TestWrongPOSKey(t *testing.T) {
	srv, _ := terminal(t, Keys{POSKey: testKey, Encryption: true})
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	other := posclient.New(strings.TrimPrefix(srv.URL, "https://"), "ffffffffffffffffffffffffffffffff", pool)
	a, err := other.Send(context.Background(), "trade", posclient.Trade(posclient.Number(1), "wx", tradeNo))
	if err != nil || a.Respcd != "5001" || !strings.Contains(a.Message(), "check that the POS uses this kiosk's POS-KEY") {
		t.Fatalf("answer %+v, %v", a, err)
	}
	a, err = other.Post(context.Background(), "trade", []byte(strings.Repeat("A", MaxBody+1)))
	if err != nil || a.Respcd != "4005" {
		t.Fatalf("oversized body: %+v, %v", a, err)
	}
}

// TestNoticesReachTheWebhook: the kiosk's notifications pass the checks
// Odoo's /qfpay/notify makes, and a notification signed with another key
// does not.
func TestNoticesReachTheWebhook(t *testing.T) {
	const notifyKey = "my_qfpay_notification_key"
	var mu sync.Mutex
	var got []*posclient.Notice
	srv := httptest.NewServer(&posclient.Receiver{NotifyKey: notifyKey, Log: slog.New(slog.DiscardHandler), OnNotice: func(n *posclient.Notice) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, n)
	}})
	defer srv.Close()
	hkd := payment.Currency{Code: "HKD", Exponent: 2, Symbol: "HK$"}
	at := time.Date(2025, 8, 26, 17, 50, 34, 0, payment.HongKong)
	paid, err := PaymentNotice{OutTradeNo: tradeNo, SysSN: "20250826155400087645770447", ChnlSN: "2025085675626675", PayType: "800201",
		Amount: payment.Amount{Minor: 1234, Currency: hkd}, TxTime: at, SysTime: at, PayTime: at.Add(3 * time.Second)}.Body()
	if err != nil {
		t.Fatal(err)
	}
	refunded, err := RefundNotice{OrigOutTradeNo: tradeNo, OrigSysSN: "20250826155400087645770447", OutTradeNo: "R1", SysSN: "20250826155400099999999999",
		Amount: payment.Amount{Minor: 1250, Currency: hkd}, TxTime: at, SysTime: at}.Body()
	if err != nil {
		t.Fatal(err)
	}
	post := func(body []byte, key string) (int, string) {
		req, err := NewNoticeRequest(context.Background(), srv.URL+"/qfpay/notify", body, key)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := post(paid, notifyKey); code != 200 || body != "SUCCESS" {
		t.Fatalf("payment notice answered %d %q", code, body)
	}
	if code, body := post(refunded, notifyKey); code != 200 || body != "SUCCESS" {
		t.Fatalf("refund notice answered %d %q", code, body)
	}
	if code, _ := post(paid, "another key"); code != http.StatusBadRequest {
		t.Fatalf("notice signed with another key answered %d", code)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 {
		t.Fatalf("webhook took %d notices; want 2", len(got))
	}
	p, r := got[0], got[1]
	if !p.Paid() || p.Refund() || p.LineUUID != "f1c2e3d4-a5b6-4c7d-8e9f-0a1b2c3d4e5f" || p.SessionID != "17" || p.PaymentMethodID != "3" ||
		p.SysSN != "20250826155400087645770447" || p.ChnlSN != "2025085675626675" || p.Fields["txamt"] != "1234" || p.Fields["paydtm"] != "2025-08-26 17:50:37" {
		t.Fatalf("payment notice as Odoo reads it: %+v", p)
	}
	if _, has := p.Fields["orig_out_trade_no"]; has {
		t.Fatal("a payment notice carries orig_out_trade_no, which Odoo would take in place of out_trade_no")
	}
	if !r.Paid() || !r.Refund() || r.TradeNo != tradeNo || r.SysSN != "20250826155400099999999999" || r.Fields["txamt"] != "1250" {
		t.Fatalf("refund notice as Odoo reads it: %+v", r)
	}
}

func TestIncompleteNotices(t *testing.T) {
	if _, err := (PaymentNotice{SysSN: "1"}).Body(); !errors.Is(err, ErrIncompleteNotice) {
		t.Fatalf("payment notice without out_trade_no or amount: %v", err)
	}
	if _, err := (RefundNotice{SysSN: "1", OrigSysSN: "2"}).Body(); !errors.Is(err, ErrIncompleteNotice) {
		t.Fatalf("refund notice without orig_out_trade_no: %v", err)
	}
}
