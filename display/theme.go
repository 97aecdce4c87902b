package display

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"

	"qrkiosk/assets"
	"qrkiosk/display/view"
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
// the OS's dark mode: view's palette, light.
type customerTheme struct{ fontTheme }

func newCustomerTheme() *customerTheme {
	return &customerTheme{fontTheme{Theme: theme.DefaultTheme()}}
}

// The customer screens' palette (view's, shared with the browser display).
var (
	colInk     = view.Ink.Color()
	colMuted   = view.Muted.Color()
	colPrimary = view.Primary.Color()
	colSuccess = view.Success.Color()
	colError   = view.Error.Color()
	colWarning = view.Warning.Color()
	colPanel   = view.Panel
	colTrack   = view.Track
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
