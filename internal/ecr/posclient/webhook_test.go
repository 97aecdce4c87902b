package posclient

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const notifyKey = "my_qfpay_notification_key"

// tourPayment is the payment notification of Odoo's own tour (common.js).
const tourPayment = `{"cash_fee_type": "", "exchange_rate": "", "cancel": "0", "pay_type": "802808", "txdtm": "2025-08-26 17:50:34", "out_trade_no": "0f1e--12--7", "syssn": "20250826155400087645770447", "status": "1", "sysdtm": "2025-08-26 17:50:36", "paydtm": "2025-08-26 17:50:37", "goods_name": "", "txcurrcd": "HKD", "mchid": "8Bx9aHgNmaQJ", "customer_source": "HK", "cash_fee": "0", "chnlsn2": "", "cardcd": "", "txamt": "1234", "outcardnm": "", "respcd": "0000", "goods_info": "", "notify_type": "payment", "chnlsn": "2025085675626675"}`

// tourRefund is the tour's refund notification.
const tourRefund = `{"status": "1", "sysdtm": "2025-08-26 17:51:34", "txcurrcd": "HKD", "orig_out_trade_no": "0f1e--12--7", "mchid": "8Bx9jdHgmaQJ", "txdtm": "2025-08-26 17:51:34", "txamt": "1234", "orig_syssn": "20250826155400087645770447", "out_trade_no": "2cccf6c02d4835bdb79d7c96beb95cbf", "syssn": "20250821155400847635342115", "respcd": "0000", "notify_type": "cancel"}`

func sign(body string) string {
	return strings.ToUpper(md5hex(body + notifyKey))
}

func TestVerify(t *testing.T) {
	s := sign(tourPayment)
	for _, c := range []struct {
		name, body, sign, key string
		ok                    bool
	}{
		{"as signed", tourPayment, s, notifyKey, true},
		{"lower-case signature (Odoo compares exactly)", tourPayment, strings.ToLower(s), notifyKey, false},
		{"another key", tourPayment, s, "other", false},
		{"body re-serialised", strings.ReplaceAll(tourPayment, ": ", ":"), s, notifyKey, false},
		{"no signature", tourPayment, "", notifyKey, false},
	} {
		if err := Verify([]byte(c.body), c.sign, c.key); (err == nil) != c.ok {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

func TestReceiver(t *testing.T) {
	var got []*Notice
	srv := httptest.NewServer(&Receiver{NotifyKey: notifyKey, Log: slog.New(slog.DiscardHandler), OnNotice: func(n *Notice) { got = append(got, n) }})
	defer srv.Close()
	post := func(method, body, sig string) (int, string) {
		req, _ := http.NewRequest(method, srv.URL+"/qfpay/notify", strings.NewReader(body))
		req.Header.Set("X-QF-SIGN", sig)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, strings.TrimSpace(string(b))
	}
	for _, c := range []struct {
		name, method, body, sig string
		code                    int
		says                    string
	}{
		{"tour payment", "POST", tourPayment, sign(tourPayment), 200, "SUCCESS"},
		{"tour refund", "POST", tourRefund, sign(tourRefund), 200, "SUCCESS"},
		{"GET", "GET", "", "", 405, "POST only"},
		{"bad signature", "POST", tourPayment, sign(tourRefund), 400, "signature mismatch"},
		{"not JSON", "POST", "status=1", sign("status=1"), 400, "not a JSON object"},
		{"trade number not uuid--session--method", "POST", `{"out_trade_no":"ORDER-1","status":"1"}`, sign(`{"out_trade_no":"ORDER-1","status":"1"}`), 400, "not uuid--session--method"},
		{"session not a number", "POST", `{"out_trade_no":"u--s--1"}`, sign(`{"out_trade_no":"u--s--1"}`), 400, "not uuid--session--method"},
		{"empty orig_out_trade_no wins over out_trade_no", "POST", `{"orig_out_trade_no":"","out_trade_no":"u--1--2"}`, sign(`{"orig_out_trade_no":"","out_trade_no":"u--1--2"}`), 400, "not uuid--session--method"},
		{"no trade number", "POST", `{"status":"1"}`, sign(`{"status":"1"}`), 400, "no out_trade_no"},
	} {
		if code, body := post(c.method, c.body, c.sig); code != c.code || !strings.Contains(body, c.says) {
			t.Errorf("%s: %d %q; want %d %q", c.name, code, body, c.code, c.says)
		}
	}
	if len(got) != 2 {
		t.Fatalf("%d notices delivered; want the tour's 2", len(got))
	}
	p, r := got[0], got[1]
	if !p.Paid() || p.Refund() || p.LineUUID != "0f1e" || p.SessionID != "12" || p.PaymentMethodID != "7" || p.ChnlSN != "2025085675626675" || p.SysSN != "20250826155400087645770447" {
		t.Errorf("payment %+v", p)
	}
	if !r.Paid() || !r.Refund() || r.TradeNo != "0f1e--12--7" || r.SysSN != "20250821155400847635342115" {
		t.Errorf("refund %+v", r)
	}
}
