package ui

import (
	"errors"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"qrkiosk/internal/scan"
	"qrkiosk/payment"
)

// Keypad keys besides the digits.
const (
	keyDoubleZero = "00"
	keyPoint      = "."
	keyBack       = "back"
	keyClear      = "clear"
)

// attach sends a window's keyboard to the pane: digits and the point type
// the amount, Enter (main or keypad) charges, Esc cancels.
func (c *cashier) attach(cv fyne.Canvas) {
	if c.dialogs.canvas == nil {
		c.dialogs.canvas = cv
	}
	cv.SetOnTypedRune(c.onTypedRune)
	cv.SetOnTypedKey(c.onTypedKey)
}

// onTypedRune and onTypedKey take the keyboard's keys: through the
// scanner's detector first (scan.go), which gives them back as typing
// (typedRune, typedKey) or as a scanned code.
func (c *cashier) onTypedRune(r rune) { c.press(scan.Key{Rune: r}) }

func (c *cashier) onTypedKey(e *fyne.KeyEvent) {
	switch e.Name {
	case fyne.KeyReturn, fyne.KeyEnter:
		c.press(scan.Key{Enter: true})
	case fyne.KeyEscape, fyne.KeyBackspace, fyne.KeyDelete:
		// After the keys typed before it.
		c.releaseKeys()
		c.typedKey(e)
	}
	// Any other key (a digit's, say: GLFW reports the key before its
	// rune) does nothing here, and must not cut a scan's burst short.
}

func (c *cashier) typedRune(r rune) {
	if r == ' ' {
		return
	}
	if c.dialogs.modal != nil {
		c.dialogs.modal.onKey(string(r))
		return
	}
	c.onKey(string(r))
}

func (c *cashier) typedKey(e *fyne.KeyEvent) {
	if c.dialogs.modal != nil {
		c.dialogs.modal.onTypedKey(e)
		return
	}
	if c.tabs.history.panelOpen() {
		// Enter and Esc belong to the refund then, never to a charge.
		switch e.Name {
		case fyne.KeyReturn, fyne.KeyEnter:
			c.tabs.history.onRefundConfirm()
		case fyne.KeyEscape:
			c.tabs.history.onRefundClose()
		case fyne.KeyBackspace:
			c.tabs.history.onKey(keyBack)
		}
		return
	}
	switch e.Name {
	case fyne.KeyReturn, fyne.KeyEnter:
		c.onCharge()
	case fyne.KeyEscape:
		c.onCancel()
	case fyne.KeyBackspace:
		c.onKey(keyBack)
	case fyne.KeyDelete:
		c.onKey(keyClear)
	}
}

// onKey edits the typed amount. A key that would make the amount invalid
// whatever is typed next (a third decimal, a twelfth digit, a letter) is
// refused with the reason; nothing typed ever reaches the gateway unchecked.
func (c *cashier) onKey(k string) {
	if c.dialogs.modal != nil {
		c.dialogs.modal.onKey(k)
		return
	}
	if c.tabs.history.panelOpen() {
		c.tabs.history.onKey(k)
		return
	}
	if c.live != "" || c.scanning {
		return // the amount of a live order (or one asked for) does not change
	}
	c.message.SetText("")
	next, err := typeAmount(c.typed, k, c.deps.Currency)
	if err != nil {
		c.message.SetText(amountProblem(err))
		return
	}
	c.typed = next
	c.refreshAmount()
}

// tapKey is a keypad key tapped: after the keys typed before it.
func (c *cashier) tapKey(k string) {
	c.releaseKeys()
	c.onKey(k)
}

// typeAmount is typed with one more keypad key (a digit, 00, the point,
// back or clear). A key that would make the amount invalid whatever is
// typed next (a third decimal, a twelfth digit, a letter) is refused with
// ParseAmount's error and typed is kept.
func typeAmount(typed, k string, cur payment.Currency) (string, error) {
	switch k {
	case keyBack:
		if typed != "" {
			typed = typed[:len(typed)-1]
		}
		return typed, nil
	case keyClear:
		return "", nil
	}
	next := typed + k
	switch {
	case typed == "" && k == keyPoint:
		next = "0."
	case typed == "" && k == keyDoubleZero:
		return typed, nil
	case typed == "0" && k != keyPoint:
		next = strings.TrimPrefix(k, "0")
		if next == "" {
			next = "0"
		}
	}
	if _, err := payment.ParseAmount(next, cur); err != nil {
		if _, err2 := payment.ParseAmount(next+"1", cur); err2 != nil {
			return typed, err
		}
	}
	return next, nil
}

// amountProblem words a ParseAmount error for the cashier.
func amountProblem(err error) string {
	var fe *payment.FieldError
	if errors.As(err, &fe) {
		return "Amount " + fe.Rule
	}
	return err.Error()
}

// refreshAmount shows the typed amount as the customer will see it, in
// the one money format (payment.Amount.Display: "HK$250.00"): what has
// been typed in full colour, the decimals still to come muted, so "12."
// shows the point just pressed and "250" reads HK$250.00.
func (c *cashier) refreshAmount() {
	shown, rest := amountParts(c.typed, c.deps.Currency)
	c.amount.Text, c.amountRest.Text = shown, rest
	c.amount.Color = theme.Color(theme.ColorNameForeground)
	c.amountRest.Color = theme.Color(theme.ColorNamePlaceHolder)
	// Laid out again: the two parts changed width.
	c.amountBox.Refresh()
}

// amountParts splits the display of a typed amount into what was typed and
// the decimals that complete it: shown+rest is Amount.Display() of the
// amount Enter would charge.
func amountParts(typed string, cur payment.Currency) (shown, rest string) {
	if typed == "" {
		return "", payment.Amount{Currency: cur}.Display()
	}
	shown = payment.DisplayDecimal(typed, cur)
	if cur.Exponent == 0 {
		return shown, ""
	}
	_, frac, hasPoint := strings.Cut(typed, ".")
	if !hasPoint {
		return shown, "." + strings.Repeat("0", cur.Exponent)
	}
	return shown, strings.Repeat("0", max(cur.Exponent-len(frac), 0))
}

// buildKeys makes the keypad: the digits, 00 and the point, with back and
// clear beside them, and Cancel and Charge below, as large touch targets.
func (c *cashier) buildKeys() fyne.CanvasObject {
	var objs []fyne.CanvasObject
	key := func(k, label string) {
		b := widget.NewButton(label, func() { c.tapKey(k) })
		c.keys[k] = b
		objs = append(objs, b)
	}
	for _, k := range []string{"7", "8", "9", "4", "5", "6", "1", "2", "3", keyDoubleZero, "0", keyPoint} {
		key(k, k)
	}
	back := widget.NewButtonWithIcon("", theme.NavigateBackIcon(), func() { c.tapKey(keyBack) })
	c.keys[keyBack] = back
	clearKey := widget.NewButton("C", func() { c.tapKey(keyClear) })
	c.keys[keyClear] = clearKey
	if c.deps.Currency.Exponent == 0 {
		c.keys[keyPoint].Disable() // the currency has no minor unit
	}
	objs = append(objs, back, clearKey, c.cancel, c.charge)
	return container.New(keypadLayout{gap: c.m.pad}, objs...)
}
