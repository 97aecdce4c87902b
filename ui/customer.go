package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"qrkiosk/display"
	"qrkiosk/payment"
)

// customerScreens are where a sale shows to the customer: the customer
// screen the app gave (onShow, onAsk and onIdle: its own window, or the
// tablet's layout), the cashier's small copy of it, the mirror (nil on
// the tablet, whose one window is the customer's), and the paired browser
// displays (nil without them).
type customerScreens struct {
	mirror *display.Screen
	web    customerScreen
	box    fyne.CanvasObject // "Customer screen" over the mirror; nil without one
	onShow func(payment.Snapshot)
	onAsk  func(payment.Amount)
	onIdle func()
	// onReceipt puts a paid sale's e-receipt link on the customer screen.
	onReceipt func(outTradeNo, link string)
}

// customerScreen is a screen a sale shows on, as display.Screen is.
type customerScreen interface {
	Show(payment.Snapshot)
	AskForCode(payment.Amount)
	Idle()
	ShowReceipt(outTradeNo, link string)
}

func newCustomerScreens(mirror *display.Screen, web customerScreen, show func(payment.Snapshot), ask func(payment.Amount), idle func()) *customerScreens {
	s := &customerScreens{mirror: mirror, web: web, onShow: show, onAsk: ask, onIdle: idle}
	if mirror != nil {
		title := widget.NewLabelWithStyle("Customer screen", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		s.box = container.NewBorder(title, nil, nil, nil, container.New(aspect{w: 16, h: 9}, mirror.Content()))
	}
	return s
}

// show puts an order's snapshot on the screens.
func (s *customerScreens) show(snap payment.Snapshot) {
	if s.mirror != nil {
		s.mirror.Show(snap)
	}
	if s.web != nil {
		s.web.Show(snap)
	}
	s.onShow(snap)
}

// ask asks the customer for a payment code for amount.
func (s *customerScreens) ask(amount payment.Amount) {
	if s.mirror != nil {
		s.mirror.AskForCode(amount)
	}
	if s.web != nil {
		s.web.AskForCode(amount)
	}
	s.onAsk(amount)
}

// idle puts the welcome back: the cashier stopped waiting for a code.
func (s *customerScreens) idle() {
	if s.mirror != nil {
		s.mirror.Idle()
	}
	if s.web != nil {
		s.web.Idle()
	}
	s.onIdle()
}

// showReceipt puts a paid sale's e-receipt QR over its Paid page.
func (s *customerScreens) showReceipt(outTradeNo, link string) {
	if s.mirror != nil {
		s.mirror.ShowReceipt(outTradeNo, link)
	}
	if s.web != nil {
		s.web.ShowReceipt(outTradeNo, link)
	}
	s.onReceipt(outTradeNo, link)
}
