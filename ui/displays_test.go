package ui

import (
	"fmt"
	"image"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"

	"qrkiosk/display/view"
	"qrkiosk/internal/chromiumtest"
	"qrkiosk/internal/golden"
	"qrkiosk/internal/lan"
	"qrkiosk/internal/webdisplay"
	"qrkiosk/internal/webdisplay/displaytest"
	"qrkiosk/payment"
)

// TestTabletAsCustomerScreen is issue 25's proof: a real headless Chromium
// paired as a tablet from the cashier pane's Customer displays shows the
// QR of a demo sale rung up on the pane (read back from its screenshot as
// the kiosk's order), then "Paid"; cut off mid-sale it hides the QR within
// 2 s and, back, shows the kiosk's current state; and both kinds of screen
// stack the languages as the wallet wants.
func TestTabletAsCustomerScreen(t *testing.T) {
	var h *harness
	d, err := webdisplay.Open(webdisplay.Config{Dir: t.TempDir(), Screen: view.Config{MerchantName: "Test Shop", Demo: true},
		// The kiosk's clock: the machines' (the harness's manual one).
		Now: func() time.Time { return h.clk.Now() }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	k := displaytest.Serve(t, d, displaytest.Options{})
	h = newHarness(t, harnessOpt{demo: true, wallets: []string{"alipayhk", "wechat", "payme"}, pinHash: testPINHash(t, "2468"),
		displays: d, serveDisplays: func() (string, error) { return "https://" + k.Link.Addr(), nil }})

	// The manager opens Customer displays in Today & refunds: the PIN,
	// then the page's address and a code.
	test.Tap(h.c.tabs.historyTab)
	test.Tap(h.c.displays.button)
	for _, key := range "2468" {
		test.Tap(h.c.dialogs.modal.keys[string(key)])
	}
	test.Tap(h.c.dialogs.modal.ok)
	h.pump("the displays dialog", func() bool { return h.c.displays.pad != nil && h.c.displays.code.Text != "" })
	code := strings.ReplaceAll(h.c.displays.code.Text, " ", "")
	if got := displaytest.DecodeQR(capture(h.w)); got != k.URL() {
		t.Errorf("the dialog's QR reads %q, want the display page's address %q", got, k.URL())
	}

	tab := displaytest.NewTablet(t, k, chromiumtest.Viewport{Width: 1280, Height: 800, Scale: 1.5, Mobile: true})
	tab.Pair(code)
	h.pump("the tablet listed as connected", func() bool {
		list := listText(h)
		return len(h.c.displays.removes) == 1 && strings.Contains(list, "connected, paired") && !strings.Contains(list, "not connected")
	})
	keepShot(t, "pane_customer_displays", capture(h.w))
	test.Tap(h.c.displays.pad.cancel)
	if c, _ := d.Code(); c != "" {
		t.Error("the code still works after the dialog closed")
	}
	test.Tap(h.c.tabs.saleTab)

	// A demo sale with Alipay HK: the tablet's QR is the order's.
	h.tapKeys("2", "5", "0")
	test.Tap(h.c.keypad.charge)
	s := h.awaiting()
	tab.Wait("the QR on the tablet", func(st displaytest.State) bool { return st.QR && st.Order == s.OutTradeNo })
	img := tab.Screenshot()
	keepShot(t, "tablet_qr", img)
	if got := displaytest.DecodeQR(img); got != s.QRCode {
		t.Fatalf("the tablet's QR reads %q, want the kiosk's order %q", got, s.QRCode)
	}
	if got := displaytest.DecodeQR(capture(h.w)); got != s.QRCode {
		t.Errorf("the pane's mirror reads %q", got)
	}
	checkLanguages(t, h, tab, "zh-Hant", "請掃碼付款")

	// The Wi-Fi drops mid-sale: the QR goes within 2 s.
	k.Link.Freeze()
	st := tab.Wait("the QR taken away", func(st displaytest.State) bool { return !st.QR })
	if gone := st.QRHiddenAt - st.LastMessageAt; gone > 2000 {
		t.Errorf("the QR stayed %.0f ms after the kiosk's last word, want within 2000", gone)
	}
	img = tab.Screenshot()
	keepShot(t, "tablet_link_lost", img)
	if got := displaytest.DecodeQR(img); got != "" {
		t.Errorf("with the link lost the tablet still shows a QR: %q", got)
	}
	// The customer pays meanwhile (the demo's customer); back on line
	// the tablet shows that, not the QR it lost.
	draws := st.QRDraws
	test.Tap(h.c.demo.pay)
	h.tick(2 * time.Second)
	if paid := h.ready(); paid.State != payment.StatePaid {
		t.Fatalf("the sale ended %v", paid.State)
	}
	k.Link.Thaw()
	st = tab.Wait("the kiosk's current state", func(st displaytest.State) bool { return st.Link == "live" && st.Page == "result" })
	if st.QR || st.QRDraws != draws || !strings.Contains(tab.Text(), "Paid — thank you") {
		t.Errorf("after reconnecting: %+v %q", st, tab.Text())
	}
	keepShot(t, "tablet_paid", tab.Screenshot())

	// A WeChat Pay sale on a live link: Simplified Chinese first on both
	// screens, and "Paid" with the kiosk's chime.
	test.Tap(h.c.wallets.buttons[1])
	h.tapKeys(keyClear, "4", "8")
	test.Tap(h.c.keypad.charge)
	s = h.awaiting()
	tab.Wait("the second QR", func(st displaytest.State) bool { return st.QR && st.Order == s.OutTradeNo })
	if got := displaytest.DecodeQR(tab.Screenshot()); got != s.QRCode {
		t.Errorf("second sale: the tablet reads %q, want %q", got, s.QRCode)
	}
	checkLanguages(t, h, tab, "zh-Hans", "请扫码付款")
	test.Tap(h.c.demo.pay)
	h.tick(2 * time.Second)
	h.ready()
	st = tab.Wait("paid with its chime", func(st displaytest.State) bool { return st.Page == "result" && slices.Contains(st.Cues, "paid") })
	if got := displaytest.DecodeQR(tab.Screenshot()); got != "" {
		t.Errorf("paid: the tablet still shows a QR: %q", got)
	}
}

// checkLanguages: the pane's mirror (a Fyne customer screen) and the
// tablet both put lang's "scan to pay" first.
func checkLanguages(t *testing.T, h *harness, tab *displaytest.Tablet, lang, first string) {
	t.Helper()
	if texts := visibleTexts(h.c.screens.mirror.Content()); len(texts) == 0 || texts[0] != first {
		t.Errorf("the Fyne screen's first line is %q, want %q", texts, first)
	}
	var title []string
	tab.Eval(`[...document.querySelectorAll("#a-title .line")].map(e => e.lang + " " + e.textContent)`, &title)
	if len(title) == 0 || title[0] != lang+" "+first {
		t.Errorf("the tablet's title is %q, want %q first", title, lang+" "+first)
	}
}

// visibleTexts are the visible texts under o, in the order drawn.
func visibleTexts(o fyne.CanvasObject) []string {
	var out []string
	var walk func(fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		if o == nil || !o.Visible() {
			return
		}
		switch v := o.(type) {
		case *canvas.Text:
			if strings.TrimSpace(v.Text) != "" {
				out = append(out, v.Text)
			}
		case *fyne.Container:
			for _, c := range v.Objects {
				walk(c)
			}
		case fyne.Widget:
			for _, c := range test.WidgetRenderer(v).Objects() {
				walk(c)
			}
		}
	}
	walk(o)
	return out
}

// listText is the displays dialog's list of paired displays as read.
func listText(h *harness) string {
	return strings.Join(visibleTexts(h.c.displays.list), " ")
}

// keepShot keeps a screenshot for people to look at, under
// $DISPLAY_SHOTS (not compared).
func keepShot(t *testing.T, name string, img image.Image) {
	if dir := os.Getenv("DISPLAY_SHOTS"); dir != "" {
		golden.WritePNG(t, filepath.Join(dir, name+".png"), img)
	}
}

// TestDisplaysDialogFits: Customer displays, with a display paired, fits
// every screen the pane runs on by the pane's own rules (nothing outside
// the window or squeezed, touch targets, text sizes, contrast), in both
// layouts, and its QR reads as the page's address; Remove unpairs.
func TestDisplaysDialogFits(t *testing.T) {
	for _, layout := range []string{"dual", "single"} {
		for _, size := range []fyne.Size{{Width: 800, Height: 480}, {Width: 1280, Height: 800}, {Width: 1920, Height: 1080}, {Width: 1080, Height: 1920}} {
			t.Run(layout+"_"+sizeName(size), func(t *testing.T) {
				d, err := webdisplay.Open(webdisplay.Config{Dir: t.TempDir()})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(d.Close)
				code, _ := d.NewCode()
				if err := pairWith(d, code); err != nil {
					t.Fatal(err)
				}
				h := newHarness(t, harnessOpt{size: size, single: layout == "single", demo: true, pinHash: testPINHash(t, "2468"),
					displays: d, serveDisplays: func() (string, error) { return "https://192.168.1.20:9001", nil }})
				h.openHistory(t)
				test.Tap(h.c.displays.button)
				for _, key := range "2468" {
					test.Tap(h.c.dialogs.modal.keys[string(key)])
				}
				test.Tap(h.c.dialogs.modal.ok)
				h.pump("the displays dialog", func() bool { return h.c.displays.pad != nil })
				img := capture(h.w)
				keepShot(t, "pane_displays_"+layout+"_"+sizeName(size), img)
				checkFits(t, h)
				if got := displaytest.DecodeQR(img); got != "https://192.168.1.20:9001/display/" {
					t.Errorf("the dialog's QR reads %q", got)
				}
				if len(h.c.displays.removes) != 1 {
					t.Fatalf("%d displays listed, want the paired one", len(h.c.displays.removes))
				}
				for _, b := range h.c.displays.removes {
					test.Tap(b)
				}
				if len(d.Paired()) != 0 || !strings.Contains(h.c.displays.pad.message.Text, "removed") {
					t.Errorf("Remove: %d paired, message %q", len(d.Paired()), h.c.displays.pad.message.Text)
				}
			})
		}
	}
}

// pairWith pairs a display with code as a tablet would, over the routes.
func pairWith(d *webdisplay.Displays, code string) error {
	mux := &testRouter{mux: http.NewServeMux()}
	d.Mount(mux)
	req := httptest.NewRequest(http.MethodPost, "/display/pair", strings.NewReader(`{"code": "`+code+`"}`))
	req.RemoteAddr = "192.168.1.30:50000"
	rec := httptest.NewRecorder()
	mux.mux.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		return fmt.Errorf("pairing: %d %s", rec.Code, rec.Body)
	}
	return nil
}

// testRouter mounts routes without the LAN server's limits.
type testRouter struct{ mux *http.ServeMux }

func (r *testRouter) Handle(pattern string, h http.Handler, _ lan.Route) { r.mux.Handle(pattern, h) }
