package ui

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
)

// touchTarget is the smallest side of anything the cashier taps: a
// fingertip on a counter touchscreen, not a mouse pointer.
const touchTarget = 64

// keypadTheme is the app theme with text big enough to read on a keypad
// key and a wallet button at arm's length.
type keypadTheme struct {
	fyne.Theme
	text float32
}

func (t keypadTheme) Size(n fyne.ThemeSizeName) float32 {
	switch n {
	case theme.SizeNameText:
		return t.text
	case theme.SizeNameInlineIcon:
		return t.text * 1.1
	}
	return t.Theme.Size(n)
}

// lightTheme is the app theme in its light variant whatever the OS prefers.
// The tablet kiosk's one window is the customer's: light like the customer
// screen, the window's clear colour is the screen's white, so the screen
// need not paint its own (display.ScreenConfig.OnWhite).
type lightTheme struct{ fyne.Theme }

func (t lightTheme) Color(n fyne.ThemeColorName, _ fyne.ThemeVariant) color.Color {
	return t.Theme.Color(n, theme.VariantLight)
}

// Text sizes of the cashier pane: one for the whole pane and a bigger one
// for the keys. Each size is a theme override, and Fyne parses the fonts
// again for every override (the bundled CJK font costs about 6 MB of heap
// each time), so the pane has as few as it can: sections share the pane's.
const (
	paneTextSize   = 18
	keypadTextSize = 28
)

// withTextSize gives obj's subtree a text size: each call is one more set
// of parsed fonts in memory (see paneTextSize).
func withTextSize(obj fyne.CanvasObject, size float32) fyne.CanvasObject {
	return container.NewThemeOverride(obj, keypadTheme{Theme: fyne.CurrentApp().Settings().Theme(), text: size})
}

// atLeast is a layout that gives its objects the whole space and asks for
// at least w×h: it makes stock buttons into touch targets.
type atLeast struct{ w, h float32 }

func (a atLeast) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	for _, o := range objs {
		o.Move(fyne.NewPos(0, 0))
		o.Resize(size)
	}
}

func (a atLeast) MinSize(objs []fyne.CanvasObject) fyne.Size {
	s := fyne.NewSize(a.w, a.h)
	for _, o := range objs {
		s = s.Max(o.MinSize())
	}
	return s
}

// aspect lays its objects out as the largest w:h box that fits, centred,
// so the cashier's mirror has the customer screen's proportions.
type aspect struct{ w, h, minW float32 }

func (a aspect) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	w := size.Width
	h := w * a.h / a.w
	if h > size.Height {
		h = size.Height
		w = h * a.w / a.h
	}
	for _, o := range objs {
		o.Resize(fyne.NewSize(w, h))
		o.Move(fyne.NewPos((size.Width-w)/2, (size.Height-h)/2))
	}
}

func (a aspect) MinSize([]fyne.CanvasObject) fyne.Size {
	return fyne.NewSize(a.minW, a.minW*a.h/a.w)
}
