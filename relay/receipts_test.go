package relay

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"qrkiosk/relay/pgtest"
	"qrkiosk/relay/relayclient"
	"qrkiosk/relay/wire"
)

var hkt = time.FixedZone("HKT", 8*3600)

// testReceipt is what the kiosk sends for a paid sale.
func testReceipt() wire.Receipt {
	return wire.Receipt{Kind: wire.ReceiptSale, Merchant: "Lucky Star Café 福星茶餐廳", Time: time.Date(2026, 12, 7, 14, 32, 5, 0, hkt),
		Amount: 123450, Currency: "HKD", Wallet: wire.Names{En: "Alipay HK", ZhHant: "支付寶香港", ZhHans: "支付宝香港"},
		Status: wire.ReceiptPaid, SysSN: "20261207154800020001", OutTradeNo: "K20261207143205A1B2C3", POSRef: "POS-0042-118"}
}

// linkedClient is a kiosk's relay client connected to tr.
func linkedClient(t *testing.T, tr *testRelay, udid string) *relayclient.Client {
	t.Helper()
	c := relayclient.NewClient(relayclient.Config{URL: tr.wsURL(), Token: testToken, UDID: udid})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	for deadline := time.Now().Add(10 * time.Second); !c.Up(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the client did not connect")
		}
	}
	return c
}

// fetch GETs a receipt's link, over http from the test (the link says
// https: the relay sits behind TLS).
func fetch(t *testing.T, tr *testRelay, link string) (*http.Response, string) {
	t.Helper()
	i := strings.Index(link, "/r/")
	if i < 0 {
		t.Fatalf("link %q has no /r/", link)
	}
	resp, err := http.Get(tr.url(link[i:]))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return resp, b.String()
}

// A kiosk stores a receipt and gets its link; the page shows what the
// slip says, is kept out of search engines and shared caches, and the
// same receipt sent again is the same link. On SQLite and PostgreSQL.
func TestReceiptRoundTrip(t *testing.T) {
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			dir := t.TempDir()
			mod := func(c *Config) {}
			if kind == "postgres" {
				url := pgtest.NewDatabase(t)
				dir, mod = "", func(c *Config) { c.Store = pgAt(t, url) }
			}
			tr := startRelay(t, dir, "127.0.0.1:0", mod)
			c := linkedClient(t, tr, "counter-1")
			ctx := context.Background()
			link, err := c.PutReceipt(ctx, testReceipt())
			if err != nil {
				t.Fatal(err)
			}
			id := link[strings.LastIndex(link, "/")+1:]
			if !strings.HasPrefix(link, "https://"+tr.addr+"/r/") || !validReceiptID(id) {
				t.Fatalf("link %q", link)
			}
			if b, _ := base64.RawURLEncoding.DecodeString(id); len(b) != 16 {
				t.Fatalf("id %q carries %d bytes, want 128 bits", id, len(b))
			}
			resp, page := fetch(t, tr, link)
			if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
				t.Fatalf("page: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			for _, want := range []string{"HK$1,234.50", "PAID", "已付款", "Lucky Star Café 福星茶餐廳", "2026-12-07 14:32:05",
				"20261207154800020001", "K20261207143205A1B2C3", "POS-0042-118", "支付寶香港", `name="robots" content="noindex`, "<svg"} {
				if !strings.Contains(page, want) {
					t.Errorf("the page does not show %q", want)
				}
			}
			for h, want := range map[string]string{"X-Robots-Tag": "noindex, nofollow, noarchive", "Cache-Control": "private, max-age=3600",
				"Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff"} {
				if got := resp.Header.Get(h); got != want {
					t.Errorf("%s: %q, want %q", h, got, want)
				}
			}
			if again, err := c.PutReceipt(ctx, testReceipt()); err != nil || again != link {
				t.Errorf("the same receipt again: %q %v, want %q", again, err, link)
			}
			refund := testReceipt()
			refund.Kind, refund.Status, refund.Amount, refund.SysSN, refund.OrigSysSN = wire.ReceiptRefund, "", 2000, "R-1", "20261207154800020001"
			other, err := c.PutReceipt(ctx, refund)
			if err != nil || other == link {
				t.Fatalf("the refund's receipt: %q %v", other, err)
			}
			if _, page := fetch(t, tr, other); !strings.Contains(page, "Refund receipt") || !strings.Contains(page, "HK$20.00") || !strings.Contains(page, "原交易編號") {
				t.Errorf("refund page:\n%s", page)
			}
		})
	}
}

// Receipt links start with the relay's public URL when it has one.
func TestReceiptLinkUnderPublicURL(t *testing.T) {
	tr := startRelay(t, t.TempDir(), "127.0.0.1:0", func(c *Config) { c.PublicURL = "https://relay.example.invalid/" })
	link, err := linkedClient(t, tr, "counter-1").PutReceipt(context.Background(), testReceipt())
	if err != nil || !strings.HasPrefix(link, "https://relay.example.invalid/r/") {
		t.Fatalf("link %q %v", link, err)
	}
	for _, bad := range []string{"ftp://relay.example", "https://", "https://relay.example/path", "relay.example"} {
		if _, _, err := newServer(Config{Key: testKey, Store: sqliteAt(t, t.TempDir()), PublicURL: bad}); err == nil || !strings.Contains(err.Error(), "PublicURL") {
			t.Errorf("PublicURL %q: %v", bad, err)
		}
	}
}

// What the relay will not keep is refused with its reason and nothing is
// stored: a bad receipt, one past the device's daily limit, any when
// e-receipts are off.
func TestReceiptRefusals(t *testing.T) {
	tr := startRelay(t, t.TempDir(), "127.0.0.1:0", func(c *Config) { c.Receipts.PerDevice = 2 })
	c := linkedClient(t, tr, "counter-1")
	ctx := context.Background()
	unknown := testReceipt()
	unknown.Currency = "XYZ"
	var refused *relayclient.RefusedError
	if _, err := c.PutReceipt(ctx, unknown); !errors.As(err, &refused) || !strings.Contains(err.Error(), "currency") {
		t.Errorf("unknown currency: %v", err)
	}
	for i := range 2 {
		r := testReceipt()
		r.OutTradeNo += string(rune('a' + i))
		if _, err := c.PutReceipt(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	third := testReceipt()
	third.OutTradeNo += "c"
	if _, err := c.PutReceipt(ctx, third); !errors.As(err, &refused) || !strings.Contains(err.Error(), "as many receipts") {
		t.Errorf("third receipt of a device allowed two a day: %v", err)
	}

	off := startRelay(t, t.TempDir(), "127.0.0.1:0", func(c *Config) { c.ReceiptRetain = -1 })
	if _, err := linkedClient(t, off, "counter-1").PutReceipt(ctx, testReceipt()); !errors.As(err, &refused) || !strings.Contains(err.Error(), "off") {
		t.Errorf("e-receipts off: %v", err)
	}
}

// A receipt frame sent by hand: without a ref, without a receipt, or
// with one the kiosk's client would never send, is answered with an error
// naming it, and the connection and its subscriptions go on.
func TestMalformedReceiptFrames(t *testing.T) {
	tr := startRelay(t, t.TempDir(), "127.0.0.1:0", nil)
	k := dialKiosk(t, tr, nil)
	bad := testReceipt()
	bad.Merchant = "line\nbreak"
	for _, f := range []wire.KioskFrame{
		{Type: wire.TypeReceipt, Receipt: func() *wire.Receipt { r := testReceipt(); return &r }()},
		{Type: wire.TypeReceipt, Ref: strings.Repeat("r", 65), Receipt: func() *wire.Receipt { r := testReceipt(); return &r }()},
		{Type: wire.TypeReceipt, Ref: "1"},
		{Type: wire.TypeReceipt, Ref: "2", Receipt: &bad},
	} {
		if err := k.ws.WriteJSON(f); err != nil {
			t.Fatal(err)
		}
		m, err := k.next(5 * time.Second)
		if err != nil || m.Type != wire.TypeError || m.Ref != f.Ref || m.URL != "" {
			t.Errorf("frame %+v: answered %+v %v", f, m, err)
		}
	}
	k.subscribe("QK-STILL-HERE", "")
}

// A page that is not there looks the same whatever the reason, is never
// cached, and a source that keeps asking for pages that are not there is
// turned away.
func TestReceiptPageMisses(t *testing.T) {
	tr := startRelay(t, t.TempDir(), "127.0.0.1:0", func(c *Config) { c.RefusalsPerMinute = 5 })
	for _, path := range []string{"/r/nope", "/r/" + newReceiptID(), "/r/" + strings.Repeat("A", 21) + "=", "/r/" + strings.Repeat("_", 22)} {
		resp, page := fetch(t, tr, path)
		if resp.StatusCode != 404 || resp.Header.Get("Cache-Control") != "no-store" || !strings.Contains(page, "Receipt not found") || resp.Header.Get("X-Robots-Tag") == "" {
			t.Errorf("%s: %d %q", path, resp.StatusCode, resp.Header.Get("Cache-Control"))
		}
	}
	resp, _ := fetch(t, tr, "/r/"+newReceiptID())
	resp2, _ := fetch(t, tr, "/r/"+newReceiptID())
	if resp.StatusCode != 404 || resp2.StatusCode != http.StatusTooManyRequests || resp2.Header.Get("Retry-After") == "" {
		t.Errorf("5th and 6th miss: %d, %d (Retry-After %q)", resp.StatusCode, resp2.StatusCode, resp2.Header.Get("Retry-After"))
	}
}

// A receipt past its days is not shown, even before pruning deletes it.
func TestReceiptPastItsDays(t *testing.T) {
	tr := startRelay(t, t.TempDir(), "127.0.0.1:0", func(c *Config) { c.ReceiptRetain = time.Millisecond })
	link, err := linkedClient(t, tr, "counter-1").PutReceipt(context.Background(), testReceipt())
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Millisecond)
	if resp, _ := fetch(t, tr, link); resp.StatusCode != 404 {
		t.Errorf("a receipt past its days: %d", resp.StatusCode)
	}
}

// FuzzReceiptPage: whatever receipt passes the check renders, and its
// texts appear escaped, never as markup.
func FuzzReceiptPage(f *testing.F) {
	f.Add("sale", "paid", "Tea <b>&</b> \"shop\"", int64(1234), int64(0), "HKD", "Alipay", "S1", "O1", "", "")
	f.Add("refund", "", "福星", int64(99), int64(0), "JPY", "WeChat Pay", "R1", "O2", "P<script>", "S1")
	f.Add("sale", "partly_refunded", "", int64(500), int64(100), "HKD", "x", "S", "O", "", "")
	f.Fuzz(func(t *testing.T, kind, status, merchant string, amount, refunded int64, currency, wallet, syssn, otn, posRef, orig string) {
		r := wire.Receipt{Kind: kind, Status: status, Merchant: merchant, Time: time.Date(2026, 1, 2, 3, 4, 5, 0, hkt), Amount: amount,
			Refunded: refunded, Currency: currency, Wallet: wire.Names{En: wallet}, SysSN: syssn, OutTradeNo: otn, POSRef: posRef, OrigSysSN: orig}
		if r.Check() != nil {
			return
		}
		d, err := pageOf(r)
		if err != nil {
			return // a currency the relay does not know: refused when stored
		}
		var b strings.Builder
		if err := receiptPage.Execute(&b, d); err != nil {
			t.Fatalf("render: %v", err)
		}
		if strings.Contains(merchant, "<") && strings.Contains(b.String(), merchant) {
			t.Fatalf("merchant %q appears unescaped", merchant)
		}
	})
}
