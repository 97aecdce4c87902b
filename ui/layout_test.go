package ui

import (
	"flag"
	"fmt"
	"image"
	"image/color"
	"log/slog"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"qrkiosk/internal/golden"
	"qrkiosk/internal/pin"
	"qrkiosk/payment/qfpay"
)

var update = flag.Bool("update", false, "rewrite the golden PNGs in testdata/")

// The screens shops use: 7" and 10" panels, laptops, full HD, and an
// upright full-HD display.
var screenSizes = []fyne.Size{
	{Width: 800, Height: 480}, {Width: 1024, Height: 600}, {Width: 1280, Height: 800},
	{Width: 1366, Height: 768}, {Width: 1920, Height: 1080}, {Width: 1080, Height: 1920},
}

// paneState drives a kiosk to one state a cashier sees.
type paneState struct {
	name string
	do   func(t *testing.T, h *harness)
}

var paneStates = []paneState{
	{"idle", func(t *testing.T, h *harness) {}},
	{"typed", func(t *testing.T, h *harness) { h.tapKeys("2", "5", "0") }},
	// The longest message the pane shows, a journal that cannot write.
	{"error", func(t *testing.T, h *harness) {
		h.tapKeys("2", "5", "0")
		h.c.sale.message.SetText("The sale could not be recorded, so nothing was charged: journal: write /var/lib/qrkiosk/journal.db: no space left on device (the disk is full; free some space and charge again)")
	}},
	{"qr", func(t *testing.T, h *harness) {
		h.tapKeys("2", "5", "0")
		test.Tap(h.c.keypad.charge)
		h.awaiting()
	}},
	{"paid", func(t *testing.T, h *harness) { h.sale("250", 0, true) }},
	{"failed", func(t *testing.T, h *harness) {
		h.tapKeys("2", "5", "0")
		test.Tap(h.c.keypad.charge)
		s := h.awaiting()
		h.gw.Decline(s.OutTradeNo, qfpay.CodeInsufficientBalance)
		h.tick(2 * time.Second)
		h.ready()
	}},
	{"expired", func(t *testing.T, h *harness) { h.sale("250", 0, false) }},
	// A wallet without cancel: the QR stays payable until the gateway's
	// own expiry, and the status says until when.
	{"cancelled", func(t *testing.T, h *harness) {
		h.gw.NoCancel = true
		test.Tap(h.c.wallets.buttons[2])
		h.tapKeys("2", "5", "0")
		test.Tap(h.c.keypad.charge)
		h.awaiting()
		test.Tap(h.c.keypad.cancel)
		h.ready()
	}},
	{"paidlate", func(t *testing.T, h *harness) {
		h.gw.NoCancel = true
		s := h.sale("250", 2, false)
		h.gw.Pay(s.OutTradeNo)
		h.orders[len(h.orders)-1].Notify(h.gw.Record(s.OutTradeNo))
		h.pump("the paid-late banner and status", func() bool {
			return h.c.alerts.content.Visible() && strings.HasPrefix(h.c.sale.status.Text, "PAID LATE")
		})
		if h.single != nil {
			h.single.showKeypad()
		}
	}},
	// The banner's own Refund button: the panel must show beside it (on a
	// small screen the banner, which fills the pane, makes way).
	{"paidlate_refund", func(t *testing.T, h *harness) {
		h.gw.NoCancel = true
		s := h.sale("250", 2, false)
		h.gw.Pay(s.OutTradeNo)
		h.orders[len(h.orders)-1].Notify(h.gw.Record(s.OutTradeNo))
		h.pump("the paid-late banner and status", func() bool {
			return h.c.alerts.content.Visible() && strings.HasPrefix(h.c.sale.status.Text, "PAID LATE")
		})
		if h.single != nil {
			h.single.showKeypad() // the tablet's result hold is over
		}
		test.Tap(h.c.alerts.refund)
		if h.c.dialogs.modal != nil {
			for _, k := range "2468" {
				test.Tap(h.c.dialogs.modal.keys[string(k)])
			}
			test.Tap(h.c.dialogs.modal.ok)
			h.pump("the manager PIN", func() bool { return h.c.tabs.history.content.Visible() })
		}
		if !h.c.tabs.history.panel.Visible() || !h.c.tabs.history.refundGo.Visible() {
			t.Fatal("the refund panel is not on the screen")
		}
	}},
	{"history", func(t *testing.T, h *harness) {
		h.sale("250", 0, true)
		h.sale("12.5", 1, false)
		h.openHistory(t)
	}},
	{"refund", func(t *testing.T, h *harness) {
		s := h.sale("250", 0, true)
		h.openHistory(t)
		test.Tap(h.row(s.OutTradeNo).refund)
	}},
	// Waiting for the customer's code: the dialog (a code half typed by
	// hand) or, on the tablet, the customer screen asking for it.
	{"scanwait", func(t *testing.T, h *harness) {
		h.tapKeys("2", "5", "0")
		test.Tap(h.c.scan.button)
		if h.c.scan.codePad != nil {
			for _, k := range "28765432109" {
				test.Tap(h.c.scan.codePad.keys[string(k)])
			}
		}
	}},
	{"cpm_confirming", func(t *testing.T, h *harness) {
		h.tapKeys("2", "5", "0")
		h.typeAt(scannerGap, scannedCode+"\n")
		h.confirming()
	}},
	// Set up from a phone: the code and the page's address as a QR code.
	{"setup_phone", func(t *testing.T, h *harness) {
		d := newPhoneDialog(h.c.m, h.c.dialogs.canvas, "https://192.168.1.23:9001/setup/", h.clk.Now, func() {}, func() {})
		d.setCode("482913", h.clk.Now().Add(10*time.Minute))
		d.setStatus("Too many wrong codes from 192.168.1.77: it is refused for 1 min.", true)
	}},
	{"exitpin", func(t *testing.T, h *harness) {
		h.c.dialogs.askExitPIN("2468", pin.NewGuard(nil), slog.New(slog.DiscardHandler), func() {})
		for _, k := range []string{"1", "2"} {
			test.Tap(h.c.dialogs.modal.keys[k])
		}
	}},
}

// openHistory opens Today & refunds, with the manager PIN where the
// layout asks for it.
func (h *harness) openHistory(t *testing.T) {
	t.Helper()
	test.Tap(h.c.tabs.historyTab)
	if h.c.dialogs.modal != nil {
		for _, k := range "2468" {
			test.Tap(h.c.dialogs.modal.keys[string(k)])
		}
		test.Tap(h.c.dialogs.modal.ok)
		h.pump("the manager PIN", func() bool { return h.c.tabs.history.content.Visible() })
	}
}

func sizeName(s fyne.Size) string { return fmt.Sprintf("%vx%v", s.Width, s.Height) }

// TestPaneFitsEveryScreen: at every size, in both layouts, in every
// state, nothing is drawn outside the window, no widget is squeezed below
// its minimum (clipped), every button is a touch target, no text is
// under 16 px (the customer screen's own rules are in display/), every
// text has 4.5:1 contrast with what it is drawn on, and the window
// matches its golden image.
func TestPaneFitsEveryScreen(t *testing.T) {
	if testing.Short() {
		t.Skip("renders every size and state")
	}
	for _, layout := range []string{"dual", "single"} {
		for _, size := range screenSizes {
			for _, st := range paneStates {
				name := fmt.Sprintf("%s_%s_%s", layout, sizeName(size), st.name)
				t.Run(name, func(t *testing.T) {
					h := newHarness(t, harnessOpt{size: size, single: layout == "single", demo: true, wallets: []string{"alipayhk", "wechat", "payme", "fps", "octopus"},
						pinHash: testPINHash(t, "2468"), refunder: &okRefunder{}})
					st.do(t, h)
					checkFits(t, h)
					assertGolden(t, name+".png", capture(h.w))
				})
			}
		}
	}
}

// drawnObj is one object as painted: where, and what it is inside.
type drawnObj struct {
	obj      fyne.CanvasObject
	pos      fyne.Position
	disabled bool // inside a disabled widget: WCAG exempts inactive controls
	scrolled bool // inside a scroll: may extend past the window
	customer bool // inside a customer screen (the mirror, the tablet's)
}

// paintOrder lists the visible objects of the window (content, then
// overlays) in the order Fyne paints them.
func paintOrder(h *harness) []drawnObj {
	var out []drawnObj
	customers := map[fyne.CanvasObject]bool{}
	if h.c.deps.Mirror != nil {
		customers[h.c.deps.Mirror.Content()] = true
	}
	if h.single != nil {
		customers[h.single.customer.Content()] = true
	}
	var walk func(o fyne.CanvasObject, pos fyne.Position, d drawnObj)
	walk = func(o fyne.CanvasObject, pos fyne.Position, d drawnObj) {
		if o == nil || !o.Visible() {
			return
		}
		d.obj, d.pos = o, pos.Add(o.Position())
		if customers[o] {
			d.customer = true
		}
		if w, ok := o.(fyne.Disableable); ok && w.Disabled() {
			d.disabled = true
		}
		out = append(out, d)
		child := d
		switch v := o.(type) {
		case *fyne.Container:
			for _, c := range v.Objects {
				walk(c, d.pos, child)
			}
		case *container.Scroll:
			child.scrolled = true
			walk(v.Content, d.pos, child)
		case fyne.Widget:
			for _, c := range test.WidgetRenderer(v).Objects() {
				walk(c, d.pos, child)
			}
		}
	}
	walk(h.w.Content(), fyne.Position{}, drawnObj{})
	for _, o := range h.w.Canvas().Overlays().List() {
		walk(o, fyne.Position{}, drawnObj{})
	}
	return out
}

func checkFits(t *testing.T, h *harness) {
	t.Helper()
	win := h.w.Canvas().Size()
	objs := paintOrder(h)
	for i, d := range objs {
		size := d.obj.Size()
		if !d.scrolled {
			if d.pos.X < -0.5 || d.pos.Y < -0.5 || d.pos.X+size.Width > win.Width+0.5 || d.pos.Y+size.Height > win.Height+0.5 {
				t.Errorf("%s leaves the %v window: at %v size %v", describe(d.obj), win, d.pos, size)
			}
		}
		if w, ok := d.obj.(fyne.Widget); ok && !d.customer {
			if min := w.MinSize(); size.Width+1 < min.Width || size.Height+1 < min.Height {
				t.Errorf("%s is squeezed to %v, below its minimum %v (clipped)", describe(d.obj), size, min)
			}
		}
		if b, ok := d.obj.(*widget.Button); ok && !d.customer && (size.Width < minTouch || size.Height < minTouch) {
			t.Errorf("button %q is %v: smaller than a %d px touch target", b.Text, size, minTouch)
		}
		txt, ok := d.obj.(*canvas.Text)
		if !ok || d.customer || strings.TrimSpace(txt.Text) == "" {
			continue
		}
		if txt.TextSize < 16 {
			t.Errorf("text %q is %.0f px: the cashier's text must be at least 16 px", txt.Text, txt.TextSize)
		}
		if d.disabled {
			continue
		}
		under := backgroundAt(objs[:i], d.pos.Add(fyne.NewPos(size.Width/2, size.Height/2)), h)
		if r := golden.Contrast(txt.Color, under); r < 4.5 {
			t.Errorf("text %q: contrast %.2f:1 with its background %v (want at least 4.5:1)", txt.Text, r, under)
		}
	}
}

// backgroundAt is the colour last painted at p: the topmost opaque fill
// below it, else the window's background.
func backgroundAt(before []drawnObj, p fyne.Position, h *harness) color.Color {
	for i := len(before) - 1; i >= 0; i-- {
		d := before[i]
		var fill color.Color
		switch v := d.obj.(type) {
		case *canvas.Rectangle:
			fill = v.FillColor
		case *canvas.Image:
			if v.Image != nil && v.Image.Bounds().Dx() == 1 {
				fill = v.Image.At(0, 0)
			}
		}
		if fill == nil {
			continue
		}
		if _, _, _, a := fill.RGBA(); a != 0xffff {
			continue
		}
		s := d.obj.Size()
		if p.X >= d.pos.X && p.Y >= d.pos.Y && p.X <= d.pos.X+s.Width && p.Y <= d.pos.Y+s.Height {
			return fill
		}
	}
	return fyne.CurrentApp().Settings().Theme().Color(theme.ColorNameBackground, fyne.CurrentApp().Settings().ThemeVariant())
}

// contrast is the WCAG 2 contrast ratio of two colours.

func describe(o fyne.CanvasObject) string {
	switch v := o.(type) {
	case *widget.Button:
		return fmt.Sprintf("button %q", v.Text)
	case *widget.Label:
		return fmt.Sprintf("label %q", v.Text)
	case *canvas.Text:
		return fmt.Sprintf("text %q", v.Text)
	}
	return fmt.Sprintf("%T", o)
}

func capture(w fyne.Window) *image.NRGBA { return golden.NRGBA(w.Canvas().Capture()) }

func assertGolden(t *testing.T, name string, img *image.NRGBA) {
	t.Helper()
	golden.Assert(t, name, img, *update)
}
