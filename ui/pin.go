package ui

import (
	"fmt"
	"image/color"
	"log/slog"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"qrkiosk/internal/pin"
)

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
func askPIN(w fyne.Window, exitPIN string, g *pin.Guard, log *slog.Logger, quit func()) {
	if d := g.Wait(); d > 0 {
		dialog.ShowInformation("Kiosk locked", fmt.Sprintf("Too many wrong PINs. Try again in %s.", pin.LockedText(d)), w)
		return
	}
	entry := newPINEntry()
	entry.SetPlaceHolder("PIN")
	var d *dialog.FormDialog
	check := func() {
		ok := pin.Equal(entry.Text, exitPIN)
		locked := g.Record(ok)
		if !ok {
			log.Warn("wrong kiosk PIN", "locked_for", locked)
		}
		switch {
		case ok:
			quit()
		case locked > 0:
			dialog.ShowInformation("Wrong PIN", fmt.Sprintf("The kiosk stays open. Too many wrong PINs: locked for %s.", pin.LockedText(locked)), w)
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
