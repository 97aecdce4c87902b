package ui

import (
	"fmt"
	"log/slog"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"qrkiosk/internal/pin"
)

// dialogs is the one dialog over the pane at a time (a pinPad): while it
// shows, the keypad and the keyboard type into it.
type dialogs struct {
	m metrics
	// canvas is the window the pane is in (attach): dialogs open there.
	canvas fyne.Canvas
	modal  *pinPad
}

// openPad shows a dialog on the pane's window unless one is open already
// (then it does nothing: one dialog at a time).
func (d *dialogs) openPad(spec pinPadSpec) *pinPad {
	if d.modal != nil || d.canvas == nil {
		return nil
	}
	m := d.m
	p := &pinPad{d: d, maxLen: 12, plain: spec.plain, keys: map[string]*widget.Button{}, onOK: spec.onOK, onCancel: spec.onCancel}
	if spec.maxLen > 0 {
		p.maxLen = spec.maxLen
	}
	title := widget.NewLabelWithStyle(spec.title, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	title.Wrapping = fyne.TextWrapWord
	explain := widget.NewLabel(spec.explain)
	explain.Wrapping = fyne.TextWrapWord
	p.message = widget.NewLabel("")
	p.message.Importance = widget.DangerImportance
	p.message.Wrapping = fyne.TextWrapWord
	p.message.Truncation = fyne.TextTruncateEllipsis
	p.ok = widget.NewButtonWithIcon(spec.okText, theme.ConfirmIcon(), p.onConfirm)
	p.ok.Importance = widget.HighImportance
	if spec.danger {
		p.ok.Importance = widget.DangerImportance
	}
	p.cancel = widget.NewButtonWithIcon(spec.cancelText, theme.CancelIcon(), p.close)

	var keys fyne.CanvasObject
	var dotsBox fyne.CanvasObject
	if spec.withKeypad {
		p.dots = canvas.NewText("", theme.Color(theme.ColorNameForeground))
		p.dots.TextSize = m.keyText
		p.dots.Alignment = fyne.TextAlignCenter
		dotsBox = container.NewStack(canvas.NewRectangle(theme.Color(theme.ColorNameInputBackground)), container.NewCenter(p.dots))
		var objs []fyne.CanvasObject
		for _, k := range []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", keyClear, "0", keyBack} {
			b := widget.NewButton(k, func() { p.onKey(k) })
			switch k {
			case keyClear:
				b.SetText("C")
			case keyBack:
				b.SetText("")
				b.SetIcon(theme.NavigateBackIcon())
			}
			p.keys[k] = b
			objs = append(objs, b)
		}
		keys = withTextSize(container.New(&gridLayout{cols: 3, gap: m.pad}, objs...), m.keyText)
	} else if spec.content != nil {
		keys = spec.content
	}
	frame := container.New(&padLayout{m: m, title: title, explain: explain, dots: dotsBox, message: p.message, keys: keys, ok: p.ok, cancel: p.cancel},
		nonNil(title, explain, dotsBox, p.message, keys, p.ok, p.cancel)...)
	bg := canvas.NewRectangle(theme.Color(theme.ColorNameOverlayBackground))
	p.popup = widget.NewModalPopUp(container.NewStack(bg, frame), d.canvas)
	size := d.canvas.Size()
	w, h := min(size.Width*0.94, 920), min(size.Height*0.94, 620)
	if !spec.withKeypad && spec.content == nil {
		h = min(size.Height*0.94, 360)
	}
	p.popup.Resize(fyne.NewSize(w, h))
	p.refresh()
	d.modal = p
	p.popup.Show()
	return p
}

// askExitPIN asks for the kiosk PIN (on the on-screen keypad or a
// keyboard) and quits only when it matches; g refuses tries after too
// many wrong ones. One dialog at a time: asking again while it shows does
// nothing.
func (d *dialogs) askExitPIN(exitPIN string, g *pin.Guard, log *slog.Logger, quit func()) {
	d.openPad(pinPadSpec{
		title:      "Exit the kiosk",
		explain:    "Type the kiosk PIN to close the kiosk.",
		okText:     "Exit",
		cancelText: "Stay open",
		danger:     true,
		withKeypad: true,
		onOK: func(p *pinPad, typed string) {
			if d := g.Wait(); d > 0 {
				p.fail(fmt.Sprintf("Too many wrong PINs: try again in %s. The kiosk stays open.", pin.LockedText(d)))
				return
			}
			ok := pin.Equal(typed, exitPIN)
			locked := g.Record(ok)
			switch {
			case ok:
				p.finish()
				quit()
			case locked > 0:
				log.Warn("wrong kiosk PIN", "locked_for", locked)
				p.fail(fmt.Sprintf("Wrong PIN. Too many wrong PINs: locked for %s. The kiosk stays open.", pin.LockedText(locked)))
			default:
				log.Warn("wrong kiosk PIN", "locked_for", locked)
				p.fail("Wrong PIN — the kiosk stays open.")
			}
		},
	})
}

// confirmQuit asks before quitting with an order live.
func (d *dialogs) confirmQuit(quit func()) {
	d.openPad(pinPadSpec{
		title:      "A charge is in progress",
		explain:    "Quitting withdraws the customer's QR code first.",
		okText:     "Withdraw and quit",
		cancelText: "Keep charging",
		danger:     true,
		onOK: func(p *pinPad, _ string) {
			p.finish()
			quit()
		},
	})
}
