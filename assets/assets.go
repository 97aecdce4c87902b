// Package assets holds the files the app bundles into its binary: the font
// that lets the screens show Chinese on a machine with no CJK font
// installed, and the app icon.
//
// The accessors return the same fyne.Resource every time: Fyne caches fonts
// by resource, so a new resource per call would mean a new parsed font.
package assets

import (
	_ "embed"

	"fyne.io/fyne/v2"

	"qrkiosk/assets/fontdata"
)

//go:embed icon.png
var icon []byte

var (
	fontRes = fyne.NewStaticResource("KioskSans.ttf", fontdata.KioskSans())
	iconRes = fyne.NewStaticResource("icon.png", icon)
)

// Font is the bundled regular font (fontdata.KioskSans): Latin and Chinese
// (Traditional and Simplified) in one TrueType file, since Fyne cannot load
// a .ttc collection.
func Font() fyne.Resource { return fontRes }

// Icon is the app icon, a 512×512 PNG.
func Icon() fyne.Resource { return iconRes }
