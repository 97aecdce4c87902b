package ui

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"qrkiosk/internal/pin"
)

// managerTools are what the pane opens only after the manager PIN: the
// tablet's Today & refunds, whose screen faces customers, the customer
// displays and "Set up from a phone". The refund panel checks the same PIN
// against the same lock-out (pins), so wrong tries add up wherever they
// are typed.
type managerTools struct {
	hash    string // the manager PIN's salted hash; "" = none configured
	pins    *pin.Guard
	dialogs *dialogs
	do      func(func())
	log     *slog.Logger
	// setupPhone opens the setup page's code (nil: no button for it).
	setupPhone func()
	setupTool  *widget.Button
}

// managerGate is one tool behind the manager PIN: its title and why it
// asks for the PIN.
type managerGate struct {
	title string
	why   string // what the PIN protects, said on the PIN pad
	none  string // what stays closed when no manager PIN is configured
}

// todaysSales guards the tablet's Today & refunds.
var todaysSales = managerGate{
	title: "Today & refunds",
	why:   "Manager PIN: today's sales are private on a screen customers see.",
	none:  "Today's sales are shown here only after the manager PIN",
}

// setupGate guards "Set up from a phone": the settings (gateway keys among
// them) change only after the manager PIN.
var setupGate = managerGate{
	title: "Set up from a phone",
	why:   "Manager PIN: the setup page changes the kiosk's gateway, keys and PINs.",
	none:  "The kiosk's settings can be changed only after the manager PIN",
}

// toolbar is the manager's "Set up from a phone" over the day's sales; nil
// when there is nothing in it.
func (t *managerTools) toolbar(touch float32) fyne.CanvasObject {
	if t.setupPhone == nil {
		return nil
	}
	t.setupTool = widget.NewButtonWithIcon("Set up from a phone", theme.SettingsIcon(), func() { t.askPINFor(setupGate, t.setupPhone) })
	return container.New(fixed{h: touch}, t.setupTool)
}

// askPIN asks for the manager PIN before the tablet's Today & refunds
// opens (all the day's sales, on a screen that faces customers).
func (t *managerTools) askPIN(open func()) { t.askPINFor(todaysSales, open) }

// askPINFor asks for the manager PIN before open runs. The hash check is
// slow by design, so it runs off the Fyne goroutine.
func (t *managerTools) askPINFor(g managerGate, open func()) {
	if t.hash == "" {
		t.dialogs.openPad(pinPadSpec{
			title:      g.title,
			explain:    g.none + ", and no manager PIN is configured (manager_pin_hash in config.toml; qrkiosk config hash-pin makes it).",
			okText:     "OK",
			cancelText: "Close",
			onOK:       func(p *pinPad, _ string) { p.finish() },
		})
		return
	}
	t.dialogs.openPad(pinPadSpec{
		title:      g.title,
		explain:    g.why,
		okText:     "Open",
		cancelText: "Cancel",
		withKeypad: true,
		onOK: func(p *pinPad, typed string) {
			if d := t.pins.Wait(); d > 0 {
				p.fail(fmt.Sprintf("Too many wrong manager PINs: locked for %s.", pin.LockedText(d)))
				return
			}
			p.setBusy(true)
			p.message.SetText("Checking…")
			verifyManagerPIN(t.pins, t.hash, typed, t.do, func(locked time.Duration, err error) {
				switch {
				case err == nil:
					p.setBusy(false)
					p.finish()
					open()
				case errors.Is(err, pin.ErrWrong):
					t.log.Warn("wrong manager PIN", "for", g.title, "locked_for", locked)
					msg := "Wrong manager PIN."
					if locked > 0 {
						msg = fmt.Sprintf("Wrong manager PIN. Too many wrong: locked for %s.", pin.LockedText(locked))
					}
					p.fail(msg)
				default:
					p.fail("The configured manager PIN hash is not usable: " + err.Error())
				}
			})
		},
	})
}

// verifyManagerPIN checks typed against hash off the Fyne goroutine (the
// hash is slow by design), records the try in g, and reports on the Fyne
// goroutine (do): nil, pin.ErrWrong with the lock-out it started (0:
// none), or why the hash cannot be used.
func verifyManagerPIN(g *pin.Guard, hash, typed string, do func(func()), report func(locked time.Duration, err error)) {
	go func() {
		err := pin.Verify(hash, typed)
		do(func() {
			var locked time.Duration
			switch {
			case err == nil:
				g.Record(true)
			case errors.Is(err, pin.ErrWrong):
				locked = g.Record(false)
			}
			report(locked, err)
		})
	}()
}
