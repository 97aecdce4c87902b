package ui

import (
	"fyne.io/fyne/v2"

	"qrkiosk/internal/scan"
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
	if err := c.amount.press(k); err != nil {
		c.message.SetText(amountProblem(err))
	}
}

// tapKey is a keypad key tapped: after the keys typed before it.
func (c *cashier) tapKey(k string) {
	c.releaseKeys()
	c.onKey(k)
}
