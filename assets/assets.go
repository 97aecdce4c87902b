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
)

// KioskSans.ttf: WenQuanYi Micro Hei (Apache-2.0, see LICENSE-KioskSans.txt)
// cut down by subset.sh to Latin, punctuation, the kiosk's own texts, the
// wallet names and the common hanzi (Big5 level 1). One weight: regular.
//
//go:embed KioskSans.ttf
var kioskSans []byte

//go:embed icon.png
var icon []byte

var (
	fontRes = fyne.NewStaticResource("KioskSans.ttf", kioskSans)
	iconRes = fyne.NewStaticResource("icon.png", icon)
)

// Font is the bundled regular font: Latin and Chinese (Traditional and
// Simplified) in one TrueType file, since Fyne cannot load a .ttc collection.
func Font() fyne.Resource { return fontRes }

// Icon is the app icon, a 512×512 PNG.
func Icon() fyne.Resource { return iconRes }
