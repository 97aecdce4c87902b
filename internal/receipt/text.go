package receipt

import (
	"image"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/image/font"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"

	"qrkiosk/assets/fontdata"
)

// ink is a pixel that prints: 1 in the slips' palette.
const (
	paper uint8 = 0
	ink   uint8 = 1
)

// coverage is how much of a pixel a glyph must cover to print. Below half,
// so thin strokes of small hanzi survive the step to 1 bit.
const coverage = 0x70

// face is the type at one pixel size: both fonts, glyph by glyph. Not safe
// for concurrent use (opentype faces keep a buffer): each drawing has its
// own.
type face struct {
	size    int
	bold    bool
	faces   [2]font.Face
	ascent  int
	descent int
}

func newFace(size int, bold bool) (*face, error) {
	fs, err := fontdata.Parsed()
	if err != nil {
		return nil, err
	}
	f := &face{size: size, bold: bold}
	for i, ft := range fs {
		if f.faces[i], err = opentype.NewFace(ft, &opentype.FaceOptions{Size: float64(size), DPI: 72, Hinting: font.HintingNone}); err != nil {
			return nil, err
		}
	}
	m := f.faces[0].Metrics()
	f.ascent, f.descent = m.Ascent.Ceil(), m.Descent.Ceil()
	return f, nil
}

// lineHeight is the distance from one baseline to the next.
func (f *face) lineHeight() int { return f.ascent + f.descent + f.size/8 }

// glyph finds the font that has r: nil when neither does (a box is drawn).
func (f *face) glyph(r rune) (font.Face, fixed.Int26_6) {
	for _, ff := range f.faces {
		if ff == nil { // the fonts failed to load: the page reports it
			break
		}
		if adv, ok := ff.GlyphAdvance(r); ok {
			return ff, adv
		}
	}
	return nil, f.boxAdvance()
}

func (f *face) boxAdvance() fixed.Int26_6 { return fixed.I(f.size * 6 / 10) }

// width is the advance of s in pixels.
func (f *face) width(s string) int {
	var w fixed.Int26_6
	for _, r := range clean(s) {
		_, adv := f.glyph(r)
		w += adv
	}
	return w.Ceil() + f.boldExtra()
}

func (f *face) boldExtra() int {
	if f.bold {
		return max(1, f.size/24)
	}
	return 0
}

// draw writes s with its baseline at y, starting at x, in colour c.
func (f *face) draw(img *image.Paletted, x, y int, s string, c uint8) {
	dot := fixed.P(x, y)
	for _, r := range clean(s) {
		ff, adv := f.glyph(r)
		if ff == nil {
			f.drawBox(img, dot.X.Round(), y, c)
		} else {
			for dx := 0; dx <= f.boldExtra(); dx++ {
				dr, mask, mp, _, ok := ff.Glyph(dot.Add(fixed.P(dx, 0)), r)
				if ok {
					stamp(img, dr, mask, mp, c)
				}
			}
		}
		dot.X += adv
	}
}

// stamp sets the pixels of dr that the glyph covers enough.
func stamp(img *image.Paletted, dr image.Rectangle, mask image.Image, mp image.Point, c uint8) {
	a, ok := mask.(*image.Alpha)
	clip := dr.Intersect(img.Rect)
	for y := clip.Min.Y; y < clip.Max.Y; y++ {
		for x := clip.Min.X; x < clip.Max.X; x++ {
			mx, my := mp.X+x-dr.Min.X, mp.Y+y-dr.Min.Y
			var cov uint8
			if ok {
				cov = a.Pix[a.PixOffset(mx, my)]
			} else {
				_, _, _, al := mask.At(mx, my).RGBA()
				cov = uint8(al >> 8)
			}
			if cov >= coverage {
				img.Pix[img.PixOffset(x, y)] = c
			}
		}
	}
}

// drawBox is a missing glyph: an empty box, so the customer sees that a
// character is there and the merchant that the font lacks it.
func (f *face) drawBox(img *image.Paletted, x, y int, c uint8) {
	w := f.size * 6 / 10
	r := image.Rect(x+f.size/12, y-f.size*3/4, x+w-f.size/12, y)
	for px := r.Min.X; px < r.Max.X; px++ {
		set(img, px, r.Min.Y, c)
		set(img, px, r.Max.Y-1, c)
	}
	for py := r.Min.Y; py < r.Max.Y; py++ {
		set(img, r.Min.X, py, c)
		set(img, r.Max.X-1, py, c)
	}
}

func set(img *image.Paletted, x, y int, c uint8) {
	if image.Pt(x, y).In(img.Rect) {
		img.Pix[img.PixOffset(x, y)] = c
	}
}

// clean turns line breaks and tabs into spaces and drops other invisible
// format characters; anything else unprintable is kept and shows as a box.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\r' || r == '\t' || r == '\v' || r == '\f':
			return ' '
		case unicode.Is(unicode.Cf, r):
			return -1
		}
		return r
	}, s)
}

// MissingGlyphs lists the characters of s that the bundled fonts lack, which
// print as empty boxes: for a setup page to warn about a merchant name.
func MissingGlyphs(s string) ([]rune, error) {
	f, err := newFace(24, false)
	if err != nil {
		return nil, err
	}
	var missing []rune
	seen := map[rune]bool{}
	for _, r := range clean(s) {
		if ff, _ := f.glyph(r); ff == nil && !seen[r] {
			seen[r] = true
			missing = append(missing, r)
		}
	}
	return missing, nil
}

// pack puts phrases on lines no wider than w, as many to a line as fit,
// breaking inside a phrase only when it is wider than a line alone: a
// label's English and Chinese stay whole.
func (f *face) pack(phrases []string, w int) []string {
	var lines []string
	cur := ""
	for _, ph := range phrases {
		cand := ph
		if cur != "" {
			cand = cur + " " + ph
		}
		if f.width(cand) <= w {
			cur = cand
			continue
		}
		if cur != "" {
			lines = append(lines, cur)
		}
		ws := f.wrap(ph, w)
		lines = append(lines, ws[:len(ws)-1]...)
		cur = ws[len(ws)-1]
	}
	if cur != "" || len(lines) == 0 {
		lines = append(lines, cur)
	}
	return lines
}

// wrap breaks s into lines no wider than w: at spaces, and around hanzi
// (Chinese has no spaces); a word wider than a line is cut where it must.
func (f *face) wrap(s string, w int) []string {
	var lines []string
	line := ""
	for _, tok := range tokens(clean(s)) {
		if tok[0] == ' ' {
			if line != "" {
				line += " "
			}
			continue
		}
		if f.width(line+tok) <= w {
			line += tok
			continue
		}
		if line = strings.TrimRight(line, " "); line != "" {
			lines = append(lines, line)
		}
		for f.width(tok) > w && utf8.RuneCountInString(tok) > 1 {
			rs := []rune(tok)
			n := f.fits(rs, w)
			lines = append(lines, string(rs[:n]))
			tok = string(rs[n:])
		}
		line = tok
	}
	if line = strings.TrimRight(line, " "); line != "" || len(lines) == 0 {
		lines = append(lines, line)
	}
	return lines
}

// fits is how many of rs, at least one, fit in w.
func (f *face) fits(rs []rune, w int) int {
	var adv fixed.Int26_6
	for i, r := range rs {
		_, a := f.glyph(r)
		if adv += a; i > 0 && adv.Ceil()+f.boldExtra() > w {
			return i
		}
	}
	return len(rs)
}

// tokens splits s into runs of spaces, single wide characters and runs of
// anything else (words, numbers).
func tokens(s string) []string {
	var out []string
	start := 0
	kind := func(r rune) int {
		switch {
		case r == ' ':
			return 0
		case isWide(r):
			return 1
		}
		return 2
	}
	prev := -1
	for i, r := range s {
		k := kind(r)
		if i > start && (k != prev || k == 1) {
			out = append(out, s[start:i])
			start = i
		}
		prev = k
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

// isWide: a character a line may break before and after (hanzi, kana,
// CJK punctuation, full-width forms).
func isWide(r rune) bool {
	return unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) || unicode.Is(unicode.Katakana, r) ||
		(r >= 0x3000 && r <= 0x303f) || (r >= 0xff00 && r <= 0xffef)
}
