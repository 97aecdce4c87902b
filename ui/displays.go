package ui

import (
	"fmt"
	"image"
	"image/draw"
	"log/slog"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"qrkiosk/display"
	"qrkiosk/internal/kiosk"
	"qrkiosk/internal/sound"
	"qrkiosk/internal/webdisplay"
)

// displaysGate: pairing a display lets it watch every sale.
var displaysGate = managerGate{
	title: "Customer displays",
	why:   "Manager PIN: a paired display shows every sale.",
	none:  "Customer displays are paired only after the manager PIN",
}

// displayTools are the browser customer displays for the manager, in
// Today & refunds behind the manager PIN: Add a display (the page's
// address as a QR and a one-time code to type on the tablet) and the
// paired displays, each with Remove.
type displayTools struct {
	d *webdisplay.Displays
	// serve starts the kiosk's LAN server with the displays' routes and
	// says its address (https://<LAN IP>:<port>).
	serve   func() (string, error)
	manager *managerTools
	dialogs *dialogs
	do      func(func())
	log     *slog.Logger
	m       metrics

	button *widget.Button // "Customer displays", in Today & refunds

	// The dialog, while it shows.
	pad     *pinPad
	page    string // the display page's address
	paired  int    // displays paired when last shown
	code    *canvas.Text
	until   *widget.Label
	list    *fyne.Container
	removes map[string]*widget.Button // by display id
}

func newDisplayTools(d *webdisplay.Displays, serve func() (string, error), manager *managerTools, dialogs *dialogs, do func(func()), log *slog.Logger, m metrics) *displayTools {
	t := &displayTools{d: d, serve: serve, manager: manager, dialogs: dialogs, do: do, log: log, m: m}
	t.button = widget.NewButtonWithIcon("Customer displays", theme.ComputerIcon(), func() { manager.askPINFor(displaysGate, t.open) })
	return t
}

// tool is the button as Today & refunds shows it: a touch target high.
func (t *displayTools) tool() fyne.CanvasObject {
	return container.New(&atLeast{h: t.m.touch}, t.button)
}

// atLeast lays its objects over its whole area and asks for at least h.
type atLeast struct{ h float32 }

func (l *atLeast) MinSize(objs []fyne.CanvasObject) fyne.Size {
	s := fyne.NewSize(0, l.h)
	for _, o := range objs {
		s = s.Max(o.MinSize())
	}
	return s
}

func (l *atLeast) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	for _, o := range objs {
		place(o, 0, 0, size.Width, size.Height)
	}
}

// withDisplayCues has the paired displays play the kiosk's cues too.
func withDisplayCues(play func(sound.Cue), d *webdisplay.Displays) func(sound.Cue) {
	return func(c sound.Cue) {
		play(c)
		d.Cue(c.String())
	}
}

// open starts the LAN server and shows the dialog with a new code.
func (t *displayTools) open() {
	base, err := t.serve()
	if err != nil {
		t.log.Error("customer displays: the LAN server does not start", "err", err)
		t.dialogs.openPad(pinPadSpec{
			title: displaysGate.title, explain: "The kiosk's LAN server does not start, so no display can reach it: " + err.Error(),
			okText: "OK", cancelText: "Close", onOK: func(p *pinPad, _ string) { p.finish() },
		})
		return
	}
	page := strings.TrimSuffix(base, "/") + "/display/"
	t.page, t.paired = page, len(t.d.Paired())
	t.code = canvas.NewText("", theme.Color(theme.ColorNameForeground))
	t.code.TextStyle = fyne.TextStyle{Bold: true, Monospace: true}
	t.code.TextSize = t.m.amount
	t.until = widget.NewLabel("")
	t.until.Wrapping = fyne.TextWrapWord
	t.list = container.NewVBox()
	content := container.NewBorder(
		container.New(&pairingLayout{m: t.m}, qrRaster(page), t.code, t.until), nil, nil, nil,
		container.NewVScroll(t.list))
	t.pad = t.dialogs.openPad(pinPadSpec{
		title: "Customer displays",
		explain: "Add a display: on the tablet, scan this QR with the camera or open " + page +
			" in the browser, then type the code. Add the page to the home screen for a full-screen display.",
		okText: "New code", cancelText: "Close", content: content,
		onOK:     func(p *pinPad, _ string) { t.newCode() },
		onCancel: t.closed,
	})
	if t.pad == nil {
		return
	}
	t.d.OnChange(func() { t.do(t.refresh) })
	t.newCode()
}

func (t *displayTools) newCode() {
	t.d.NewCode()
	t.pad.message.SetText("")
	t.refresh()
}

// closed: the code stops working with the dialog.
func (t *displayTools) closed() {
	t.d.OnChange(nil)
	t.d.WithdrawCode()
	t.pad = nil
}

// refresh shows the code and the paired displays as they are now.
func (t *displayTools) refresh() {
	if t.pad == nil {
		return
	}
	code, until := t.d.Code()
	if code == "" {
		t.code.Text = "— — —"
		t.until.SetText("The code was used, expired or tried wrong too often: press New code for another.")
	} else {
		t.code.Text = code[:3] + " " + code[3:]
		t.until.SetText(fmt.Sprintf("Works once, until %s.", until.Local().Format("15:04")))
	}
	t.code.Refresh()
	t.pad.popup.Content.Refresh() // the code's size fits its text

	t.removes = map[string]*widget.Button{}
	rows := []fyne.CanvasObject{widget.NewLabelWithStyle("Paired displays", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})}
	paired := t.d.Paired()
	if len(paired) > t.paired {
		t.pad.message.SetText(paired[len(paired)-1].Name + " is paired: it shows what the customer screen shows.")
	}
	t.paired = len(paired)
	if len(paired) == 0 {
		rows = append(rows, widget.NewLabel("None yet."))
	}
	for _, p := range paired {
		state := "not connected"
		if p.Links > 0 {
			state = "connected"
		}
		name := widget.NewLabelWithStyle(p.Name, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		when := widget.NewLabel(state + ", paired " + p.Paired.Local().Format(time.DateOnly))
		for _, l := range []*widget.Label{name, when} {
			l.Truncation = fyne.TextTruncateEllipsis
		}
		id, n := p.ID, p.Name
		remove := widget.NewButtonWithIcon("Remove", theme.DeleteIcon(), func() { t.remove(id, n) })
		remove.Importance = widget.DangerImportance
		t.removes[id] = remove
		rows = append(rows, container.NewBorder(nil, nil, nil, remove, container.NewVBox(name, when)))
	}
	t.list.Objects = rows
	t.list.Refresh()
}

func (t *displayTools) remove(id, name string) {
	if err := t.d.Revoke(id); err != nil {
		t.pad.message.SetText("Not removed: " + err.Error())
		return
	}
	t.refresh()
	t.pad.message.SetText(name + " was removed: it shows nothing until it is paired again.")
}

// qrRaster draws text's QR at the pixels it gets, whole pixels a module:
// a phone's camera reads it off the pane.
func qrRaster(text string) *canvas.Raster {
	return canvas.NewRaster(func(w, h int) image.Image {
		img := image.NewGray(image.Rect(0, 0, w, h))
		for i := range img.Pix {
			img.Pix[i] = 0xff
		}
		qr, err := display.QRImage(text, min(w, h))
		if err != nil {
			return img
		}
		off := image.Pt((w-qr.Bounds().Dx())/2, (h-qr.Bounds().Dy())/2)
		draw.Draw(img, qr.Bounds().Add(off), qr, image.Point{}, draw.Src)
		return img
	})
}

// pairingLayout puts the page's QR on the left and the code over its
// validity on the right, a band as high as the QR; the code is as large
// as the pane's amount, or as fits.
type pairingLayout struct{ m metrics }

func (l *pairingLayout) MinSize([]fyne.CanvasObject) fyne.Size {
	return fyne.NewSize(1, 4.5*l.m.touch)
}

func (l *pairingLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	qr, code, until := objs[0], objs[1].(*canvas.Text), objs[2]
	side := min(size.Height, size.Width*0.45)
	place(qr, 0, 0, side, side)
	x := side + 2*l.m.pad
	w := size.Width - x
	code.TextSize = l.m.amount
	if tw := fyne.MeasureText(code.Text, code.TextSize, code.TextStyle).Width; tw > w {
		code.TextSize = float32(int(code.TextSize * w / tw))
	}
	ch := code.MinSize().Height
	place(code, x, 0, w, ch)
	place(until, x, ch, w, size.Height-ch)
}

// displays opens the kiosk's browser displays for the pane and says how
// to serve them; none when the kiosk has no LAN server to serve them on
// (lanServer) or they cannot be opened. Paired displays are served at
// once, so that a tablet finds the kiosk again after a restart without
// anyone at the pane.
func (w *windows) displays(k *kiosk.Kiosk, logo image.Image) (*webdisplay.Displays, func() (string, error)) {
	start := lanServer(k)
	d, err := k.OpenDisplays(logo)
	if err != nil {
		w.log.Error("customer displays: not available", "err", err)
		return nil, nil
	}
	var once sync.Once
	serve := func() (string, error) {
		r, url, err := start()
		if err == nil {
			once.Do(func() { d.Mount(r) })
		}
		return url, err
	}
	if d.Needed() {
		if _, err := serve(); err != nil {
			w.log.Error("customer displays: the LAN server does not start; paired displays cannot reach the kiosk", "err", err)
		}
	}
	return d, serve
}

// lanServer starts the kiosk's one LAN server (the POS's and the setup
// page's too) when a display needs it, and says its address.
func lanServer(k *kiosk.Kiosk) func() (webdisplay.Router, string, error) {
	return func() (webdisplay.Router, string, error) {
		l := k.LAN()
		if err := l.Err(); err != nil {
			return nil, "", err
		}
		return l, l.URL(), nil
	}
}
