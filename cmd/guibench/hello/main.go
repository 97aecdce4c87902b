// Command hello is the baseline of the GUI benchmark: the smallest Fyne
// app, one window with one label, built the same way as qrkiosk.
//
// With -tick it is also the floor for anything that shows a countdown: a
// full-screen window whose label changes once a second, so Fyne repaints
// the whole window once a second, as it does for the kiosk's mm:ss.
package main

import (
	"flag"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/widget"
)

func main() {
	tick := flag.Bool("tick", false, "full screen, and change the label once a second")
	flag.Parse()
	a := app.NewWithID("hk.qrkiosk.bench.hello")
	w := a.NewWindow("Hello")
	label := widget.NewLabel("Hello, world")
	w.SetContent(label)
	if *tick {
		w.SetFullScreen(true)
		go func() {
			for t := range time.Tick(time.Second) {
				fyne.Do(func() { label.SetText("Hello, world " + t.Format("15:04:05")) })
			}
		}()
	}
	w.ShowAndRun()
}
