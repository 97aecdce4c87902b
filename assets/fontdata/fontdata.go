// Package fontdata holds the bytes of the bundled fonts, in pure Go, for
// code that draws text without Fyne (the printed receipts) and for the
// assets package, which wraps them as Fyne resources.
//
// The slices are shared: callers must not modify them.
package fontdata

import (
	_ "embed"
	"sync"

	"golang.org/x/image/font/opentype"
)

// KioskSans.ttf: WenQuanYi Micro Hei (Apache-2.0, see
// assets/LICENSE-KioskSans.txt) cut down by assets/subset.sh to Latin,
// punctuation, the kiosk's own texts, the wallet names and the common hanzi
// (Big5 level 1). One weight: regular.
//
//go:embed KioskSans.ttf
var kioskSans []byte

// KioskSansSC.ttf: from the same font, by subset-sc.sh, only the glyphs
// KioskSans lacks among the common simplified hanzi (GB2312 level 1) and the
// receipts' own texts: Big5 level 1 is traditional, and without these a
// simplified label or merchant name would print with holes.
//
//go:embed KioskSansSC.ttf
var kioskSansSC []byte

// KioskSans is the bundled regular font: Latin and traditional Chinese, with
// the simplified hanzi of the screens' texts.
func KioskSans() []byte { return kioskSans }

// KioskSansSC is the companion font of simplified hanzi that KioskSans lacks;
// text drawn with KioskSans falls back to it glyph by glyph.
func KioskSansSC() []byte { return kioskSansSC }

// Parsed are KioskSans and KioskSansSC parsed, once, for code that draws
// text glyph by glyph from whichever of the two has it (the receipts, the
// customer screen's receipt label).
var Parsed = sync.OnceValues(func() ([2]*opentype.Font, error) {
	var f [2]*opentype.Font
	var err error
	if f[0], err = opentype.Parse(kioskSans); err != nil {
		return f, err
	}
	f[1], err = opentype.Parse(kioskSansSC)
	return f, err
})
