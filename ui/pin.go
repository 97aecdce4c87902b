package ui

import (
	"crypto/subtle"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"
)

// askPIN asks for the kiosk PIN on w and calls quit only when it matches.
func askPIN(w fyne.Window, pin string, quit func()) {
	entry := widget.NewPasswordEntry()
	entry.SetPlaceHolder("PIN")
	var d *dialog.FormDialog
	check := func() {
		if subtle.ConstantTimeCompare([]byte(entry.Text), []byte(pin)) == 1 {
			quit()
			return
		}
		dialog.ShowInformation("Wrong PIN", "The kiosk stays open.", w)
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
