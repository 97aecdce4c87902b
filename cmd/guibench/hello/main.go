// Command hello is the baseline of the GUI benchmark: the smallest Fyne
// app, one window with one label, built the same way as qrkiosk.
package main

import (
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/widget"
)

func main() {
	a := app.NewWithID("hk.qrkiosk.bench.hello")
	w := a.NewWindow("Hello")
	w.SetContent(widget.NewLabel("Hello, world"))
	w.ShowAndRun()
}
