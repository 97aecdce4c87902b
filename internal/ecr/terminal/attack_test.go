package terminal

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"qrkiosk/internal/ecr/posclient"
)

// Every bad request is answered in the protocol with a code and a reason
// the cashier can act on, changes nothing (no order, no sale on the till,
// nothing recorded for the POS), and is logged without the POS-KEY.
func TestBadRequestsChangeNothing(t *testing.T) {
	r := newRig(t, rigOpt{config: `pay_types = ["alipayhk", "wechat"]`})
	post := func(body string) *posclient.Answer {
		t.Helper()
		a, err := r.pos.Post(context.Background(), "trade", []byte(body))
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	sealed := func(plain string) string {
		s, err := posclient.Seal(plain, posKey)
		if err != nil {
			t.Fatal(err)
		}
		return `"` + s + `"`
	}
	wrongKey := posclient.New(strings.TrimPrefix(r.k.LAN().URL(), "https://"), "fedcba9876543210fedcba9876543210", r.pool)
	for _, c := range []struct {
		name   string
		answer func() *posclient.Answer
		code   string
		says   string
	}{
		{"wrong POS-KEY", func() *posclient.Answer {
			a, err := wrongKey.Send(context.Background(), "trade", trade(12.34, "wx", tradeNo))
			if err != nil {
				t.Fatal(err)
			}
			return a
		}, "5001", "check that the POS uses this kiosk's POS-KEY"},
		{"bad digest", func() *posclient.Answer {
			return post(sealed("{content:{amt=12.34,channel='wx',func_type=1001,out_trade_no='" + tradeNo + "'}, digest:'0123456789ABCDEF0123456789ABCDEF'}"))
		}, "4003", "not signed with this kiosk's POS-KEY"},
		{"digest of another content", func() *posclient.Answer {
			other := trade(1, "wx", tradeNo)
			return post(sealed("{content:" + trade(12.34, "wx", tradeNo).Content() + ", digest:'" + posclient.Digest(other.Content(), posKey) + "'}"))
		}, "4003", "not signed"},
		{"not base64", func() *posclient.Answer { return post(`"not base64!"`) }, "5001", "base64"},
		{"not whole AES blocks", func() *posclient.Answer { return post(`"` + base64.StdEncoding.EncodeToString([]byte("short")) + `"`) }, "5001", "cannot decrypt the request"},
		{"plain while encryption is on", func() *posclient.Answer {
			b, _ := trade(12.34, "wx", tradeNo).JSONBody(posKey)
			return post(string(b))
		}, "5001", "encrypted requests only"},
		{"not the format", func() *posclient.Answer { return post(sealed("{hello}")) }, "4006", "malformed"},
		{"oversized", func() *posclient.Answer { return post(`"` + strings.Repeat("A", 9000) + `"`) }, "4005", "over 8192 bytes"},
		{"unknown field", func() *posclient.Answer {
			return r.send("trade", append(trade(12.34, "wx", tradeNo), posclient.Field{Key: "tip", Value: posclient.Int(5)}))
		}, "4006", "tip is not a field of func_type 1001"},
		{"card channel", func() *posclient.Answer { return r.send("trade", trade(12.34, "card_payment", tradeNo)) }, "4006", "card channel card_payment is not accepted"},
		{"channel not enabled", func() *posclient.Answer { return r.send("trade", trade(12.34, "octopus", tradeNo)) }, "4006", `channel "octopus" is not enabled on this kiosk (its wallets: alipayhk, wechat`},
		{"negative amount", func() *posclient.Answer { return r.send("trade", trade(-5, "wx", tradeNo)) }, "4006", "positive amount"},
		{"over-precise amount", func() *posclient.Answer {
			return r.send("trade", posclient.Trade(posclient.Raw("12.345"), "wx", tradeNo))
		}, "4006", `amt "12.345"`},
		{"a float's artefact", func() *posclient.Answer {
			a, b := 10.1, 20.2
			return r.send("trade", trade(a+b, "wx", tradeNo))
		}, "4006", `amt "30.299999999999997"`},
		{"payment to the refund endpoint", func() *posclient.Answer { return r.send("cancel", trade(12.34, "wx", tradeNo)) }, "4006", "goes to /api/pos/trade, not /api/pos/cancel"},
		{"unknown endpoint", func() *posclient.Answer { return r.send("pay", trade(12.34, "wx", tradeNo)) }, "4005", "unknown endpoint /api/pos/pay"},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := c.answer()
			if a.Respcd != c.code || !strings.Contains(a.Resperr, c.says) || a.Status != http.StatusOK {
				t.Fatalf("answer %+v; want %s saying %q", a, c.code, c.says)
			}
		})
		time.Sleep(250 * time.Millisecond) // within the route's rate
	}
	if _, live := r.k.Till.Live(); live || r.orders() != 0 {
		t.Fatalf("a bad request started something: %d orders", r.orders())
	}
	if sales, _ := r.k.Journal.OpenPOSSales(context.Background()); len(sales) != 0 {
		t.Fatalf("POS sales recorded: %+v", sales)
	}
	logs := r.logs.String()
	if strings.Contains(logs, posKey) || strings.Contains(logs, notifyKey) || !strings.Contains(logs, "ecr: request refused") {
		t.Fatalf("the log shows a key, or no refusal:\n%s", logs)
	}
}

// The wrong method, a body over the route's cap, and a flood from one
// address: each refused cheaply, and the flood logged only in part.
func TestRouteLimits(t *testing.T) {
	r := newRig(t, rigOpt{})
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: r.pool}}}
	url := r.pos.URL("trade")
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `"respcd":"4004"`) {
		t.Fatalf("GET: %d %s", resp.StatusCode, body)
	}
	resp, err = client.Post(url, "application/json", bytes.NewReader(make([]byte, 70<<10)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("70 KiB: %d", resp.StatusCode)
	}
	limited := 0
	for range 40 {
		resp, err := client.Post(url, "application/json", strings.NewReader(`"AAAA"`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusTooManyRequests {
			limited++
		}
	}
	if limited < 20 {
		t.Fatalf("%d of 40 requests at once were limited", limited)
	}
	if n := strings.Count(r.logs.String(), "ecr: request refused"); n > logFirst {
		t.Fatalf("%d refusals logged in full; at most %d a minute", n, logFirst)
	}
}

// A POS page's CORS preflight is answered for any origin, Private Network
// Access included, and the answer itself is readable by that origin.
func TestPreflight(t *testing.T) {
	r := newRig(t, rigOpt{})
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: r.pool}}}
	req, _ := http.NewRequest(http.MethodOptions, r.pos.URL("trade"), nil)
	req.Header.Set("Origin", "https://odoo.example")
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "content-type")
	req.Header.Set("Access-Control-Request-Private-Network", "true")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	h := resp.Header
	if resp.StatusCode != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != "https://odoo.example" || h.Get("Access-Control-Allow-Private-Network") != "true" ||
		!strings.Contains(h.Get("Access-Control-Allow-Headers"), "Content-Type") {
		t.Fatalf("preflight %d %v", resp.StatusCode, h)
	}
}
