package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"qrkiosk/payment"
)

// prefLastPayType remembers the wallet of the last charge, so that typing
// an amount and pressing Enter is a whole sale.
const prefLastPayType = "cashier.lastPayType"

// walletPicker is the wallets a QR can be for, one of them chosen (at
// start the one charged last), with the scan button at their end.
type walletPicker struct {
	wallets  []payment.PayType
	prefs    fyne.Preferences // nil: nothing remembered
	selected int              // index into wallets
	buttons  []*widget.Button
	scan     *widget.Button // nil: this gateway takes no scanned codes
	grid     *fyne.Container
	// cols is how many columns paneLayout chose last.
	cols int
}

func newWalletPicker(wallets []payment.PayType, prefs fyne.Preferences, m metrics, onWallet func(i int), scan *widget.Button) *walletPicker {
	p := &walletPicker{wallets: wallets, prefs: prefs, scan: scan}
	p.selected = p.last()
	var objs []fyne.CanvasObject
	for i := range wallets {
		b := widget.NewButton("", func() { onWallet(i) })
		p.buttons = append(p.buttons, b)
		objs = append(objs, b)
	}
	if scan != nil {
		objs = append(objs, scan)
	}
	p.grid = container.New(&walletGrid{p: p, m: m}, objs...)
	return p
}

// last is the wallet charged last, if it is still enabled.
func (p *walletPicker) last() int {
	if p.prefs == nil {
		return 0
	}
	last := p.prefs.String(prefLastPayType)
	for i, w := range p.wallets {
		if w.Code == last {
			return i
		}
	}
	return 0
}

// remember is the chosen wallet, kept for the next start.
func (p *walletPicker) remember() payment.PayType {
	pt := p.wallets[p.selected]
	if p.prefs != nil {
		p.prefs.SetString(prefLastPayType, pt.Code)
	}
	return pt
}

// choose selects the wallet of a pay type (an order resumed at start).
func (p *walletPicker) choose(code string) {
	for i, w := range p.wallets {
		if w.Code == code {
			p.selected = i
		}
	}
}

// refresh marks the chosen wallet; the others can be chosen when ready.
func (p *walletPicker) refresh(ready bool) {
	for i, b := range p.buttons {
		if i == p.selected {
			b.Importance = widget.HighImportance
		} else {
			b.Importance = widget.MediumImportance
		}
		if ready {
			b.Enable()
		} else {
			b.Disable()
		}
		b.Refresh()
	}
}

// walletGrid lays the wallet buttons out in the columns paneLayout chose,
// each named in English and, where it fits, in Chinese too.
type walletGrid struct {
	p *walletPicker
	m metrics
}

func (g *walletGrid) MinSize([]fyne.CanvasObject) fyne.Size { return fyne.NewSize(1, 1) }

func (g *walletGrid) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	p := g.p
	cols := max(p.cols, 1)
	(&gridLayout{cols: cols, gap: g.m.pad}).Layout(objs, size)
	if len(objs) == 0 {
		return
	}
	bw := objs[0].Size().Width
	for i := range objs {
		if i >= len(p.wallets) {
			g.fitScanLabel(bw)
			continue
		}
		w := p.wallets[i]
		label := w.Name.En
		if both := label + "  " + w.Name.ZhHant; w.Name.ZhHant != w.Name.En &&
			fyne.MeasureText(both, g.m.text, fyne.TextStyle{}).Width+4*theme.InnerPadding() <= bw {
			label = both
		}
		if b := p.buttons[i]; b.Text != label {
			b.SetText(label)
		}
	}
}

// fitScanLabel names the scan button in full where it fits, else short.
func (g *walletGrid) fitScanLabel(w float32) {
	b := g.p.scan
	label := "Scan customer code"
	need := fyne.MeasureText(label, theme.TextSize(), fyne.TextStyle{Bold: true}).Width + theme.IconInlineSize() + 5*theme.InnerPadding()
	if need > w {
		label = "Scan code"
	}
	if b.Text != label {
		b.SetText(label)
	}
}
