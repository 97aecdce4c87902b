package ui

import (
	"crypto/subtle"
	"fmt"
	"image/color"
	"log/slog"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"
)

// PIN guessing: after maxPINTries wrong PINs in a row a PIN is refused for
// pinLockout, doubled for each further lockout up to maxPINLockout; the
// right PIN resets it. Without it a 4-digit PIN falls to a patient
// customer at a tablet kiosk in an afternoon.
const (
	maxPINTries   = 5
	pinLockout    = time.Minute
	maxPINLockout = 30 * time.Minute
)

// pinGuard counts wrong tries of one PIN. Used on the Fyne goroutine.
type pinGuard struct {
	now      func() time.Time
	wrong    int
	lockouts int
	until    time.Time
}

func newPINGuard(now func() time.Time) *pinGuard {
	if now == nil {
		now = time.Now
	}
	return &pinGuard{now: now}
}

// wait is how long the PIN is still refused; 0 when it may be tried.
func (g *pinGuard) wait() time.Duration {
	return max(g.until.Sub(g.now()), 0)
}

// record counts a try and returns how long the PIN is now refused.
func (g *pinGuard) record(ok bool) time.Duration {
	if ok {
		g.wrong, g.lockouts = 0, 0
		return 0
	}
	g.wrong++
	if g.wrong < maxPINTries {
		return 0
	}
	g.wrong = 0
	d := min(pinLockout<<min(g.lockouts, 10), maxPINLockout)
	g.lockouts++
	g.until = g.now().Add(d)
	return d
}

// lockedText says how long a locked PIN stays refused, in whole minutes
// or seconds rounded up.
func lockedText(d time.Duration) string {
	if d >= time.Minute {
		return fmt.Sprintf("%d min", int((d+time.Minute-1)/time.Minute))
	}
	return fmt.Sprintf("%d s", int((d+time.Second-1)/time.Second))
}

// newPINEntry is a masked entry without Fyne's reveal button: the screen
// may face the customer.
func newPINEntry() *widget.Entry {
	e := &widget.Entry{Password: true, Wrapping: fyne.TextWrap(fyne.TextTruncateClip), ActionItem: noReveal()}
	e.ExtendBaseWidget(e)
	return e
}

// noReveal takes the place of Fyne's password reveal button, which a
// masked Entry gets whenever its ActionItem is empty.
func noReveal() fyne.CanvasObject { return canvas.NewRectangle(color.Transparent) }

// askPIN asks for the kiosk PIN on w and calls quit only when it matches;
// g refuses tries after too many wrong ones.
func askPIN(w fyne.Window, pin string, g *pinGuard, log *slog.Logger, quit func()) {
	if d := g.wait(); d > 0 {
		dialog.ShowInformation("Kiosk locked", fmt.Sprintf("Too many wrong PINs. Try again in %s.", lockedText(d)), w)
		return
	}
	entry := newPINEntry()
	entry.SetPlaceHolder("PIN")
	var d *dialog.FormDialog
	check := func() {
		ok := subtle.ConstantTimeCompare([]byte(entry.Text), []byte(pin)) == 1
		locked := g.record(ok)
		if !ok {
			log.Warn("wrong kiosk PIN", "locked_for", locked)
		}
		switch {
		case ok:
			quit()
		case locked > 0:
			dialog.ShowInformation("Wrong PIN", fmt.Sprintf("The kiosk stays open. Too many wrong PINs: locked for %s.", lockedText(locked)), w)
		default:
			dialog.ShowInformation("Wrong PIN", "The kiosk stays open.", w)
		}
	}
	d = dialog.NewForm("Exit the kiosk", "Exit", "Stay", []*widget.FormItem{widget.NewFormItem("PIN", entry)}, func(ok bool) {
		if ok {
			check()
		}
	}, w)
	entry.OnSubmitted = func(string) {
		d.Hide()
		check()
	}
	d.Resize(fyne.NewSize(360, 200))
	d.Show()
	w.Canvas().Focus(entry)
}

// confirmQuit asks before quitting with an order live.
func confirmQuit(w fyne.Window, quit func()) {
	dialog.ShowConfirm("A charge is in progress", "Withdraw the QR and quit?", func(ok bool) {
		if ok {
			quit()
		}
	}, w)
}
