package display

import (
	"fmt"
	"image"
	"image/color"
	"slices"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"

	"qrkiosk/internal/golden"
	"qrkiosk/payment"
	"qrkiosk/payment/qfpay"
)

// TestScreenQRDecodes reads the QR back from the rendered customer screen,
// as a customer's phone would, and finds the order's exact qrcode string.
func TestScreenQRDecodes(t *testing.T) {
	for _, size := range []fyne.Size{landscape, fyne.NewSize(1080, 1920), fyne.NewSize(1024, 768)} {
		t.Run(fmt.Sprintf("%vx%v", size.Width, size.Height), func(t *testing.T) {
			s, _, w := newTestScreen(t, ScreenConfig{MerchantName: "Lucky Star"}, size)
			snap := order(t)
			s.Show(snap)
			img := capture(w)
			if got := decodeQR(t, img); got != snap.QRCode {
				t.Errorf("decoded %q, want %q", got, snap.QRCode)
			}
			checkSymbol(t, img, img.Bounds(), 4)
		})
	}
}

// TestSmallScreenModules: the cashier's mirror and small tablets still get
// whole pixels per module, at least 2, with the full quiet zone, also on a
// HiDPI canvas where a Fyne unit is not a pixel.
func TestSmallScreenModules(t *testing.T) {
	for _, c := range []struct {
		size  fyne.Size
		scale float32
	}{
		{fyne.NewSize(480, 300), 1},
		{fyne.NewSize(400, 240), 1},
		{fyne.NewSize(320, 480), 1},
		{fyne.NewSize(640, 400), 1.5},
		{fyne.NewSize(800, 480), 1.25},
		{fyne.NewSize(500, 320), 2},
	} {
		t.Run(fmt.Sprintf("%vx%v@%v", c.size.Width, c.size.Height, c.scale), func(t *testing.T) {
			s, _, w := newTestScreen(t, ScreenConfig{}, c.size)
			w.Canvas().(test.WindowlessCanvas).SetScale(c.scale)
			w.Resize(c.size)
			snap := order(t)
			s.Show(snap)
			img := capture(w)
			checkSymbol(t, img, img.Bounds(), 2)
			if got := decodeQR(t, img); got != snap.QRCode {
				t.Errorf("decoded %q", got)
			}
		})
	}
}

func TestCountdown(t *testing.T) {
	s, clk, _ := newTestScreen(t, ScreenConfig{}, landscape)
	s.Show(order(t))
	r := test.WidgetRenderer(s.qr).(*qrRenderer)
	red := s.color(theme.ColorNameError)

	check := func(text string, urgent bool) {
		t.Helper()
		if r.clock.Text != text {
			t.Errorf("countdown shows %q, want %q", r.clock.Text, text)
		}
		if got := r.clock.Color == red && r.bar.FillColor == red; got != urgent {
			t.Errorf("at %s urgent = %v, want %v", text, got, urgent)
		}
	}
	check("05:00", false)
	clk.waitPending(t, 1)

	// The ticker wakes when the shown second changes and redraws through
	// fyne.Do; it reads the clock rather than counting.
	shows := func(text string) func() bool { return func() bool { return r.clock.Text == text } }
	clk.advance(time.Second + 10*time.Millisecond)
	clk.runUntil(t, "a redraw after a second", shows("04:59"))
	check("04:59", false)

	clk.waitPending(t, 1)
	clk.advance(4*time.Minute + 28*time.Second) // a tick was missed: no drift
	clk.runUntil(t, "the redraw after a missed tick", shows("00:31"))
	check("00:31", false)
	clk.waitPending(t, 1)
	clk.advance(time.Second + 500*time.Millisecond)
	clk.runUntil(t, "the redraw at 30 s", shows("00:30"))
	check("00:30", true)
	if got := r.fraction(); got < 0.09 || got > 0.1 {
		t.Errorf("bar at %.3f, want 29.5 s of 300 s", got)
	}
	clk.waitPending(t, 1)
	clk.advance(time.Minute)
	clk.runUntil(t, "the last redraw", shows("00:00"))
	check("00:00", true)
}

// TestTickerStopsWithOrder: once the order ends the countdown goroutine
// arms no more timers.
func TestTickerStopsWithOrder(t *testing.T) {
	s, clk, _ := newTestScreen(t, ScreenConfig{ResultHold: time.Hour}, landscape)
	snap := order(t)
	s.Show(snap)
	clk.waitPending(t, 1)
	snap.State = payment.StatePaid
	s.Show(snap)
	clk.advance(2 * time.Second)
	clk.runQueued(50 * time.Millisecond)
	select {
	case <-s.tickStopped:
	case <-time.After(5 * time.Second):
		t.Fatal("the countdown goroutine still runs after the order ended")
	}
	if clk.pending() != 1 {
		t.Errorf("%d timers armed after the order ended, want only the result hold", clk.pending())
	}
}

func TestResultHold(t *testing.T) {
	s, clk, _ := newTestScreen(t, ScreenConfig{ResultHold: 3 * time.Second}, landscape)
	snap := order(t)
	s.Show(snap)
	snap.State = payment.StatePaid
	s.Show(snap)
	if !s.result.Visible() {
		t.Fatal("paid: result page not shown")
	}
	<-s.tickStopped // the countdown stopped with the order
	// The hold, armed from its own goroutine: the countdown's last timer
	// may still be pending, so wait for the hold's own.
	clk.waitArmed(t, t0.Add(3*time.Second))
	clk.advance(2900 * time.Millisecond)
	clk.runQueued(50 * time.Millisecond)
	if !s.result.Visible() {
		t.Fatal("result gone before the hold")
	}
	s.Show(snap) // a repeat does not extend the hold
	clk.advance(200 * time.Millisecond)
	clk.runUntil(t, "back to idle after the hold", s.idle.Visible)

	// The same result again (an observer repeating itself) stays idle...
	s.Show(snap)
	if !s.idle.Visible() {
		t.Error("a repeated result came back after the hold")
	}
	// ...but a changed one (paid after it showed expired) is shown.
	late := order(t)
	late.OutTradeNo = "QK2"
	late.State = payment.StateExpired
	s.Show(late)
	late.State, late.Late = payment.StatePaid, true
	s.Show(late)
	if !s.result.Visible() || !slices.Equal(shown(s.resultTitle), []string{"付款成功，謝謝！", "Paid — thank you", "支付成功，谢谢！"}) {
		t.Error("paid late: not shown as paid")
	}

	// A new order during the hold cancels it.
	next := order(t)
	next.OutTradeNo, next.State = "QK3", payment.StateCreating
	s.Show(next)
	clk.advance(10 * time.Second)
	clk.runQueued(50 * time.Millisecond)
	if !s.creating.Visible() {
		t.Error("the hold of the previous result took the new order off the screen")
	}
}

func TestDefaultResultHold(t *testing.T) {
	s, clk, _ := newTestScreen(t, ScreenConfig{}, landscape)
	snap := order(t)
	snap.State = payment.StateCancelled
	s.Show(snap)
	clk.waitPending(t, 1)
	clk.advance(DefaultResultHold - time.Millisecond)
	clk.runQueued(50 * time.Millisecond)
	if !s.result.Visible() {
		t.Fatal("result gone before the default hold")
	}
	clk.advance(time.Millisecond)
	clk.runUntil(t, "back to idle after the default hold", s.idle.Visible)
}

func TestCancellingHidesQR(t *testing.T) {
	s, _, w := newTestScreen(t, ScreenConfig{}, landscape)
	snap := order(t)
	s.Show(snap)
	snap.Cancelling = true
	s.Show(snap)
	if s.qr.Visible() || !slices.Equal(shown(s.awaitHeading), []string{"正在取消⋯", "Cancelling…"}) {
		t.Error("cancelling: the QR is still offered")
	}
	img := capture(w)
	if box, _ := blackBox(img); !box.Empty() {
		t.Errorf("cancelling: QR modules still drawn at %v", box)
	}
}

// A push says paid and the gateway is being asked: the customer sees the
// payment processing — neither the QR to pay again nor "paid" before the
// gateway confirms it — and the QR comes back if the gateway does not.
func TestConfirmingPaidHidesQR(t *testing.T) {
	s, _, w := newTestScreen(t, ScreenConfig{}, landscape)
	snap := order(t)
	s.Show(snap)
	snap.ConfirmingPaid = true
	s.Show(snap)
	if want := []string{"正在處理付款⋯", "Processing payment…", "正在处理付款⋯"}; !s.creating.Visible() || s.awaiting.Visible() || !slices.Equal(shown(s.creatingNote), want) {
		t.Errorf("confirming a pushed payment: note %q, want %q without the QR", shown(s.creatingNote), want)
	}
	if box, _ := blackBox(capture(w)); !box.Empty() {
		t.Errorf("confirming a pushed payment: QR modules still drawn at %v", box)
	}
	snap.ConfirmingPaid = false // the gateway says it is not paid
	s.Show(snap)
	if !s.awaiting.Visible() || !s.qr.Visible() {
		t.Error("the push was disputed: the QR is not offered again")
	}
}

func TestFailedShowsReason(t *testing.T) {
	s, _, _ := newTestScreen(t, ScreenConfig{}, landscape)
	snap := order(t)
	snap.State, snap.Code, snap.Reason = payment.StateFailed, qfpay.CodeBankBusy, "The banking system is busy"
	s.Show(snap)
	// Alipay HK: Traditional Chinese first.
	if want := []string{"付款系統繁忙，請稍後再試。", "The payment system is busy. Please try again in a moment.", "支付系统繁忙，请稍后再试。"}; !slices.Equal(shown(s.resultDetail), want) {
		t.Errorf("failed: detail %q, want the busy reason in three languages, %q", shown(s.resultDetail), want)
	}
	if s.resultTitle[0].Color != s.color(theme.ColorNameError) {
		t.Error("failed: title not red")
	}
}

// A scanned-code payment the cashier cancelled and the gateway could not
// take back has no QR to warn about: it is still open on the customer's
// phone, and approving it there would charge them.
func TestCancelledScanStillOpenSaysDoNotConfirm(t *testing.T) {
	s, _, _ := newTestScreen(t, ScreenConfig{}, landscape)
	snap := with(order(t), payment.StateCancelled)
	snap.QRCode, snap.PayType, snap.Withdrawn = "", cpmType(t, "805808"), false
	s.Show(*snap)
	if got := shown(s.resultDetail); len(got) != 3 || got[1] != "Do not approve it on your phone. Approved? Tell the cashier." || got[0] != "請勿在手機上批准。如已批准，請告知收銀員。" {
		t.Errorf("cancelled scanned code, not withdrawn: detail %q, want do-not-approve, Traditional Chinese first (PayMe)", got)
	}
}

// TestTwoScreens: the cashier pane embeds a second, small Screen as the
// mirror of the customer's; both draw their own order side by side.
func TestTwoScreens(t *testing.T) {
	test.NewTempApp(t)
	clk := newFakeClock(t0)
	big, small := newScreen(ScreenConfig{}, clk.clock()), newScreen(ScreenConfig{Demo: true}, clk.clock())
	w := test.NewTempWindow(t, container.NewGridWithColumns(2, big.Content(), small.Content()))
	w.SetPadded(false)
	w.Resize(fyne.NewSize(1600, 600))
	a, b := order(t), order(t)
	b.QRCode = "http://192.168.1.20:8080/pay/other-order"
	big.Show(a)
	small.Show(b)
	img := capture(w)
	half := img.Bounds().Dx() / 2
	left := img.SubImage(image.Rect(0, 0, half, img.Bounds().Dy()))
	right := img.SubImage(image.Rect(half, 0, img.Bounds().Dx(), img.Bounds().Dy()))
	if got := decodeQR(t, left); got != a.QRCode {
		t.Errorf("left screen: %q", got)
	}
	if got := decodeQR(t, right); got != b.QRCode {
		t.Errorf("right screen: %q", got)
	}
	if big.banner.Visible() || !small.banner.Visible() {
		t.Error("demo banner on the wrong screen")
	}
}

// blackBox is the bounding box of pure black pixels.
func blackBox(img image.Image) (image.Rectangle, int) {
	var box image.Rectangle
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if img.At(x, y) == (color.NRGBA{A: 0xff}) {
				box = box.Union(image.Rect(x, y, x+1, y+1))
				n++
			}
		}
	}
	return box, n
}

func BenchmarkShowAwaiting(b *testing.B) {
	test.NewTempApp(b)
	clk := newFakeClock(t0)
	s := newScreen(ScreenConfig{MerchantName: "Lucky Star"}, clk.clock())
	w := test.NewWindow(s.Content())
	defer w.Close()
	w.SetPadded(false)
	w.Resize(fyne.NewSize(1080, 1920))
	snap := order(b)
	i := 0
	for b.Loop() {
		i++
		snap.OutTradeNo = fmt.Sprintf("QK%018d", i)
		snap.QRCode = fmt.Sprintf("http://192.168.1.20:8080/pay/%s?sig=%010x", snap.OutTradeNo, i)
		s.Show(snap)
	}
}

// backgroundTheme clears the window to bg: white as the tablet kiosk's
// light app theme does, or another colour.
type backgroundTheme struct {
	fyne.Theme
	bg color.Color
}

func (t backgroundTheme) Color(n fyne.ThemeColorName, v fyne.ThemeVariant) color.Color {
	if n == theme.ColorNameBackground {
		return t.bg
	}
	return t.Theme.Color(n, v)
}

// TestOnWhiteLooksTheSame: a screen that paints no background of its own,
// on a window cleared to white, is pixel for pixel the customer screen of
// the golden images; on a window of another colour it is not, so the
// comparison can fail.
func TestOnWhiteLooksTheSame(t *testing.T) {
	cfg := ScreenConfig{MerchantName: "Lucky Star Café 福星茶餐廳", Logo: testLogo(), OnWhite: true}
	for _, c := range []struct {
		name string
		snap *payment.Snapshot
	}{
		{name: "idle"},
		{name: "qr", snap: ptr(order(t))},
		{name: "paid", snap: with(order(t), payment.StatePaid)},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, clk, w := newTestScreen(t, cfg, landscape)
			fyne.CurrentApp().Settings().SetTheme(backgroundTheme{theme.DefaultTheme(), color.White})
			clk.advance(83 * time.Second)
			if c.snap != nil {
				s.Show(*c.snap)
			}
			if c.name != "qr" {
				assertGolden(t, "1280x800_"+c.name+".png", capture(w))
				return
			}
			got := capture(w)
			assertGolden(t, "1280x800_qr.png", got)
			fyne.CurrentApp().Settings().SetTheme(backgroundTheme{theme.DefaultTheme(), color.NRGBA{R: 0x17, G: 0x17, B: 0x18, A: 0xff}})
			w.Content().Refresh()
			if dark := capture(w); golden.Close(dark.Pix, got.Pix) {
				t.Error("on a dark window the screen without a background of its own looks white too: the test cannot tell")
			}
		})
	}
}
