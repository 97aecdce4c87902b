package ui

import (
	"errors"
	"strings"

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

// attach sends a window's keyboard to the pane: digits and the point type
// the amount, Enter (main or keypad) charges, Esc cancels.
func (c *cashier) attach(cv fyne.Canvas) {
	cv.SetOnTypedRune(c.onTypedRune)
	cv.SetOnTypedKey(c.onTypedKey)
}

func (c *cashier) onTypedRune(r rune) {
	if r == ' ' {
		return
	}
	c.onKey(string(r))
}

func (c *cashier) onTypedKey(e *fyne.KeyEvent) {
	if c.history.panelOpen() {
		// Enter and Esc belong to the refund then, never to a charge.
		switch e.Name {
		case fyne.KeyReturn, fyne.KeyEnter:
			c.history.onRefundConfirm()
		case fyne.KeyEscape:
			c.history.onRefundClose()
		case fyne.KeyBackspace:
			c.history.onKey(keyBack)
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
	if c.history.panelOpen() {
		c.history.onKey(k)
		return
	}
	if c.live != "" {
		return // the amount of a live order does not change
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

// refreshAmount shows the typed amount with the currency's symbol and
// thousands separators, as typed (so "12." shows the point just pressed).
func (c *cashier) refreshAmount() {
	c.amount.Color = theme.Color(theme.ColorNameForeground)
	text := c.typed
	if text == "" {
		c.amount.Color = theme.Color(theme.ColorNamePlaceHolder)
		text = payment.Amount{Currency: c.deps.Currency}.String()
	}
	c.amount.Text = payment.DisplayDecimal(text, c.deps.Currency)
	c.amount.Refresh()
}

// buildKeys makes the keypad: the digits, 00 and the point, with back and
// clear beside them, as large touch targets.
func (c *cashier) buildKeys() fyne.CanvasObject {
	key := func(k, label string) fyne.CanvasObject {
		b := widget.NewButton(label, func() { c.onKey(k) })
		c.keys[k] = b
		return touch(b, 72)
	}
	digits := container.NewGridWithColumns(3,
		key("7", "7"), key("8", "8"), key("9", "9"),
		key("4", "4"), key("5", "5"), key("6", "6"),
		key("1", "1"), key("2", "2"), key("3", "3"),
		key(keyDoubleZero, "00"), key("0", "0"), key(keyPoint, "."),
	)
	back := widget.NewButtonWithIcon("", theme.NavigateBackIcon(), func() { c.onKey(keyBack) })
	c.keys[keyBack] = back
	clearKey := widget.NewButton("C", func() { c.onKey(keyClear) })
	c.keys[keyClear] = clearKey
	side := container.NewGridWithRows(2, touch(back, 72), touch(clearKey, 72))
	if c.deps.Currency.Exponent == 0 {
		c.keys[keyPoint].Disable() // the currency has no minor unit
	}
	return container.NewBorder(nil, nil, nil, container.New(atLeast{w: 96}, side), digits)
}
