package display

import (
	"image"
	"image/color"
	"image/draw"

	"golang.org/x/image/font"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"

	"qrkiosk/assets/fontdata"
)

// The receipt card's Chinese line has a simplified hanzi (据) the screens'
// font lacks; the receipts' companion font has it. Fyne draws a text with
// one font, so this line is drawn here, glyph by glyph from whichever of
// the two fonts has it, into an image at the canvas's own pixels.

// textImage draws s px pixels high in c on a transparent ground; nil when
// the fonts cannot be read.
func textImage(s string, px int, c color.Color) *image.NRGBA {
	fs, err := fontdata.Parsed()
	if err != nil || px < 1 {
		return nil
	}
	var faces [2]font.Face
	for i, f := range fs {
		if faces[i], err = opentype.NewFace(f, &opentype.FaceOptions{Size: float64(px), DPI: 72, Hinting: font.HintingNone}); err != nil {
			return nil
		}
	}
	pick := func(r rune) (font.Face, fixed.Int26_6) {
		for _, f := range faces {
			if adv, ok := f.GlyphAdvance(r); ok {
				return f, adv
			}
		}
		return faces[0], 0
	}
	var width fixed.Int26_6
	for _, r := range s {
		_, adv := pick(r)
		width += adv
	}
	m := faces[0].Metrics()
	img := image.NewNRGBA(image.Rect(0, 0, max(width.Ceil(), 1), (m.Ascent + m.Descent).Ceil()))
	dot := fixed.Point26_6{Y: m.Ascent}
	src := image.NewUniform(c)
	for _, r := range s {
		f, adv := pick(r)
		if dr, mask, mp, _, ok := f.Glyph(dot, r); ok {
			draw.DrawMask(img, dr, src, image.Point{}, mask, mp, draw.Over)
		}
		dot.X += adv
	}
	return img
}
