package ui

import (
	"time"

	"fyne.io/fyne/v2"

	"qrkiosk/internal/scan"
)

// keyboard takes a window's keys through the scanner's detector: a USB or
// Bluetooth scanner is a keyboard that types a code's digits in a burst,
// so a burst comes out as a code, and a person's typing as the same keys a
// moment later (act gets both).
type keyboard struct {
	detector scan.Detector
	// stopFlush stops the pending release of held keys.
	stopFlush func() bool
	now       func() time.Time
	after     func(d time.Duration, f func()) (stop func() bool)
	do        func(func())
	act       func([]scan.Action)
}

// press gives a key to the detector and acts on what it says now; a run of
// digits it holds is judged RunGap after its last key if nothing ends it
// sooner.
func (k *keyboard) press(key scan.Key) {
	acts, held := k.detector.Press(key, k.now())
	k.act(acts)
	if held {
		if k.stopFlush != nil {
			k.stopFlush()
		}
		k.stopFlush = k.after(scan.RunGap+time.Millisecond, func() {
			k.do(k.flush)
		})
	}
}

// flush judges the held run once no key has followed it within RunGap (a
// key that came meanwhile has its own flush on the way).
func (k *keyboard) flush() { k.act(k.detector.Flush(k.now())) }

// release types the held keys at once: a key the detector does not see
// (Esc, Backspace, a tap) comes after them.
func (k *keyboard) release() { k.act(k.detector.Release()) }

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
func (c *cashier) onTypedRune(r rune) { c.keyboard.press(scan.Key{Rune: r}) }

func (c *cashier) onTypedKey(e *fyne.KeyEvent) {
	switch e.Name {
	case fyne.KeyReturn, fyne.KeyEnter:
		c.keyboard.press(scan.Key{Enter: true})
	case fyne.KeyEscape, fyne.KeyBackspace, fyne.KeyDelete:
		// After the keys typed before it.
		c.keyboard.release()
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
	if c.sale.live != "" || c.scan.waiting {
		return // the amount of a live order (or one asked for) does not change
	}
	c.sale.message.SetText("")
	if err := c.amount.press(k); err != nil {
		c.sale.message.SetText(amountProblem(err))
	}
}

// tapKey is a keypad key tapped: after the keys typed before it.
func (c *cashier) tapKey(k string) {
	c.keyboard.release()
	c.onKey(k)
}

// act does what the detector says: a code is charged, a scan too short
// for one is refused, and typed keys are typed.
func (c *cashier) act(acts []scan.Action) {
	for _, a := range acts {
		if a.Code != "" {
			c.onScanned(a.Code)
			continue
		}
		if a.Rejected > 0 {
			c.onRejectedScan(a.Rejected)
			continue
		}
		for _, k := range a.Keys {
			if k.Enter {
				c.typedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
			} else {
				c.typedRune(k.Rune)
			}
		}
	}
}
