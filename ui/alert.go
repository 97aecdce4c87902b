package ui

import (
	"fmt"
	"image/color"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"qrkiosk/internal/journal"
)

// alertBar is the banner across the top of the cashier pane for what the
// cashier must see at once: a payment that arrived after the screen showed
// Expired or Cancelled, or one made while the kiosk was down. It stays
// until acknowledged; alerts that come meanwhile wait their turn.
type alertBar struct {
	onRefund func(outTradeNo string)
	loc      *time.Location // the merchant zone, for times

	queue   []journal.Alert
	bg      *canvas.Rectangle
	title   *widget.Label
	detail  *widget.Label
	refund  *widget.Button
	ack     *widget.Button
	content fyne.CanvasObject
}

// Banner colours: white on a strong red (paid late: money to give back,
// perhaps) or a deep blue (paid while offline: a sale to note).
var (
	alertLateColor    = color.NRGBA{R: 0xb7, G: 0x1c, B: 0x1c, A: 0xff}
	alertOfflineColor = color.NRGBA{R: 0x0d, G: 0x47, B: 0xa1, A: 0xff}
)

func newAlertBar(loc *time.Location, onRefund func(outTradeNo string)) *alertBar {
	a := &alertBar{onRefund: onRefund, loc: loc}
	a.bg = canvas.NewRectangle(alertLateColor)
	a.title = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	a.title.Wrapping = fyne.TextWrapWord
	a.detail = widget.NewLabel("")
	a.detail.Wrapping = fyne.TextWrapWord
	a.refund = widget.NewButtonWithIcon("Refund… (manager PIN)", theme.ContentUndoIcon(), a.onRefundTap)
	a.ack = widget.NewButtonWithIcon("Seen — dismiss", theme.ConfirmIcon(), a.onAcknowledge)
	a.ack.Importance = widget.HighImportance
	buttons := container.NewVBox(
		container.New(atLeast{w: 300, h: touchTarget}, a.refund),
		container.New(atLeast{w: 300, h: touchTarget}, a.ack),
	)
	text := container.NewVBox(withBannerText(a.title, 30), withBannerText(a.detail, 20))
	a.content = container.NewStack(a.bg, container.NewPadded(container.NewBorder(nil, nil, nil, buttons, text)))
	a.content.Hide()
	return a
}

// bannerTheme is white text, large, on the banner's own colour.
type bannerTheme struct {
	fyne.Theme
	text float32
}

func (t bannerTheme) Color(n fyne.ThemeColorName, v fyne.ThemeVariant) color.Color {
	if n == theme.ColorNameForeground {
		return color.White
	}
	return t.Theme.Color(n, v)
}

func (t bannerTheme) Size(n fyne.ThemeSizeName) float32 {
	if n == theme.SizeNameText {
		return t.text
	}
	return t.Theme.Size(n)
}

func withBannerText(obj fyne.CanvasObject, size float32) fyne.CanvasObject {
	return container.NewThemeOverride(obj, bannerTheme{Theme: fyne.CurrentApp().Settings().Theme(), text: size})
}

// onAlert queues an alert and shows the banner. Called on the Fyne goroutine.
func (a *alertBar) onAlert(al journal.Alert) {
	for _, q := range a.queue {
		if q.Order.OutTradeNo == al.Order.OutTradeNo && q.Kind == al.Kind {
			return // the same news twice (a late push after a late poll)
		}
	}
	a.queue = append(a.queue, al)
	a.show()
}

func (a *alertBar) show() {
	if len(a.queue) == 0 {
		a.content.Hide()
		return
	}
	al := a.queue[0]
	o := al.Order
	what := fmt.Sprintf("%s %s", o.Amount.Display(), o.PayType.Name.En)
	switch al.Kind {
	case journal.AlertPaidOffline:
		a.bg.FillColor = alertOfflineColor
		a.title.SetText("PAID WHILE THE KIOSK WAS OFFLINE — " + what)
		a.detail.SetText(fmt.Sprintf("Order %s, rung up at %s, was paid while the kiosk was down. The money was received.",
			o.OutTradeNo, o.TxTime.In(a.loc).Format("15:04:05")))
	default:
		a.bg.FillColor = alertLateColor
		shown := "Expired"
		if o.CancelAsked {
			shown = "Cancelled"
		}
		a.title.SetText("PAID LATE — " + what)
		a.detail.SetText(fmt.Sprintf("Order %s was paid after the screen showed %s. The money was received: if the customer paid again or is leaving without the goods, refund it.",
			o.OutTradeNo, shown))
	}
	if more := len(a.queue) - 1; more > 0 {
		a.detail.SetText(a.detail.Text + fmt.Sprintf("  (%d more after this one)", more))
	}
	a.bg.Refresh()
	a.content.Show()
}

func (a *alertBar) onRefundTap() {
	if len(a.queue) > 0 {
		a.onRefund(a.queue[0].Order.OutTradeNo)
	}
}

func (a *alertBar) onAcknowledge() {
	if len(a.queue) > 0 {
		a.queue = a.queue[1:]
	}
	a.show()
}
