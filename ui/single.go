package ui

import (
	"image/color"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"qrkiosk/display"
	"qrkiosk/payment"
)

// singleLayout is the tablet kiosk: one full-screen window that shows the
// keypad, then the customer screen (QR filling the screen, with a bar for
// the cashier below), then the result, then the keypad again: by itself
// after the hold, or at once with a tap on the screen or on Next sale.
type singleLayout struct {
	customer *display.Screen
	hold     time.Duration
	do       func(func())

	keypad   fyne.CanvasObject
	charging fyne.CanvasObject
	content  fyne.CanvasObject
	cancel   *widget.Button
	next     *widget.Button
	typeCode *widget.Button   // while the screen asks for the customer's code
	demo     []*widget.Button // Simulate decline, Simulate payment
	bar      *fyne.Container
	tapAway  *tapArea
	// shown counts snapshots, so a pending return to the keypad is
	// dropped when a newer order has started meanwhile.
	shown int
	// paid is the sale whose Paid page shows ("" = none): its receipt
	// QR may still come (receipt.go).
	paid string
}

func newSingleLayout(customer *display.Screen, hold time.Duration, do func(func())) *singleLayout {
	return &singleLayout{customer: customer, hold: hold, do: do}
}

// build puts the cashier pane and the customer screen in one window.
func (s *singleLayout) build(c *cashier, demo bool) {
	s.keypad = c.content
	s.cancel = widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), c.onCancel)
	s.cancel.Importance = widget.DangerImportance
	s.next = widget.NewButtonWithIcon("Next sale", theme.ConfirmIcon(), s.showKeypad)
	s.next.Importance = widget.HighImportance
	s.typeCode = widget.NewButtonWithIcon("Type the code", theme.ContentAddIcon(), c.openCodePad)
	bar := []fyne.CanvasObject{s.cancel, s.next, s.typeCode}
	if demo {
		decline, pay := c.demo.barButtons()
		bar = append(bar, decline, pay)
		s.demo = []*widget.Button{decline, pay}
	}
	// The customer screen asks for the code; this bar offers typing it.
	c.scan.byButton = true
	c.screens.onAsk = s.onAsk
	c.screens.onIdle = s.showKeypad
	s.tapAway = newTapArea(s.showKeypad)
	screen := container.NewStack(s.customer.Content(), s.tapAway)
	s.bar = container.New(&rowLayout{gap: c.m.pad}, bar...)
	s.charging = container.New(&barLayout{m: c.m}, screen, s.bar)
	s.content = container.NewStack(s.keypad, s.charging)
	s.showKeypad()
}

func (s *singleLayout) showKeypad() {
	s.charging.Hide()
	s.keypad.Show()
	s.content.Refresh()
}

// onAsk: the customer screen asks for the payment code of amount, with
// Cancel and Type the code below.
func (s *singleLayout) onAsk(amount payment.Amount) {
	s.shown++
	s.customer.AskForCode(amount)
	s.keypad.Hide()
	s.charging.Show()
	s.showBar(s.cancel, s.typeCode)
	s.tapAway.Hide()
	s.content.Refresh()
}

// showBar shows these buttons of the bar and hides the rest.
func (s *singleLayout) showBar(on ...*widget.Button) {
	for _, o := range s.bar.Objects {
		o.Hide()
	}
	for _, b := range on {
		b.Show()
	}
	s.bar.Refresh()
}

// onSnapshot is the cashier's Show: the customer screen takes the window
// for the whole order and its result.
func (s *singleLayout) onSnapshot(snap payment.Snapshot) {
	s.shown++
	s.customer.Show(snap)
	s.keypad.Hide()
	s.charging.Show()
	s.paid = ""
	if snap.State == payment.StatePaid {
		s.paid = snap.OutTradeNo
	}
	if snap.State.Final() {
		s.showBar(append([]*widget.Button{s.next}, s.demo...)...)
		s.tapAway.Show()
		s.backToKeypad(s.hold)
		s.content.Refresh()
		return
	}
	s.showBar(append([]*widget.Button{s.cancel}, s.demo...)...)
	s.tapAway.Hide()
	s.content.Refresh()
}

// backToKeypad shows the keypad after d, unless another snapshot (or a
// receipt, which keeps the Paid page longer) comes first.
func (s *singleLayout) backToKeypad(d time.Duration) {
	n := s.shown
	time.AfterFunc(d, func() {
		s.do(func() {
			if n == s.shown {
				s.showKeypad()
			}
		})
	})
}

// barLayout: the customer screen above, the cashier's bar (a touch target
// high) along the bottom.
type barLayout struct{ m metrics }

func (l *barLayout) MinSize([]fyne.CanvasObject) fyne.Size { return fyne.NewSize(1, 1) }

func (l *barLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	bh := l.m.touch + 2*l.m.pad
	place(objs[0], 0, 0, size.Width, size.Height-bh)
	place(objs[1], l.m.pad, size.Height-bh+l.m.pad, size.Width-2*l.m.pad, l.m.touch)
}

// rowLayout places the visible objects side by side, equally wide.
type rowLayout struct{ gap float32 }

func (l *rowLayout) MinSize([]fyne.CanvasObject) fyne.Size { return fyne.NewSize(1, 1) }

func (l *rowLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	var shown []fyne.CanvasObject
	for _, o := range objs {
		if o.Visible() {
			shown = append(shown, o)
		}
	}
	if len(shown) == 0 {
		return
	}
	w := (size.Width - float32(len(shown)-1)*l.gap) / float32(len(shown))
	for i, o := range shown {
		place(o, float32(i)*(w+l.gap), 0, w, size.Height)
	}
}

// tapArea is an invisible target over the result screen: a tap anywhere
// on it goes back to the keypad (stock widgets have no tappable area
// without a look of their own).
type tapArea struct {
	widget.BaseWidget
	onTap func()
}

func newTapArea(onTap func()) *tapArea {
	t := &tapArea{onTap: onTap}
	t.ExtendBaseWidget(t)
	return t
}

func (t *tapArea) Tapped(*fyne.PointEvent) { t.onTap() }

func (t *tapArea) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(canvas.NewRectangle(color.Transparent))
}
