package kiosk

import (
	"bytes"
	"image/png"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"qrkiosk/internal/chromiumtest"
	"qrkiosk/internal/escpos/escpostest"
	"qrkiosk/payment"
	"qrkiosk/relay"
	"qrkiosk/relay/sqlitestore"
	"qrkiosk/sim/sfpsim"
)

// eReceiptLinks collects the e-receipt links the kiosk tells of.
func eReceiptLinks(t *testing.T, k *Kiosk) <-chan [2]string {
	ch := make(chan [2]string, 8)
	stop := k.OnEReceipt(func(otn, link string) { ch <- [2]string{otn, link} })
	t.Cleanup(stop)
	return ch
}

// In the demo, a paid sale's receipt is kept by the demo's relay and its
// link leads to a page that a phone's browser shows with the sale's
// amount and a QR of its syssn.
func TestPaidSaleGetsAnEReceipt(t *testing.T) {
	k := openDemoPrinting(t, escpostest.Start(t)) // a merchant name, as a shop has
	links := eReceiptLinks(t, k)
	s := paidSale(t, k, 123450)
	var link string
	select {
	case got := <-links:
		if got[0] != s.OutTradeNo {
			t.Fatalf("a link for %s, want %s", got[0], s.OutTradeNo)
		}
		link = got[1]
	case <-time.After(EReceiptWait + 5*time.Second):
		t.Fatal("no e-receipt link")
	}
	if !strings.HasPrefix(link, "http://127.0.0.1:") || !strings.Contains(link, "/r/") {
		t.Fatalf("link %q: the demo serves receipts where phones reach its simulator (here 127.0.0.1)", link)
	}
	resp, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "HK$1,234.50") {
		t.Fatalf("page %d:\n%s", resp.StatusCode, body)
	}
	// Only the receipt pages face the shop's network, not the relay.
	u := link[:strings.Index(link, "/r/")]
	if r, err := http.Get(u + "/healthz"); err != nil || r.StatusCode != 404 {
		t.Errorf("the demo's receipt address serves more than receipts: %v %v", r.StatusCode, err)
	}

	b := chromiumtest.Start(t, chromiumtest.Options{})
	for _, v := range []struct {
		name string
		vp   chromiumtest.Viewport
	}{
		{"phone-390", chromiumtest.Viewport{Width: 390, Height: 844, Scale: 3, Mobile: true}},
		{"phone-small-320", chromiumtest.Viewport{Width: 320, Height: 640, Scale: 2, Mobile: true}},
	} {
		t.Run(v.name, func(t *testing.T) {
			p := b.NewPage()
			if err := p.SetViewport(v.vp); err != nil {
				t.Fatal(err)
			}
			if err := p.Navigate(link); err != nil {
				t.Fatal(err)
			}
			var shown struct {
				Amount, Status string
				Scroll, Width  int
			}
			if err := p.Eval(`({Amount: document.getElementById("amount").textContent, Status: document.getElementById("status").textContent,
				Scroll: document.documentElement.scrollWidth, Width: window.innerWidth})`, &shown); err != nil {
				t.Fatal(err)
			}
			if shown.Amount != "HK$1,234.50" || !strings.Contains(shown.Status, "PAID") {
				t.Errorf("the page shows %+v", shown)
			}
			if shown.Scroll > shown.Width {
				t.Errorf("the page is %d px wide on a %d px screen: it scrolls sideways", shown.Scroll, shown.Width)
			}
			shot, err := p.Screenshot()
			if err != nil {
				t.Fatal(err)
			}
			if dir := os.Getenv("QRKIOSK_SHOTS"); dir != "" {
				os.MkdirAll(dir, 0o755)
				os.WriteFile(filepath.Join(dir, "ereceipt-"+v.name+".png"), shot, 0o644)
			}
			img, err := png.Decode(bytes.NewReader(shot))
			if err != nil {
				t.Fatal(err)
			}
			if img.Bounds().Dx() != int(float64(v.vp.Width)*v.vp.Scale) {
				t.Errorf("screenshot %v", img.Bounds())
			}
			// The QR drawn on the phone, read back from the screenshot of
			// the whole page, gives the sale's syssn.
			var full struct{ H int }
			p.Eval(`({H: document.documentElement.scrollHeight})`, &full)
			tall := v.vp
			tall.Height = full.H
			p.SetViewport(tall)
			shot, _ = p.Screenshot()
			whole, _ := png.Decode(bytes.NewReader(shot))
			if got, err := escpostest.ScanQR(whole); err != nil || got != s.SysSN {
				t.Errorf("the page's QR reads %q (%v), want the syssn %q", got, err, s.SysSN)
			}
			if dir := os.Getenv("QRKIOSK_SHOTS"); dir != "" {
				os.WriteFile(filepath.Join(dir, "ereceipt-"+v.name+"-whole.png"), shot, 0o644)
			}
			// Printed (the browser's print), the status is a black frame,
			// not a green fill a receipt printer or toner would waste.
			if err := p.Call("Emulation.setEmulatedMedia", map[string]any{"media": "print"}, nil); err != nil {
				t.Fatal(err)
			}
			var printed struct{ Background string }
			p.Eval(`({Background: getComputedStyle(document.getElementById("status")).backgroundColor})`, &printed)
			if printed.Background != "rgba(0, 0, 0, 0)" {
				t.Errorf("printed, the status has a background %q", printed.Background)
			}
			if dir := os.Getenv("QRKIOSK_SHOTS"); dir != "" {
				shot, _ = p.Screenshot()
				os.WriteFile(filepath.Join(dir, "ereceipt-"+v.name+"-print.png"), shot, 0o644)
			}
			if c := p.Console(); len(c) > 0 {
				t.Errorf("console: %q", c)
			}
		})
	}
}

// A relay that will not keep receipts means no receipt link, and nothing
// else: the sale is paid as ever.
func TestNoEReceiptWhenTheRelayRefuses(t *testing.T) {
	st, err := sqlitestore.Open(t.TempDir(), sqlitestore.Options{Lock: true})
	if err != nil {
		t.Fatal(err)
	}
	rs, err := relay.NewServer(relay.Config{ScanForPayKey: "KIOSKTESTKEY", Token: "tok", Store: st, ReceiptRetain: -1})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: rs.Handler()}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close(); rs.Shutdown(t.Context()) })

	g := newSFP(t, sfpsim.Config{})
	vars := append(g.vars, "QRKIOSK_RELAY_URL", "ws://"+ln.Addr().String()+"/ws", "QRKIOSK_RELAY_TOKEN", "tok",
		"SCANFORPAY_NOTIFY_URL", "http://"+ln.Addr().String()+"/notify/scanforpay")
	k, err := Open(Options{DataDir: t.TempDir(), Getenv: env(t, "", vars...)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(k.Close)
	links := eReceiptLinks(t, k)
	o, s := sale(t, k, 900, "alipay")
	if err := g.sim.Pay(s.SysSN); err != nil {
		t.Fatal(err)
	}
	waitState(t, o, payment.StatePaid)
	select {
	case got := <-links:
		t.Fatalf("a link from a relay that keeps no receipts: %v", got)
	case <-time.After(time.Second):
	}
	if rec, err := k.Journal.Order(t.Context(), s.OutTradeNo); err != nil || rec.State != payment.StatePaid {
		t.Fatalf("journal %+v %v", rec.State, err)
	}
}

// The link the customer screen draws must be a web page's.
func TestEReceiptLinkIsChecked(t *testing.T) {
	for link, ok := range map[string]bool{
		"https://relay.example/r/AAAAAAAAAAAAAAAAAAAAAA":    true,
		"http://192.168.1.20:40000/r/x":                     true,
		"javascript:alert(1)":                               false,
		"https:///r/x":                                      false,
		"https://relay.example/" + strings.Repeat("r", 300): false,
	} {
		if err := checkLink(link); (err == nil) != ok {
			t.Errorf("%q: %v", link, err)
		}
	}
}
