package webdisplay_test

import (
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"qrkiosk/display/view"
	"qrkiosk/internal/chromiumtest"
	"qrkiosk/internal/webdisplay"
	"qrkiosk/internal/webdisplay/displaytest"
	"qrkiosk/payment"
)

// TestTabletShowsTheReceipt: on its own sale's Paid result a real Chromium
// tablet shows the e-receipt's QR, which a phone reads as the link, in a
// small labelled card beside the result (under it upright) that covers
// none of it; on the payment's page or another sale's result it shows
// nothing, and the next view takes it away.
func TestTabletShowsTheReceipt(t *testing.T) {
	const link = "https://relay.example/r/4f0c2b9a7d1e6c3b5a8f0e2d4c6b8a0f"
	for _, v := range []chromiumtest.Viewport{displaytest.Sizes[0], tablet} {
		t.Run(fmt.Sprintf("%dx%d", v.Width, v.Height), func(t *testing.T) {
			// The holds never end on their own: the test says when the
			// next view comes.
			var mu sync.Mutex
			var holds []time.Duration
			after := func(d time.Duration, f func()) func() bool {
				mu.Lock()
				defer mu.Unlock()
				holds = append(holds, d)
				return func() bool { return true }
			}
			d := open(t, t.TempDir(), webdisplay.Config{AfterFunc: after})
			_, tab := pairedTablet(t, d, v)

			snap := order(t, "alipayhk")
			d.Show(snap)
			tab.Wait("the QR", func(s displaytest.State) bool { return s.QR })
			d.ShowReceipt(snap.OutTradeNo, link)
			if d.Current().Receipt != "" {
				t.Error("a receipt went on the page offering the payment QR")
			}
			if got := displaytest.DecodeQR(tab.Screenshot()); got != snap.QRCode {
				t.Errorf("the payment's page reads %q, want its QR", got)
			}

			snap.State = payment.StatePaid
			d.Show(snap)
			paid := tab.Wait("paid", func(s displaytest.State) bool { return s.Page == "result" && s.Seq == d.Current().Seq })
			d.ShowReceipt("QK20250314151000B1C2", link)
			if c := d.Current(); c.Seq != paid.Seq || c.Receipt != "" {
				t.Errorf("another sale's receipt changed the Paid result: seq %d (was %d), receipt %q", c.Seq, paid.Seq, c.Receipt)
			}
			if s := tab.State(); s.Receipt {
				t.Error("the page shows another sale's receipt")
			}
			if got := displaytest.DecodeQR(tab.Screenshot()); got != "" {
				t.Errorf("a QR is readable on the Paid result before its receipt: %q", got)
			}

			d.ShowReceipt(snap.OutTradeNo, link)
			tab.Wait("the receipt", func(s displaytest.State) bool { return s.Receipt && s.Seq == d.Current().Seq })
			mu.Lock()
			if last := holds[len(holds)-1]; last != view.ReceiptHold {
				t.Errorf("with its receipt the result is held %v, want %v", last, view.ReceiptHold)
			}
			mu.Unlock()
			img := tab.Screenshot()
			shot(t, fmt.Sprintf("receipt_%dx%d", v.Width, v.Height), img)
			if got := displaytest.DecodeQR(img); got != link {
				t.Errorf("the receipt's QR reads %q, want %q", got, link)
			}
			text := tab.Text()
			for _, want := range []string{"Paid — thank you", "HK$1,234.50", "Receipt", "收據", "收据"} {
				if !strings.Contains(text, want) {
					t.Errorf("the Paid page with its receipt lacks %q: %q", want, text)
				}
			}
			checkReadable(t, tab, v)
			checkReceiptCard(t, tab, v)

			d.Idle()
			s := tab.Wait("the welcome", func(s displaytest.State) bool { return s.Page == "idle" })
			if s.Receipt {
				t.Error("the receipt's card stayed on the welcome")
			}
			if got := displaytest.DecodeQR(tab.Screenshot()); got != "" {
				t.Errorf("a QR is readable on the welcome after the receipt: %q", got)
			}
		})
	}
}

// checkReceiptCard: the receipt's QR is at most a quarter of the screen's
// shorter side, drawn in device pixels, and its card is on the screen and
// clear of the result's sign, title and amount: to their right on a
// landscape screen, under them on an upright one.
func checkReceiptCard(t *testing.T, tab *displaytest.Tablet, v chromiumtest.Viewport) {
	t.Helper()
	type rect struct{ Left, Top, Right, Bottom float64 }
	var g struct {
		Card, QR rect
		Result   []rect
		Width    float64
		Dpr      float64
	}
	tab.Eval(`(() => {
		const r = (e) => { const b = e.getBoundingClientRect(); return {left: b.left, top: b.top, right: b.right, bottom: b.bottom}; };
		const result = [...document.querySelectorAll("#sign, #r-title .line, #r-amount")].filter((e) => e.getClientRects().length > 0).map(r);
		return {card: r(document.getElementById("receipt")), qr: r(document.getElementById("rqr")), result,
			width: document.getElementById("rqr").width, dpr: devicePixelRatio};
	})()`, &g)
	short := math.Min(float64(v.Width), float64(v.Height))
	if side := g.QR.Right - g.QR.Left; side > short/4+0.5 || side < short/5 {
		t.Errorf("the receipt's QR is %.0f px on a screen %.0f px across, want about a quarter of it", side, short)
	}
	if math.Abs((g.QR.Right-g.QR.Left)*g.Dpr-g.Width) > 0.5 {
		t.Errorf("the receipt's canvas is %v pixels drawn on %v device pixels: resampled", g.Width, (g.QR.Right-g.QR.Left)*g.Dpr)
	}
	if g.Card.Left < 0 || g.Card.Top < 0 || g.Card.Right > float64(v.Width) || g.Card.Bottom > float64(v.Height) {
		t.Errorf("the receipt's card %+v is off the %dx%d screen", g.Card, v.Width, v.Height)
	}
	if len(g.Result) < 3 {
		t.Fatalf("the result shows %d of its sign, title and amount", len(g.Result))
	}
	for _, r := range g.Result {
		clear := g.Card.Left >= r.Right // landscape: beside
		if v.Height > v.Width {
			clear = g.Card.Top >= r.Bottom // upright: under
		}
		if !clear {
			t.Errorf("the receipt's card %+v is not clear of the result's %+v", g.Card, r)
		}
	}
}
