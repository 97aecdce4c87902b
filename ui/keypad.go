package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"qrkiosk/payment"
)

// Keypad keys besides the digits.
const (
	keyDoubleZero = "00"
	keyPoint      = "."
	keyBack       = "back"
	keyClear      = "clear"
)

// keypad is the cashier's keys as large touch targets: the digits, 00 and
// the point, with back and clear beside them, and Cancel and Charge below.
// What a key does is the pane's to say (it may type into a dialog or the
// refund panel).
type keypad struct {
	cur    payment.Currency
	keys   map[string]*widget.Button
	charge *widget.Button
	cancel *widget.Button
	box    fyne.CanvasObject
}

func newKeypad(cur payment.Currency, m metrics, onKey func(k string), onCharge, onCancel func()) *keypad {
	p := &keypad{cur: cur, keys: map[string]*widget.Button{}}
	p.charge = widget.NewButtonWithIcon("Charge", theme.ConfirmIcon(), onCharge)
	p.charge.Importance = widget.HighImportance
	p.cancel = widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), onCancel)
	p.cancel.Importance = widget.DangerImportance
	var objs []fyne.CanvasObject
	key := func(k, label string) {
		b := widget.NewButton(label, func() { onKey(k) })
		p.keys[k] = b
		objs = append(objs, b)
	}
	for _, k := range []string{"7", "8", "9", "4", "5", "6", "1", "2", "3", keyDoubleZero, "0", keyPoint} {
		key(k, k)
	}
	back := widget.NewButtonWithIcon("", theme.NavigateBackIcon(), func() { onKey(keyBack) })
	p.keys[keyBack] = back
	clearKey := widget.NewButton("C", func() { onKey(keyClear) })
	p.keys[keyClear] = clearKey
	if cur.Exponent == 0 {
		p.keys[keyPoint].Disable() // the currency has no minor unit
	}
	objs = append(objs, back, clearKey, p.cancel, p.charge)
	p.box = withTextSize(container.New(keypadLayout{gap: m.pad}, objs...), m.keyText)
	return p
}

// refresh turns the keys on when ready for a sale, Charge when one may
// start too (canCharge: nothing holds it), Cancel while one is under way.
func (p *keypad) refresh(ready, canCharge bool) {
	for k, b := range p.keys {
		if ready && (k != keyPoint || p.cur.Exponent > 0) {
			b.Enable()
		} else {
			b.Disable()
		}
	}
	switch {
	case ready && canCharge:
		p.charge.Enable()
		p.cancel.Disable()
	case ready:
		p.charge.Disable()
		p.cancel.Disable()
	default:
		p.charge.Disable()
		p.cancel.Enable()
	}
}

// keypadLayout is the keypad: 3 columns of digits (7-8-9 on top, 00 0 .
// at the bottom), a fourth of back and clear, and Cancel and Charge
// across the bottom, as large as the space allows.
type keypadLayout struct{ gap float32 }

func (l keypadLayout) MinSize([]fyne.CanvasObject) fyne.Size { return fyne.NewSize(1, 1) }

// objs: 12 digit keys in reading order, back, clear, cancel, charge.
func (l keypadLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	g := l.gap
	kw := (size.Width - 3*g) / 4
	// Five rows: four of keys, one of Cancel/Charge a little taller.
	kh := (size.Height - 4*g) / 5.2
	for i := 0; i < 12; i++ {
		r, col := i/3, i%3
		place(objs[i], float32(col)*(kw+g), float32(r)*(kh+g), kw, kh)
	}
	side := 3 * (kw + g)
	place(objs[12], side, 0, kw, 2*kh+g)        // back
	place(objs[13], side, 2*(kh+g), kw, 2*kh+g) // clear
	ay := 4 * (kh + g)
	half := (size.Width - g) / 2
	place(objs[14], 0, ay, half, size.Height-ay)      // cancel
	place(objs[15], half+g, ay, half, size.Height-ay) // charge
}
