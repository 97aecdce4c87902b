package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
)

// paneLayout places the cashier pane's parts in whatever window it has,
// from 800×480 to 1920×1080 and upright screens. Landscape: the keypad
// column (amount, keys, Cancel and Charge) on the left and, on the right,
// the tabs, the wallets, the status, the demo buttons, the mirror and the
// recent charges as far as they fit (or the history in their place).
// Upright: the tabs and the mirror on top, the keypad block below. Every
// part gets exactly its place: the pane asks for no minimum, so nothing
// in it can make the window grow past the screen (a full-screen window
// whose content asked for more than the screen was drawn shifted, and
// taps no longer landed on what was drawn).
type paneLayout struct {
	c *cashier
}

func (l *paneLayout) MinSize([]fyne.CanvasObject) fyne.Size { return fyne.NewSize(1, 1) }

func place(o fyne.CanvasObject, x, y, w, h float32) {
	o.Move(fyne.NewPos(x, y))
	o.Resize(fyne.NewSize(max(w, 0), max(h, 0)))
}

// lines is the height of n lines of text at size t in a Label (with its
// inner padding).
func lines(n int, t float32) float32 {
	return float32(n)*fyne.MeasureText("Ag", t, fyne.TextStyle{}).Height + 2*theme.InnerPadding()
}

func (l *paneLayout) Layout(_ []fyne.CanvasObject, size fyne.Size) {
	c, m := l.c, l.c.m
	pad := m.pad
	x, y, w, h := pad, pad, size.Width-2*pad, size.Height-2*pad

	if c.demo.mark != nil {
		dh := lines(1, m.text)
		place(c.demo.mark, 0, 0, size.Width, dh)
		y += dh
		h -= dh
	}
	if c.alerts.pending() {
		bh := c.alerts.heightFor(w)
		full := h-bh-pad < l.minHeight()
		// A small screen: the alert takes the pane until it is seen,
		// rather than squeeze the keys below a fingertip; but not while
		// Today & refunds is open (its Refund button opens it there): it
		// is back with the Sale tab.
		if full && c.tabs.onHistory() {
			c.alerts.content.Hide()
			l.showAll()
			l.layoutRest(size, x, y, w, h)
			return
		}
		c.alerts.content.Show()
		if full {
			bh = h
		}
		place(c.alerts.content, x, y, w, bh)
		y += bh + pad
		h -= bh + pad
		if h < m.touch {
			l.hideAll()
			return
		}
	}
	l.showAll()
	l.layoutRest(size, x, y, w, h)
}

// layoutRest places everything but the banners in x, y, w, h.
func (l *paneLayout) layoutRest(size fyne.Size, x, y, w, h float32) {
	portrait := size.Height > size.Width*1.15
	if portrait {
		l.layoutPortrait(x, y, w, h)
		return
	}
	l.layoutLandscape(x, y, w, h)
}

// minHeight is the least height the keypad column needs: the amount, two
// lines of message, and five rows of touch targets.
func (l *paneLayout) minHeight() float32 {
	m := l.c.m
	return m.amount*1.45 + lines(2, m.text) + 5.2*m.touch + 4*m.pad
}

// hideAll: the alert banner has the whole pane.
func (l *paneLayout) hideAll() {
	for _, o := range l.parts() {
		o.Hide()
	}
}

func (l *paneLayout) showAll() {
	c := l.c
	for _, o := range l.parts() {
		if o == c.tabs.history.content {
			continue // shown by its tab
		}
		o.Show()
	}
}

func (l *paneLayout) parts() []fyne.CanvasObject {
	c := l.c
	objs := []fyne.CanvasObject{c.tabs.box, c.amount.box, c.sale.message, c.keypad.box, c.wallets.grid, c.sale.status, c.recent.box}
	for _, o := range []fyne.CanvasObject{c.demo.row, c.screens.box, c.receipt.row} {
		if o != nil {
			objs = append(objs, o)
		}
	}
	if !c.tabs.onHistory() {
		return objs
	}
	return append(objs, c.tabs.history.content)
}

// keypadBlock places the amount, the error line and the keys (with Cancel
// and Charge) in x, y, w, h; walletsRows > 0 puts the wallets between the
// amount and the keys (the upright layout).
func (l *paneLayout) keypadBlock(x, y, w, h float32, walletRows int) {
	c, m := l.c, l.c.m
	ah := m.amount * 1.45
	place(c.amount.box, x, y, w, ah)
	y += ah
	mh := lines(2, m.text)
	place(c.sale.message, x, y, w, mh)
	y += mh
	if walletRows > 0 {
		wh := float32(walletRows)*m.touch + float32(walletRows-1)*m.pad
		place(c.wallets.grid, x, y, w, wh)
		y += wh + m.pad
		h -= wh + m.pad
	}
	place(c.keypad.box, x, y, w, h-ah-mh)
}

func (l *paneLayout) layoutLandscape(x, y, w, h float32) {
	c, m := l.c, l.c.m
	left := clamp(w*0.44, 340, 620)
	l.keypadBlock(x, y, left, h, 0)

	rx, rw := x+left+2*m.pad, w-left-2*m.pad
	place(c.tabs.box, rx, y, rw, m.touch)
	ry, rh := y+m.touch+m.pad, h-m.touch-m.pad
	if c.tabs.onHistory() {
		c.wallets.grid.Hide()
		l.sidePanel(rx, ry, rw, rh)
		return
	}
	cols := 2
	if rw >= 3*200 {
		cols = 3
	}
	rows := (len(c.wallets.grid.Objects) + cols - 1) / cols
	wh := float32(rows)*m.touch + float32(max(rows-1, 0))*m.pad
	c.wallets.cols = cols
	place(c.wallets.grid, rx, ry, rw, wh)
	l.sidePanel(rx, ry+wh+m.pad, rw, rh-wh-m.pad)
}

func (l *paneLayout) layoutPortrait(x, y, w, h float32) {
	c, m := l.c, l.c.m
	cols := 4
	if w < 4*170 {
		cols = 2
	}
	c.wallets.cols = cols
	rows := (len(c.wallets.grid.Objects) + cols - 1) / cols
	// The keypad block: the amount, the error line, the wallets and keys
	// of about a fifth of the width each.
	keysH := min(w*0.58, h*0.36)
	block := m.amount*1.45 + lines(2, m.text) + float32(rows)*(m.touch+m.pad) + keysH
	top := h - block - m.pad
	l.keypadBlock(x, y+top+m.pad, w, block, rows)

	place(c.tabs.box, x, y, w, m.touch)
	l.sidePanel(x, y+m.touch+m.pad, w, top-m.touch-m.pad)
}

// sidePanel fills x, y, w, h under the tabs: the day's history when it is
// open; otherwise the demo row, the status line, the customer-screen
// mirror where it fits, and the recent charges where at least two rows fit.
func (l *paneLayout) sidePanel(x, y, w, h float32) {
	c, m := l.c, l.c.m
	if c.tabs.onHistory() {
		for _, o := range []fyne.CanvasObject{c.sale.status, c.demo.row, c.screens.box, c.recent.box, c.receipt.row} {
			if o != nil {
				o.Hide()
			}
		}
		place(c.tabs.history.content, x, y, w, h)
		return
	}
	if c.demo.row != nil {
		place(c.demo.row, x, y, w, m.touch)
		y += m.touch + m.pad
		h -= m.touch + m.pad
	}
	sh := lines(3, m.text)
	place(c.sale.status, x, y, w, sh)
	y += sh
	h -= sh
	if c.receipt.row != nil {
		place(c.receipt.row, x, y, w, m.touch)
		y += m.touch + m.pad
		h -= m.touch + m.pad
	}
	if c.screens.box != nil {
		mh := min(w*9/16+lines(1, m.text), h-lines(4, m.text))
		if mh >= 140 {
			place(c.screens.box, x, y, w, mh)
			y += mh + m.pad
			h -= mh + m.pad
		} else {
			c.screens.box.Hide()
		}
	}
	if h < lines(3, m.text) {
		c.recent.box.Hide()
		return
	}
	place(c.recent.box, x, y, w, h)
}
