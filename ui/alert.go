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
	"qrkiosk/payment"
)

// alertBar is the banner across the top of the cashier pane for what the
// cashier must see at once: a payment that arrived after the screen showed
// Expired or Cancelled, or one made while the kiosk was down. It stays
// until acknowledged; alerts that come meanwhile wait their turn.
type alertBar struct {
	onRefund func(outTradeNo string)
	loc      *time.Location // the merchant zone, for times

	m       metrics
	queue   []journal.Alert
	bg      *canvas.Rectangle
	title   *widget.Label
	detail  *widget.Label
	refund  *widget.Button
	ack     *widget.Button
	buttons *fyne.Container
	text    *fyne.Container
	content *fyne.Container
}

// Banner colours: white on a strong red (paid late: money to give back,
// perhaps) or a deep blue (paid while offline: a sale to note).
var (
	alertLateColor    = color.NRGBA{R: 0xb7, G: 0x1c, B: 0x1c, A: 0xff}
	alertOfflineColor = color.NRGBA{R: 0x0d, G: 0x47, B: 0xa1, A: 0xff}
)

func newAlertBar(loc *time.Location, m metrics, onRefund func(outTradeNo string)) *alertBar {
	a := &alertBar{onRefund: onRefund, loc: loc, m: m}
	a.bg = canvas.NewRectangle(alertLateColor)
	a.title = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	a.title.Wrapping = fyne.TextWrapWord
	a.detail = widget.NewLabel("")
	a.detail.Wrapping = fyne.TextWrapWord
	a.refund = widget.NewButtonWithIcon("Refund… (manager PIN)", theme.ContentUndoIcon(), a.onRefundTap)
	a.ack = widget.NewButtonWithIcon("Seen — dismiss", theme.ConfirmIcon(), a.onAcknowledge)
	a.ack.Importance = widget.HighImportance
	a.buttons = container.New(&bannerButtons{m: m}, a.refund, a.ack)
	// One override for the banner's white text (title and detail alike).
	a.text = container.NewVBox(a.title, a.detail)
	a.content = container.New(&bannerLayout{a: a}, a.bg, withBannerText(a.text, m.text*1.1), a.buttons)
	a.content.Hide()
	return a
}

// bannerButtons stacks the banner's buttons, each a touch target wide
// enough for its label.
type bannerButtons struct{ m metrics }

func (l *bannerButtons) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var w float32
	n := 0
	for _, o := range objs {
		if o.Visible() {
			w = max(w, o.MinSize().Width)
			n++
		}
	}
	return fyne.NewSize(w, float32(n)*l.m.touch+float32(max(n-1, 0))*l.m.pad)
}

func (l *bannerButtons) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	y := float32(0)
	for _, o := range objs {
		if o.Visible() {
			place(o, 0, y, size.Width, l.m.touch)
			y += l.m.touch + l.m.pad
		}
	}
}

// bannerLayout: the colour behind, the text on the left, the buttons on
// the right (below the text when the pane is narrow).
type bannerLayout struct{ a *alertBar }

func (l *bannerLayout) MinSize([]fyne.CanvasObject) fyne.Size { return fyne.NewSize(1, 1) }

func (l *bannerLayout) split(width float32) (textW, buttonsW float32, below bool) {
	bw := l.a.buttons.MinSize().Width
	if width-bw < width*0.55 {
		return width, width, true
	}
	return width - bw - l.a.m.pad, bw, false
}

func (l *bannerLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	bg, text, buttons := objs[0], objs[1], objs[2]
	place(bg, 0, 0, size.Width, size.Height)
	p := l.a.m.pad
	tw, bw, below := l.split(size.Width - 2*p)
	th := l.a.text.MinSize().Height
	bh := buttons.MinSize().Height
	place(text, p, p, tw, th)
	if below {
		place(buttons, p, p+th+p, bw, bh)
		return
	}
	place(buttons, p+tw+p, p, bw, bh)
}

// heightFor is the banner's height at a width: its text wrapped there and
// its buttons, beside or below it.
func (a *alertBar) heightFor(width float32) float32 {
	l := a.content.Layout.(*bannerLayout)
	p := a.m.pad
	tw, _, below := l.split(width - 2*p)
	a.text.Resize(fyne.NewSize(tw, a.text.MinSize().Height))
	th := a.text.MinSize().Height
	bh := a.buttons.MinSize().Height
	if below {
		return p + th + p + bh + p
	}
	return p + max(th, bh) + p
}

// withBannerText: white text, large, on the banner's own colour.
func withBannerText(obj fyne.CanvasObject, size float32) fyne.CanvasObject {
	return container.NewThemeOverride(obj, &sizeTheme{Theme: fyne.CurrentApp().Settings().Theme(), text: float32(int(size)), fg: color.White})
}

// onAlert queues an alert and shows the banner; it reports whether the
// alert is news. Called on the Fyne goroutine.
func (a *alertBar) onAlert(al journal.Alert) bool {
	for _, q := range a.queue {
		if q.Order.OutTradeNo == al.Order.OutTradeNo && q.Kind == al.Kind {
			return false // the same news twice (a late push after a late poll)
		}
	}
	a.queue = append(a.queue, al)
	a.show()
	return true
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
		a.detail.SetText(fmt.Sprintf("Order %s was paid after the screen showed %s. The money was received: if the customer paid again or is leaving without the goods, %s.",
			o.OutTradeNo, shown, giveBack(o.PayType)))
	}
	// Only where the gateway can refund: an FPS payment cannot be, and a
	// button that is then refused would only waste the customer's time.
	if o.PayType.Refundable {
		a.refund.Show()
	} else {
		a.refund.Hide()
	}
	if more := len(a.queue) - 1; more > 0 {
		a.detail.SetText(a.detail.Text + fmt.Sprintf("  (%d more after this one)", more))
	}
	a.bg.Refresh()
	a.content.Show()
}

// giveBack says how to return a payment's money.
func giveBack(p payment.PayType) string {
	if p.Refundable {
		return "refund it"
	}
	return p.Name.En + " payments cannot be refunded through the gateway: give the money back by bank transfer (or in cash)"
}

// pending: an alert waits to be seen (the banner shows, unless the pane
// has made room for the refund it asked for).
func (a *alertBar) pending() bool { return len(a.queue) > 0 }

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
