package display

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"

	"qrkiosk/assets"
)

// Theme returns base with the bundled font (Latin and Chinese) for every
// text style but monospace, so wallet names and a Chinese merchant name
// render on a machine with no CJK font installed. Give it to the app
// (app.Settings().SetTheme(display.Theme(theme.DefaultTheme()))) so the
// cashier pane can show them too. The font has one weight: bold text is
// drawn regular.
func Theme(base fyne.Theme) fyne.Theme { return &fontTheme{Theme: base} }

type fontTheme struct{ fyne.Theme }

func (t *fontTheme) Font(s fyne.TextStyle) fyne.Resource {
	if s.Monospace || s.Symbol {
		return t.Theme.Font(s)
	}
	return assets.Font()
}

// customerTheme is the customer screen's look whatever the app's theme and
// the OS's dark mode: light, so the QR sits in white and reads as a printed
// code, with darker text and result colours than Fyne's light palette, which
// is pale from a metre away.
type customerTheme struct{ fontTheme }

func newCustomerTheme() *customerTheme {
	return &customerTheme{fontTheme{Theme: theme.DefaultTheme()}}
}

var (
	colInk     = color.NRGBA{R: 0x1a, G: 0x1a, B: 0x1a, A: 0xff}
	colMuted   = color.NRGBA{R: 0x5f, G: 0x63, B: 0x68, A: 0xff}
	colPrimary = color.NRGBA{R: 0x00, G: 0x69, B: 0x5c, A: 0xff}
	colSuccess = color.NRGBA{R: 0x2e, G: 0x7d, B: 0x32, A: 0xff}
	colError   = color.NRGBA{R: 0xc6, G: 0x28, B: 0x28, A: 0xff}
	colWarning = color.NRGBA{R: 0xa8, G: 0x4a, B: 0x00, A: 0xff}
	colPanel   = color.NRGBA{R: 0xf1, G: 0xf3, B: 0xf4, A: 0xff}
	colTrack   = color.NRGBA{R: 0xdd, G: 0xe1, B: 0xe3, A: 0xff}
)

func (t *customerTheme) Color(n fyne.ThemeColorName, _ fyne.ThemeVariant) color.Color {
	switch n {
	case theme.ColorNameBackground:
		return color.White
	case theme.ColorNameForeground:
		return colInk
	case theme.ColorNamePlaceHolder:
		return colMuted
	case theme.ColorNamePrimary:
		return colPrimary
	case theme.ColorNameSuccess:
		return colSuccess
	case theme.ColorNameError:
		return colError
	case theme.ColorNameWarning:
		return colWarning
	case theme.ColorNameInputBackground:
		return colPanel
	case theme.ColorNameDisabled:
		return colTrack
	}
	return t.Theme.Color(n, theme.VariantLight)
}
