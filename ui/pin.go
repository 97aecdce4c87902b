package ui

import (
	"image/color"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/widget"
)

// noReveal takes the place of Fyne's password reveal button, which a
// masked Entry gets whenever its ActionItem is empty.
func noReveal() fyne.CanvasObject { return canvas.NewRectangle(color.Transparent) }

// pinPad is a dialog over the pane: a title, a line of explanation, and
// (for a PIN) the dots typed so far with a keypad of its own, as large as
// the window allows, then Cancel and OK. The keyboard types into it too.
// The pane shows one at a time (dialogs.modal). No reveal: the screen may
// face the customer.
type pinPad struct {
	d        *dialogs
	typed    string
	maxLen   int
	plain    bool
	dots     *canvas.Text
	message  *widget.Label
	keys     map[string]*widget.Button
	ok       *widget.Button
	cancel   *widget.Button
	popup    *widget.PopUp
	onOK     func(p *pinPad, typed string)
	onCancel func()
	busy     bool
}

type pinPadSpec struct {
	title, explain string
	okText         string
	cancelText     string
	danger         bool // OK does something that cannot be undone
	withKeypad     bool // a PIN is typed
	plain          bool // shown as typed (a payment code), not as dots
	maxLen         int  // 0: 12
	// content takes the keypad's place in a dialog without one (the
	// customer displays' pairing code and list).
	content  fyne.CanvasObject
	onOK     func(p *pinPad, typed string)
	onCancel func()
}

// groupDigits spaces a long code in fours, as wallet apps show it.
func groupDigits(s string) string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func nonNil(objs ...fyne.CanvasObject) []fyne.CanvasObject {
	var out []fyne.CanvasObject
	for _, o := range objs {
		if o != nil {
			out = append(out, o)
		}
	}
	return out
}

func (p *pinPad) refresh() {
	if p.dots != nil {
		p.dots.Text = strings.Repeat("●", len(p.typed))
		if p.plain {
			p.dots.Text = groupDigits(p.typed)
		}
		if p.typed == "" {
			p.dots.Text = "—"
		}
		p.dots.Refresh()
	}
}

// onKey types a digit, back or clear (the pad's keys, the cashier's
// keypad, or the keyboard).
func (p *pinPad) onKey(k string) {
	if p.busy || p.dots == nil {
		return
	}
	switch k {
	case keyBack:
		if p.typed != "" {
			p.typed = p.typed[:len(p.typed)-1]
		}
	case keyClear:
		p.typed = ""
	default:
		if len(k) != 1 || k[0] < '0' || k[0] > '9' || len(p.typed) >= p.maxLen {
			return
		}
		p.typed += k
	}
	p.refresh()
}

func (p *pinPad) onTypedKey(e *fyne.KeyEvent) {
	switch e.Name {
	case fyne.KeyReturn, fyne.KeyEnter:
		p.onConfirm()
	case fyne.KeyEscape:
		p.close()
	case fyne.KeyBackspace:
		p.onKey(keyBack)
	case fyne.KeyDelete:
		p.onKey(keyClear)
	}
}

func (p *pinPad) onConfirm() {
	if p.busy {
		return
	}
	typed := p.typed
	p.typed = ""
	p.refresh()
	p.onOK(p, typed)
}

// fail says why, and the dialog stays for another try.
func (p *pinPad) fail(msg string) {
	p.setBusy(false)
	p.message.SetText(msg)
}

// setBusy turns the pad off while a slow check runs.
func (p *pinPad) setBusy(busy bool) {
	p.busy = busy
	for _, b := range append([]*widget.Button{p.ok, p.cancel}, mapValues(p.keys)...) {
		if busy {
			b.Disable()
		} else {
			b.Enable()
		}
	}
}

func mapValues(m map[string]*widget.Button) []*widget.Button {
	var out []*widget.Button
	for _, b := range m {
		out = append(out, b)
	}
	return out
}

// close takes the dialog away (Cancel, Esc, or done).
func (p *pinPad) close() {
	if p.busy {
		return
	}
	p.finish()
	if p.onCancel != nil {
		p.onCancel()
	}
}

// finish takes the dialog away without calling onCancel.
func (p *pinPad) finish() {
	p.popup.Hide()
	if p.d.modal == p {
		p.d.modal = nil
	}
}

// padLayout: the texts and the dots on the left, the keypad on the right
// (landscape), or all stacked (upright or without a keypad); Cancel and
// OK across the bottom.
type padLayout struct {
	m                                               metrics
	title, explain, dots, message, keys, ok, cancel fyne.CanvasObject
}

func (l *padLayout) MinSize([]fyne.CanvasObject) fyne.Size { return fyne.NewSize(1, 1) }

func (l *padLayout) Layout(_ []fyne.CanvasObject, size fyne.Size) {
	m := l.m
	p := m.pad * 2
	x, y, w, h := p, p, size.Width-2*p, size.Height-2*p
	bh := m.touch
	by := y + h - bh
	half := (w - m.pad) / 2
	place(l.cancel, x, by, half, bh)
	place(l.ok, x+half+m.pad, by, half, bh)
	h -= bh + m.pad
	colW := w
	if l.keys != nil && size.Width > size.Height {
		colW = (w - p) * 0.5
		place(l.keys, x+colW+p, y, w-colW-p, h)
	}
	textH := func(o fyne.CanvasObject) float32 {
		o.Resize(fyne.NewSize(colW, o.MinSize().Height))
		return o.MinSize().Height
	}
	th := textH(l.title)
	place(l.title, x, y, colW, th)
	y += th
	eh := textH(l.explain)
	place(l.explain, x, y, colW, eh)
	y += eh + m.pad
	if l.dots != nil {
		place(l.dots, x, y, colW, m.touch)
		y += m.touch + m.pad
	}
	mh := lines(2, m.text)
	place(l.message, x, y, colW, mh)
	y += mh + m.pad
	if l.keys != nil && size.Width <= size.Height {
		place(l.keys, x, y, w, by-m.pad-y)
	}
}

// gridLayout is cols equal columns of equal rows filling the space.
type gridLayout struct {
	cols int
	gap  float32
}

func (g *gridLayout) MinSize([]fyne.CanvasObject) fyne.Size { return fyne.NewSize(1, 1) }

func (g *gridLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	rows := (len(objs) + g.cols - 1) / g.cols
	if rows == 0 {
		return
	}
	bw := (size.Width - float32(g.cols-1)*g.gap) / float32(g.cols)
	bh := (size.Height - float32(rows-1)*g.gap) / float32(rows)
	for i, o := range objs {
		place(o, float32(i%g.cols)*(bw+g.gap), float32(i/g.cols)*(bh+g.gap), bw, bh)
	}
}
