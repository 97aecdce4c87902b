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

	"qrkiosk/display"
	"qrkiosk/internal/kiosk"
	"qrkiosk/internal/pin"
	"qrkiosk/internal/setup"
)

// phoneSetup is "Set up from a phone": the kiosk's setup page turned on,
// its address as a QR code and its one-time code shown until a phone
// types it, what the page sees told on the screen, and the settings the
// owner saved applied once no sale is under way.
type phoneSetup struct {
	w    *windows
	page *setup.Server
	dlg  *phoneDialog
}

// openPhoneSetup turns the setup page on with a new code (after the
// manager PIN, managerTools).
func (w *windows) openPhoneSetup() {
	if w.phone == nil {
		w.phone = &phoneSetup{w: w}
	}
	w.phone.open()
}

func (p *phoneSetup) open() {
	w := p.w
	page, url, err := w.kiosk.SetupPage(w.opts.Check, func(e setup.Event) { w.do(func() { p.onEvent(e) }) })
	if err != nil {
		w.log.Error("setup page not available", "err", err)
		w.cashier.sale.message.SetText("The setup page cannot be served: " + err.Error())
		return
	}
	p.page = page
	code, until := page.Open()
	if p.dlg != nil {
		p.dlg.close()
	}
	p.dlg = newPhoneDialog(w.cashier.m, w.cashier.dialogs.canvas, url, time.Now, p.newCode, p.close)
	p.dlg.setCode(code, until)
	go p.dlg.tick(w.do)
	w.log.Info("setup page on", "url", url)
}

func (p *phoneSetup) newCode() {
	code, until := p.page.Open()
	p.dlg.setCode(code, until)
	p.dlg.setStatus("A new code: the old one no longer works.", false)
}

// close turns the page off with the dialog.
func (p *phoneSetup) close() {
	if p.page != nil {
		p.page.Close()
	}
	if p.dlg != nil {
		p.dlg.close()
		p.dlg = nil
	}
}

// onEvent shows what the page saw. Called on the Fyne goroutine.
func (p *phoneSetup) onEvent(e setup.Event) {
	if p.dlg == nil && e.Kind != setup.EventSaved {
		return
	}
	switch e.Kind {
	case setup.EventUnlocked:
		p.dlg.inUse()
		p.dlg.setStatus(fmt.Sprintf("A phone (%s) has the setup page open.", e.Source), false)
	case setup.EventCodeBurnt:
		p.dlg.noCode()
		p.dlg.setStatus("Too many wrong codes: that code no longer works. Tap New code to show another.", true)
	case setup.EventLocked:
		p.dlg.setStatus(fmt.Sprintf("Too many wrong codes from %s: it is refused for %s.", e.Source, pin.LockedText(e.Wait)), true)
	case setup.EventEnded:
		p.dlg.noCode()
		p.dlg.setStatus("The setup page has ended: nothing was saved. Tap New code to start again.", false)
	case setup.EventSaved:
		if p.dlg != nil {
			p.dlg.close()
			p.dlg = nil
		}
		p.w.applySettings()
	}
}

// applyingText is what the pane says while the saved settings go in.
const applyingText = "Applying the new settings…"

// applySettings puts the settings the owner saved in force without a
// restart, once no sale is under way: the till is held (no sale can start
// meanwhile), the kiosk opened again from config.toml, and the windows
// show the new one — out of demo mode once it has credentials, the DEMO
// marks gone. Called on the Fyne goroutine.
func (w *windows) applySettings() {
	old := w.kiosk
	if !old.Till.HoldIdle(applyingText) {
		w.cashier.sale.message.SetText("New settings saved: they are applied as soon as this sale ends.")
		time.AfterFunc(500*time.Millisecond, func() { w.do(w.applySettings) })
		return
	}
	w.cashier.hold(applyingText)
	// The pane stops reading the old kiosk before it closes.
	w.cashier.close()
	w.paneCancel()
	go func() {
		nk, err := old.Reopen(w.opts.Check)
		w.do(func() {
			if nk == nil {
				nk = old // refused before anything was closed
				old.Till.Release()
			}
			w.show(nk)
			if err != nil {
				w.log.Error("saved settings not applied", "err", err)
				w.cashier.sale.message.SetText("The saved settings could not be applied: " + err.Error())
			}
			w.recoverAfterReopen(nk, nk != old)
		})
	}()
}

// recoverAfterReopen settles what a kiosk opened on a journal left
// unfinished (the real journal, when the demo's was in use), as at start.
func (w *windows) recoverAfterReopen(k *kiosk.Kiosk, reopened bool) {
	if !reopened {
		w.cashier.onRecovered(nil, nil, nil)
		return
	}
	w.cashier.hold("Checking what the last run left unfinished…")
	go w.recoverAtStart(w.runCtx, k)
}

// phoneDialog is the popup over the pane: the page's address as a QR code
// and as text, the code in large digits, how long it works, what the page
// sees, New code and Close.
type phoneDialog struct {
	m        metrics
	popup    *widget.PopUp
	code     *canvas.Text
	left     *widget.Label
	status   *widget.Label
	newBtn   *widget.Button
	closeBtn *widget.Button
	until    time.Time
	now      func() time.Time
	stop     chan struct{}
}

// phoneTitle is the dialog's title in the three languages a cashier reads.
const phoneTitle = "Set up from a phone · 用手機設定 · 用手机设置"

func newPhoneDialog(m metrics, cv fyne.Canvas, url string, now func() time.Time, onNew, onClose func()) *phoneDialog {
	d := &phoneDialog{m: m, stop: make(chan struct{}), now: now}
	size := cv.Size()
	w, h := min(size.Width*0.96, 1000), min(size.Height*0.96, 680)
	title := widget.NewLabelWithStyle(phoneTitle, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	title.Wrapping = fyne.TextWrapWord
	steps := widget.NewLabel("1. Join the shop's Wi-Fi with the phone.\n2. Scan this QR code, or open " + url + "\n3. Type this code on the phone:")
	steps.Wrapping = fyne.TextWrapWord
	d.code = canvas.NewText("", color.Black)
	d.code.TextSize = m.amount
	d.code.TextStyle = fyne.TextStyle{Bold: true, Monospace: true}
	d.code.Alignment = fyne.TextAlignCenter
	card := container.NewStack(canvas.NewRectangle(color.White), container.NewCenter(d.code))
	d.left = widget.NewLabel("")
	d.status = widget.NewLabel("Waiting for the phone…")
	d.status.Wrapping = fyne.TextWrapWord
	d.newBtn = widget.NewButtonWithIcon("New code", theme.ViewRefreshIcon(), onNew)
	d.closeBtn = widget.NewButtonWithIcon("Close", theme.CancelIcon(), onClose)
	d.closeBtn.Importance = widget.HighImportance

	qrSide := int(min(w*0.42, h-2*m.touch-4*m.pad))
	var qr fyne.CanvasObject = widget.NewLabel("")
	if img, err := display.QRImage(url, qrSide); err == nil {
		ci := canvas.NewImageFromImage(img)
		ci.ScaleMode = canvas.ImageScalePixels
		ci.FillMode = canvas.ImageFillOriginal
		qr = ci
	}
	layout := &phoneLayout{m: m, qrSide: float32(qrSide)}
	frame := container.New(layout, title, qr, steps, card, d.left, d.status, d.newBtn, d.closeBtn)
	bg := canvas.NewRectangle(theme.Color(theme.ColorNameOverlayBackground))
	d.popup = widget.NewModalPopUp(container.NewStack(bg, frame), cv)
	d.popup.Resize(fyne.NewSize(w, h))
	d.popup.Show()
	return d
}

// setCode shows a code and the time it works until.
func (d *phoneDialog) setCode(code string, until time.Time) {
	d.code.Text = code[:3] + " " + code[3:]
	d.code.Refresh()
	d.until = until
	d.showLeft()
}

// inUse: a phone typed the code, which no longer works.
func (d *phoneDialog) inUse() {
	d.code.Text = "✓"
	d.code.Refresh()
}

// noCode: the code no longer works.
func (d *phoneDialog) noCode() {
	d.code.Text = "— — —"
	d.code.Refresh()
	d.until = time.Time{}
	d.showLeft()
}

func (d *phoneDialog) setStatus(text string, bad bool) {
	d.status.SetText(text)
	d.status.Importance = widget.MediumImportance
	if bad {
		d.status.Importance = widget.DangerImportance
	}
	d.status.Refresh()
}

func (d *phoneDialog) showLeft() {
	if d.until.IsZero() {
		d.left.SetText("")
		return
	}
	left := max(d.until.Sub(d.now()).Round(time.Second), 0)
	d.left.SetText(fmt.Sprintf("The page works for %d:%02d more.", int(left.Minutes()), int(left.Seconds())%60))
}

// tick counts the code's time down, through do (fyne.Do), until the
// dialog closes.
func (d *phoneDialog) tick(do func(func())) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-d.stop:
			return
		case <-t.C:
			do(d.showLeft)
		}
	}
}

func (d *phoneDialog) close() {
	close(d.stop)
	d.popup.Hide()
}

// phoneLayout places the dialog: the title across the top, the QR code on
// the left, the steps, the code, the time left and the status on the
// right, New code and Close along the bottom.
type phoneLayout struct {
	m      metrics
	qrSide float32
}

func (l *phoneLayout) MinSize([]fyne.CanvasObject) fyne.Size { return fyne.NewSize(1, 1) }

func (l *phoneLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	title, qr, steps, card, left, status, newBtn, closeBtn := objs[0], objs[1], objs[2], objs[3], objs[4], objs[5], objs[6], objs[7]
	m := l.m
	p := 2 * m.pad
	x, y, w, h := p, p, size.Width-2*p, size.Height-2*p
	half := (w - m.pad) / 2
	by := y + h - m.touch
	place(newBtn, x, by, half, m.touch)
	place(closeBtn, x+half+m.pad, by, half, m.touch)
	title.Resize(fyne.NewSize(w, title.MinSize().Height))
	th := title.MinSize().Height
	place(title, x, y, w, th)
	y += th + m.pad
	place(qr, x, y, l.qrSide, l.qrSide)
	rx, rw := x+l.qrSide+p, w-l.qrSide-p
	steps.Resize(fyne.NewSize(rw, steps.MinSize().Height))
	sh := steps.MinSize().Height
	place(steps, rx, y, rw, sh)
	y += sh + m.pad
	ch := m.amount * 1.6
	place(card, rx, y, rw, ch)
	y += ch + m.pad
	lh := lines(1, m.text)
	place(left, rx, y, rw, lh)
	y += lh
	place(status, rx, y, rw, by-m.pad-y)
}
