package ui

import (
	"image/color"
	"math"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
)

// minTouch is the smallest side of anything the cashier taps: a fingertip
// on a counter touchscreen (48 px, the common guideline), never less.
const minTouch = 48

// metrics are the cashier pane's sizes for the window it is built for:
// text, touch targets and keypad keys grow with the window, with floors a
// counter needs (text never under 16 px, targets never under 48 px).
type metrics struct {
	text    float32 // body text of the pane
	keyText float32 // keypad keys and the Charge button
	amount  float32 // the typed amount
	touch   float32 // the side of a touch target
	pad     float32
}

// metricsFor sizes the pane for a window: 18 px text and 56 px targets at
// 1280×800 (or 800×1280 upright), scaled with the shorter way of the window.
func metricsFor(size fyne.Size) metrics {
	u := min(size.Width/1280, size.Height/800)
	if size.Height > size.Width {
		u = min(size.Width/800, size.Height/1280)
	}
	return metrics{
		text:    round1(clamp(18*u, 16, 30)),
		keyText: round1(clamp(30*u, 24, 48)),
		amount:  round1(clamp(52*u, 36, 84)),
		touch:   round1(clamp(56*u, minTouch, 88)),
		pad:     round1(clamp(8*u, 4, 12)),
	}
}

func clamp(v, lo, hi float32) float32 { return max(lo, min(v, hi)) }

// paneTheme is the app theme of the cashier pane: the text size from the
// window (every text style, captions included, at least 16 px), and
// colours chosen so that every text has at least 4.5:1 contrast with what
// it is drawn on (WCAG AA), in the dark cashier window and in the tablet's
// light one. It is one theme for the whole app, not an override per
// section: Fyne parses the fonts again for every override.
type paneTheme struct {
	fyne.Theme
	text  float32
	light bool // the tablet: light whatever the OS prefers
}

func (t *paneTheme) Size(n fyne.ThemeSizeName) float32 {
	switch n {
	case theme.SizeNameText, theme.SizeNameCaptionText:
		return t.text
	case theme.SizeNameSubHeadingText:
		return round1(t.text * 1.15)
	case theme.SizeNameHeadingText:
		return round1(t.text * 1.35)
	case theme.SizeNameInlineIcon:
		return round1(t.text * 1.1)
	}
	return t.Theme.Size(n)
}

func round1(v float32) float32 { return float32(math.Round(float64(v))) }

// The cashier's palettes. Fyne's defaults put white text on a light red
// (Cancel) and pale grey hints on white; these keep 4.5:1 everywhere
// (TestContrast measures every text on screen).
var (
	darkPalette = map[fyne.ThemeColorName]color.Color{
		theme.ColorNameBackground:          color.NRGBA{0x17, 0x17, 0x18, 0xff},
		theme.ColorNameForeground:          color.NRGBA{0xf3, 0xf3, 0xf3, 0xff},
		theme.ColorNamePlaceHolder:         color.NRGBA{0xb4, 0xb4, 0xb8, 0xff},
		theme.ColorNameButton:              color.NRGBA{0x33, 0x34, 0x38, 0xff},
		theme.ColorNameInputBackground:     color.NRGBA{0x26, 0x27, 0x2a, 0xff},
		theme.ColorNamePrimary:             color.NRGBA{0x6c, 0xb6, 0xf5, 0xff},
		theme.ColorNameForegroundOnPrimary: color.NRGBA{0x0b, 0x16, 0x22, 0xff},
		theme.ColorNameError:               color.NRGBA{0xf4, 0x77, 0x6e, 0xff},
		theme.ColorNameForegroundOnError:   color.NRGBA{0x1a, 0x0b, 0x0a, 0xff},
		theme.ColorNameWarning:             color.NRGBA{0xf2, 0xb5, 0x4e, 0xff},
		theme.ColorNameForegroundOnWarning: color.NRGBA{0x1c, 0x13, 0x04, 0xff},
		theme.ColorNameSuccess:             color.NRGBA{0x66, 0xc8, 0x74, 0xff},
		theme.ColorNameForegroundOnSuccess: color.NRGBA{0x08, 0x18, 0x0b, 0xff},
		theme.ColorNameSeparator:           color.NRGBA{0x3a, 0x3b, 0x40, 0xff},
	}
	lightPalette = map[fyne.ThemeColorName]color.Color{
		theme.ColorNameBackground:          color.White,
		theme.ColorNameForeground:          color.NRGBA{0x1a, 0x1a, 0x1a, 0xff},
		theme.ColorNamePlaceHolder:         color.NRGBA{0x5f, 0x63, 0x68, 0xff},
		theme.ColorNameButton:              color.NRGBA{0xe8, 0xea, 0xed, 0xff},
		theme.ColorNameInputBackground:     color.NRGBA{0xf1, 0xf3, 0xf4, 0xff},
		theme.ColorNamePrimary:             color.NRGBA{0x00, 0x69, 0x5c, 0xff},
		theme.ColorNameForegroundOnPrimary: color.White,
		theme.ColorNameError:               color.NRGBA{0xc6, 0x28, 0x28, 0xff},
		theme.ColorNameForegroundOnError:   color.White,
		theme.ColorNameWarning:             color.NRGBA{0xa8, 0x4a, 0x00, 0xff},
		theme.ColorNameForegroundOnWarning: color.White,
		theme.ColorNameSuccess:             color.NRGBA{0x2e, 0x7d, 0x32, 0xff},
		theme.ColorNameForegroundOnSuccess: color.White,
		theme.ColorNameSeparator:           color.NRGBA{0xdd, 0xe1, 0xe3, 0xff},
	}
)

func (t *paneTheme) Color(n fyne.ThemeColorName, v fyne.ThemeVariant) color.Color {
	p := darkPalette
	if t.light {
		p, v = lightPalette, theme.VariantLight
	} else {
		v = theme.VariantDark
	}
	if c, ok := p[n]; ok {
		return c
	}
	return t.Theme.Color(n, v)
}

// sizeTheme gives a section of the pane a bigger text (the keypad, the
// banner); each is one more set of parsed fonts, so there are few.
type sizeTheme struct {
	fyne.Theme
	text float32
	fg   color.Color // nil: the theme's
}

func (t *sizeTheme) Size(n fyne.ThemeSizeName) float32 {
	switch n {
	case theme.SizeNameText, theme.SizeNameCaptionText:
		return t.text
	case theme.SizeNameInlineIcon:
		return round1(t.text * 1.1)
	}
	return t.Theme.Size(n)
}

func (t *sizeTheme) Color(n fyne.ThemeColorName, v fyne.ThemeVariant) color.Color {
	if t.fg != nil && n == theme.ColorNameForeground {
		return t.fg
	}
	return t.Theme.Color(n, v)
}

// withTextSize gives obj's subtree a text size (see sizeTheme).
func withTextSize(obj fyne.CanvasObject, size float32) fyne.CanvasObject {
	return container.NewThemeOverride(obj, &sizeTheme{Theme: fyne.CurrentApp().Settings().Theme(), text: size})
}

// fixed is a layout that gives its objects the whole space and asks for
// exactly the height h (zero: what the objects ask): the pane's layouts
// decide sizes, so nothing inside can make the window grow.
type fixed struct{ h float32 }

func (f fixed) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	for _, o := range objs {
		o.Move(fyne.NewPos(0, 0))
		o.Resize(size)
	}
}

func (f fixed) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var s fyne.Size
	for _, o := range objs {
		s = s.Max(o.MinSize())
	}
	if f.h > 0 {
		s.Height = f.h
	}
	return s
}

// aspect lays its objects out as the largest w:h box that fits, centred,
// so the cashier's mirror has the customer screen's proportions.
type aspect struct{ w, h float32 }

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

func (a aspect) MinSize([]fyne.CanvasObject) fyne.Size { return fyne.NewSize(1, 1) }
