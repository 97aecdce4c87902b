package ui

import (
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"qrkiosk/display"
	"qrkiosk/payment"
)

// singleLayout is the tablet kiosk: one full-screen window that shows the
// keypad, then the customer screen (QR filling the screen, with a small
// cancel area for the cashier), then the result, then the keypad again.
type singleLayout struct {
	customer *display.Screen
	hold     time.Duration
	do       func(func())

	keypad   fyne.CanvasObject
	charging fyne.CanvasObject
	content  fyne.CanvasObject
	cancel   *widget.Button
	// shown counts snapshots, so a pending return to the keypad is
	// dropped when a newer order has started meanwhile.
	shown int
}

func newSingleLayout(customer *display.Screen, hold time.Duration, do func(func())) *singleLayout {
	return &singleLayout{customer: customer, hold: hold, do: do}
}

// build puts the cashier pane and the customer screen in one window.
func (s *singleLayout) build(c *cashier, demo bool) {
	s.keypad = c.content
	s.cancel = widget.NewButtonWithIcon("Cancel (Esc)", theme.CancelIcon(), c.onCancel)
	s.cancel.Importance = widget.DangerImportance
	bar := []fyne.CanvasObject{touch(s.cancel, 0)}
	if demo {
		pay := widget.NewButton("Simulate customer payment", c.onDemoPay)
		pay.Importance = widget.WarningImportance
		decline := widget.NewButton("Simulate decline", c.onDemoDecline)
		bar = append(bar, touch(decline, 0), touch(pay, 0))
	}
	s.charging = container.NewBorder(nil, container.NewPadded(container.NewGridWithColumns(len(bar), bar...)), nil, nil, s.customer.Content())
	// One text size for the keypad and the cancel bar: one theme override.
	s.content = withTextSize(container.NewStack(s.keypad, s.charging), paneTextSize)
	s.showKeypad()
}

func (s *singleLayout) showKeypad() {
	s.charging.Hide()
	s.keypad.Show()
}

// onSnapshot is the cashier's Show: the customer screen takes the window
// for the whole order and its result.
func (s *singleLayout) onSnapshot(snap payment.Snapshot) {
	s.shown++
	s.customer.Show(snap)
	s.keypad.Hide()
	s.charging.Show()
	if snap.State.Final() {
		s.cancel.Disable()
		n := s.shown
		time.AfterFunc(s.hold, func() {
			s.do(func() {
				if n == s.shown {
					s.showKeypad()
				}
			})
		})
		return
	}
	s.cancel.Enable()
}
