package receipt

import (
	"image"
	"image/color"
	"strconv"
	"strings"

	"github.com/skip2/go-qrcode"

	"qrkiosk/payment"
)

// Palette of every slip: index 0 paper, 1 a dot.
var Palette = color.Palette{color.Gray{Y: 0xff}, color.Gray{Y: 0}}

// style is the type sizes and spacing for a paper width, in dots (8 a mm).
type style struct {
	margin              int
	small, body, title  int
	amount              int
	gap                 int
	qrMin, logoMaxH     int
	ruleDash, ruleSpace int
}

func styleFor(width int) style {
	if width < 512 { // 58 mm
		return style{margin: 8, small: 22, body: 24, title: 30, amount: 60, gap: 10, qrMin: 176, logoMaxH: 112, ruleDash: 8, ruleSpace: 4}
	}
	return style{margin: 16, small: 24, body: 28, title: 38, amount: 76, gap: 14, qrMin: 208, logoMaxH: 144, ruleDash: 10, ruleSpace: 5}
}

type align int

const (
	left align = iota
	center
	right
)

// page lays a slip out top to bottom: each block adds its height and a
// drawing step; the image is made once the height is known.
type page struct {
	width int
	st    style
	y     int
	steps []func(img *image.Paletted)
	faces map[[2]int]*face
	err   error
	// frame draws a border on the edges of the printable area (the test
	// slip).
	frame bool
}

func newPage(width int) *page {
	return &page{width: width, st: styleFor(width), y: styleFor(width).gap, faces: map[[2]int]*face{}}
}

// face returns the type at size, bold or not, made once per page.
func (p *page) face(size int, bold bool) *face {
	k := [2]int{size, 0}
	if bold {
		k[1] = 1
	}
	if f := p.faces[k]; f != nil {
		return f
	}
	f, err := newFace(size, bold)
	if err != nil {
		p.err = err
		f = &face{size: size}
	}
	p.faces[k] = f
	return f
}

func (p *page) inner() int { return p.width - 2*p.st.margin }

func (p *page) gap(h int) { p.y += h }

// text writes phrases (a text in several languages, a single string) on
// as few lines as they fit, each line aligned.
func (p *page) text(f *face, phrases []string, a align) {
	if p.err != nil {
		return
	}
	for _, line := range f.pack(phrases, p.inner()) {
		p.line(f, line, a, ink)
	}
}

func (p *page) line(f *face, s string, a align, c uint8) {
	x := p.st.margin
	switch a {
	case center:
		x = (p.width - f.width(s)) / 2
	case right:
		x = p.width - p.st.margin - f.width(s)
	}
	base := p.y + f.ascent
	p.steps = append(p.steps, func(img *image.Paletted) { f.draw(img, x, base, s, c) })
	p.y += f.lineHeight()
}

// field is a label and its value: on one line, the value to the right, when
// both fit; otherwise the label, then the value on lines of its own.
func (p *page) field(labels, values []string) { p.fieldIn(p.face(p.st.body, false), labels, values) }

// fieldIn is field with the value in type vf.
func (p *page) fieldIn(vf *face, labels, values []string) {
	lf := p.face(p.st.small, false)
	if p.err != nil {
		return
	}
	label, value := strings.Join(labels, " "), strings.Join(values, " ")
	lw, vw := lf.width(label), vf.width(value)
	if lw+p.st.gap+vw <= p.inner() {
		h := max(lf.lineHeight(), vf.lineHeight())
		base := p.y + max(lf.ascent, vf.ascent)
		x := p.width - p.st.margin - vw
		p.steps = append(p.steps, func(img *image.Paletted) {
			lf.draw(img, p.st.margin, base, label, ink)
			vf.draw(img, x, base, value, ink)
		})
		p.y += h
		return
	}
	for _, l := range lf.pack(labels, p.inner()) {
		p.line(lf, l, left, ink)
	}
	for _, l := range vf.pack(values, p.inner()) {
		p.line(vf, l, right, ink)
	}
}

// row is a line of the summary's tables.
type row struct {
	name   []string
	count  int
	amount string
}

// table lays rows out in columns: the name on the left, the count and the
// amount right-aligned in columns of their own. A name too wide for its
// column goes on lines of its own above its numbers. The last row (the
// total) is bold.
func (p *page) table(rows []row) {
	f, bold := p.face(p.st.body, false), p.face(p.st.body, true)
	if p.err != nil {
		return
	}
	amountW, countW := 0, 0
	for _, r := range rows {
		amountW = max(amountW, bold.width(r.amount))
		countW = max(countW, bold.width(strconv.Itoa(r.count)))
	}
	amountRight := p.width - p.st.margin
	countRight := amountRight - amountW - 2*p.st.gap
	nameMax := countRight - countW - 2*p.st.gap
	for i, r := range rows {
		rf := f
		if i == len(rows)-1 {
			rf = bold
		}
		name := strings.Join(r.name, " ")
		if rf.width(name) > nameMax {
			for _, l := range rf.pack(r.name, p.inner()) {
				p.line(rf, l, left, ink)
			}
			name = ""
		}
		base := p.y + rf.ascent
		count := strconv.Itoa(r.count)
		m := p.st.margin
		p.steps = append(p.steps, func(img *image.Paletted) {
			rf.draw(img, m, base, name, ink)
			rf.draw(img, countRight-rf.width(count), base, count, ink)
			rf.draw(img, amountRight-rf.width(r.amount), base, r.amount, ink)
		})
		p.y += rf.lineHeight()
	}
}

// banner is phrases in paper colour on a black band across the page.
func (p *page) banner(f *face, phrases []string) {
	if p.err != nil {
		return
	}
	pad := f.size / 4
	top := p.y
	lines := f.pack(phrases, p.inner()-2*pad)
	h := 2*pad + len(lines)*f.lineHeight()
	m := p.st.margin
	p.steps = append(p.steps, func(img *image.Paletted) {
		fill(img, image.Rect(m, top, p.width-m, top+h), ink)
	})
	p.y += pad
	for _, l := range lines {
		p.line(f, l, center, paper)
	}
	p.y += pad
}

// rule is a dashed line across the page.
func (p *page) rule() {
	y := p.y + p.st.gap
	p.steps = append(p.steps, func(img *image.Paletted) {
		for x := p.st.margin; x < p.width-p.st.margin; x += p.st.ruleDash + p.st.ruleSpace {
			fill(img, image.Rect(x, y, min(x+p.st.ruleDash, p.width-p.st.margin), y+2), ink)
		}
	})
	p.y += 2*p.st.gap + 2
}

// qr draws content as a QR code, centred, at least p.st.qrMin dots wide
// (over 20 mm: a handheld scanner reads it at a glance).
func (p *page) qr(content string) {
	if p.err != nil {
		return
	}
	q, err := qrcode.New(content, qrcode.Medium)
	if err != nil {
		p.err = err
		return
	}
	q.DisableBorder = true
	bits := q.Bitmap()
	n := len(bits)
	scale := (p.st.qrMin + n - 1) / n
	for n*scale > p.inner() && scale > 1 {
		scale--
	}
	size := n * scale
	x0, y0 := (p.width-size)/2, p.y+2*scale // the quiet zone above is the page's white
	p.steps = append(p.steps, func(img *image.Paletted) {
		for r, row := range bits {
			for c, on := range row {
				if on {
					fill(img, image.Rect(x0+c*scale, y0+r*scale, x0+(c+1)*scale, y0+(r+1)*scale), ink)
				}
			}
		}
	})
	p.y = y0 + size + 2*scale
}

// picture places a 1-bit image, centred.
func (p *page) picture(pic *image.Paletted) {
	b := pic.Bounds()
	x0, y0 := (p.width-b.Dx())/2, p.y
	p.steps = append(p.steps, func(img *image.Paletted) {
		for y := 0; y < b.Dy(); y++ {
			for x := 0; x < b.Dx(); x++ {
				if pic.ColorIndexAt(b.Min.X+x, b.Min.Y+y) == ink {
					img.Pix[img.PixOffset(x0+x, y0+y)] = ink
				}
			}
		}
	})
	p.y += b.Dy()
}

// render draws every step on a page as tall as they need.
func (p *page) render() (*image.Paletted, error) {
	if p.err != nil {
		return nil, p.err
	}
	img := image.NewPaletted(image.Rect(0, 0, p.width, p.y+p.st.gap), Palette)
	for _, s := range p.steps {
		s(img)
	}
	if p.frame {
		r, t := img.Rect, 3
		fill(img, image.Rect(r.Min.X, r.Min.Y, r.Max.X, r.Min.Y+t), ink)
		fill(img, image.Rect(r.Min.X, r.Max.Y-t, r.Max.X, r.Max.Y), ink)
		fill(img, image.Rect(r.Min.X, r.Min.Y, r.Min.X+t, r.Max.Y), ink)
		fill(img, image.Rect(r.Max.X-t, r.Min.Y, r.Max.X, r.Max.Y), ink)
	}
	return img, nil
}

func fill(img *image.Paletted, r image.Rectangle, c uint8) {
	r = r.Intersect(img.Rect)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		row := img.Pix[img.PixOffset(r.Min.X, y):img.PixOffset(r.Max.X, y)]
		for i := range row {
			row[i] = c
		}
	}
}

// names is a text in the customer's three languages, each once: "Date
// 日期", "Transaction no. 交易編號 交易编号", "PayMe".
func names(n payment.Names) []string {
	parts := []string{n.En}
	if n.ZhHant != "" && n.ZhHant != n.En {
		parts = append(parts, n.ZhHant)
	}
	if n.ZhHans != "" && n.ZhHans != n.ZhHant && n.ZhHans != n.En {
		parts = append(parts, n.ZhHans)
	}
	return parts
}

// staff is a text for the shop's staff: English and traditional.
func staff(n payment.Names) []string { return names(payment.Names{En: n.En, ZhHant: n.ZhHant}) }

// one is a single phrase.
func one(s string) []string { return []string{s} }
