package ui

import (
	"errors"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"

	"qrkiosk/payment"
)

// amountField is the amount the cashier types, shown as the customer will
// see it: what has been typed in full colour, the decimals still to come
// muted.
type amountField struct {
	cur   payment.Currency
	typed string // the amount as typed, e.g. "12.3"
	shown *canvas.Text
	rest  *canvas.Text
	box   fyne.CanvasObject
}

func newAmountField(cur payment.Currency, m metrics) *amountField {
	a := &amountField{cur: cur}
	a.shown = canvas.NewText("", theme.Color(theme.ColorNameForeground))
	a.rest = canvas.NewText("", theme.Color(theme.ColorNamePlaceHolder))
	for _, t := range []*canvas.Text{a.shown, a.rest} {
		t.TextSize = m.amount
		t.TextStyle.Bold = true
	}
	a.box = container.NewStack(
		canvas.NewRectangle(theme.Color(theme.ColorNameInputBackground)),
		container.New(amountLine{pad: m.pad * 2}, a.shown, a.rest),
	)
	return a
}

// press edits the amount with a keypad key. A key that would make the
// amount invalid whatever is typed next (a third decimal, a twelfth digit,
// a letter) is refused with the reason and changes nothing; nothing typed
// ever reaches the gateway unchecked.
func (a *amountField) press(k string) error {
	next, err := typeAmount(a.typed, k, a.cur)
	if err != nil {
		return err
	}
	a.set(next)
	return nil
}

// set puts an amount in the field as if typed ("" clears it).
func (a *amountField) set(typed string) {
	a.typed = typed
	a.refresh()
}

// parse is the typed amount, or ParseAmount's reason it is none.
func (a *amountField) parse() (payment.Amount, error) { return payment.ParseAmount(a.typed, a.cur) }

// refresh shows the typed amount in the one money format
// (payment.Amount.Display: "HK$250.00"), so "12." shows the point just
// pressed and "250" reads HK$250.00.
func (a *amountField) refresh() {
	shown, rest := amountParts(a.typed, a.cur)
	a.shown.Text, a.rest.Text = shown, rest
	a.shown.Color = theme.Color(theme.ColorNameForeground)
	a.rest.Color = theme.Color(theme.ColorNamePlaceHolder)
	// Laid out again: the two parts changed width.
	a.box.Refresh()
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

// amountLine right-aligns the typed amount and its muted completion,
// pad from the right edge, centred vertically.
type amountLine struct{ pad float32 }

func (l amountLine) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	x := size.Width - l.pad
	for i := len(objs) - 1; i >= 0; i-- {
		s := objs[i].MinSize()
		x -= s.Width
		place(objs[i], x, (size.Height-s.Height)/2, s.Width, s.Height)
	}
}

func (l amountLine) MinSize([]fyne.CanvasObject) fyne.Size { return fyne.NewSize(1, 1) }
