package display

import (
	"image"
	"image/color"
	"math"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"

	"qrkiosk/assets"
)

// The customer screen is laid out in proportions of whatever size it gets,
// so the same Screen fills a 1080p counter display and shrinks into the
// cashier's mirror. Text sizes therefore come from the layout (as large as
// its band allows), not from a theme size.

// refTextSize is the size texts are measured at before scaling to fit.
const refTextSize = 100

// Every text on the screen names its font (canvas.Text.FontSource): Fyne
// measures text with the app's theme but draws it with the overriding one,
// and only an explicit font makes both agree whatever theme the app uses.
// Latin-only texts (English, amounts) use Fyne's own Noto Sans, regular or
// bold; texts with Chinese use the bundled font, which has one weight.
func fontFor(s string, bold bool) fyne.Resource {
	switch {
	case !latinOnly(s):
		return assets.Font()
	case bold:
		return theme.DefaultTextBoldFont()
	default:
		return theme.DefaultTextFont()
	}
}

// latinOnly reports whether Noto Sans (Fyne's font) has every rune of s.
func latinOnly(s string) bool {
	for _, r := range s {
		if r >= 0x250 && r != '—' && r != '–' && r != '…' && r != '€' && r != '·' {
			return false
		}
	}
	return true
}

func newText(bold bool, c color.Color) *canvas.Text {
	t := canvas.NewText("", c)
	t.Alignment = fyne.TextAlignCenter
	t.FontSource = fontFor("", bold)
	if bold {
		t.TextStyle.Bold = true
	}
	return t
}

// setText changes a text and picks its font.
func setText(t *canvas.Text, s string) {
	t.Text = s
	t.FontSource = fontFor(s, t.TextStyle.Bold)
	t.Refresh()
}

func setColor(t *canvas.Text, c color.Color) {
	t.Color = c
	t.Refresh()
}

// measure is the size of t's text at refTextSize.
func measure(t *canvas.Text) fyne.Size {
	s, _ := fyne.CurrentApp().Driver().RenderedTextSize(t.Text, refTextSize, t.TextStyle, t.FontSource)
	return s
}

// band is one horizontal band of a column: an object and its share of the
// column's height. Texts of the same group (non-zero) shrink together, so
// the lines of one trilingual message keep their proportions.
type band struct {
	obj    fyne.CanvasObject
	weight float32
	group  int
}

// columnLayout stacks bands top to bottom inside a margin of pad×min(w, h).
// Hidden bands take no space. A text is made as large as its band's height
// allows, then shrunk until it fits the width, and centred in the band.
type columnLayout struct {
	bands []band
	pad   float32
}

func column(pad float32, bands ...band) *fyne.Container {
	objs := make([]fyne.CanvasObject, len(bands))
	for i, b := range bands {
		objs[i] = b.obj
	}
	return container.New(&columnLayout{bands: bands, pad: pad}, objs...)
}

// flat is an area of one colour, for the screen's large backgrounds. It is
// a 1×1 image stretched, not a canvas.Rectangle: Fyne draws a rectangle
// with a shader that tests every pixel for stroke and shadow, which on a
// machine without a GPU (Mesa's software renderer) made the background of
// a full-HD customer screen half the CPU the kiosk spent on each second's
// countdown repaint; an image is one texture lookup a pixel.
func flat(c color.Color) *canvas.Image {
	img := image.NewNRGBA(image.Rect(0, 0, 1, 1))
	img.Set(0, 0, c)
	f := canvas.NewImageFromImage(img)
	f.ScaleMode = canvas.ImageScalePixels
	f.FillMode = canvas.ImageFillStretch
	return f
}

// spacer is an empty band.
func spacer(weight float32) band {
	return band{obj: canvas.NewRectangle(color.Transparent), weight: weight}
}

func (l *columnLayout) Layout(_ []fyne.CanvasObject, size fyne.Size) {
	m := l.pad * fyne.Min(size.Width, size.Height)
	w, h := size.Width-2*m, size.Height-2*m
	var total float32
	for _, b := range l.bands {
		if b.obj.Visible() {
			total += b.weight
		}
	}
	if total == 0 || w <= 0 || h <= 0 {
		return
	}

	// Text sizes: each as large as its band, then the group's common shrink.
	sizes := make([]float32, len(l.bands))
	shrink := map[int]float32{}
	for i, b := range l.bands {
		t, ok := b.obj.(*canvas.Text)
		if !ok || !b.obj.Visible() {
			continue
		}
		ref := measure(t)
		if ref.Height == 0 {
			continue
		}
		full := b.weight / total * h * refTextSize / ref.Height
		fit := full
		if ref.Width > 0 {
			fit = fyne.Min(full, w*refTextSize/ref.Width)
		}
		if b.group == 0 {
			sizes[i] = fit
			continue
		}
		sizes[i] = full
		if k, seen := shrink[b.group]; !seen || fit/full < k {
			shrink[b.group] = fit / full
		}
	}
	for i, b := range l.bands {
		if b.group != 0 && sizes[i] > 0 {
			sizes[i] *= shrink[b.group]
		}
	}

	y := m
	for i, b := range l.bands {
		if !b.obj.Visible() {
			continue
		}
		bh := b.weight / total * h
		if t, ok := b.obj.(*canvas.Text); ok && sizes[i] > 0 {
			ts := float32(math.Floor(float64(sizes[i])))
			if t.TextSize != ts {
				t.TextSize = ts
				t.Refresh()
			}
			th := t.MinSize().Height
			t.Resize(fyne.NewSize(w, th))
			t.Move(fyne.NewPos(m, y+(bh-th)/2))
		} else {
			b.obj.Resize(fyne.NewSize(w, bh))
			b.obj.Move(fyne.NewPos(m, y))
		}
		y += bh
	}
}

func (l *columnLayout) MinSize([]fyne.CanvasObject) fyne.Size { return fyne.NewSize(1, 1) }

// trilingual is a text shown as stacked lines, one a language in the
// order the view gives (view.Lines), the unused ones hidden.
type trilingual [3]*canvas.Text

// newTrilingual makes the three lines with their bands: the first (the
// language read first) at weight en, each of the others at zh.
func newTrilingual(en, zh float32, group int, bold bool, c color.Color) (trilingual, []band) {
	var t trilingual
	bands := make([]band, 3)
	for i := range t {
		t[i] = newText(bold && i == 0, c)
		w := zh
		if i == 0 {
			w = en
		}
		bands[i] = band{obj: t[i], weight: w, group: group}
	}
	return t, bands
}

func (t trilingual) set(ls []string) {
	if len(ls) == 0 {
		// One empty line keeps its band: the page is laid out the same
		// with or without a note.
		ls = []string{""}
	}
	for i, line := range t {
		if i < len(ls) {
			setText(line, ls[i])
			line.Show()
		} else {
			line.Hide()
		}
	}
}

func (t trilingual) setColor(c color.Color) {
	for _, line := range t {
		setColor(line, c)
	}
}

// splitLayout puts a column of information beside the QR (landscape) or
// above it (portrait), giving the QR as much of the screen as it can use.
type splitLayout struct{}

func (splitLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	info, qr := objs[0], objs[1]
	if size.Width >= size.Height {
		qw := fyne.Min(size.Height, size.Width*0.56)
		info.Resize(fyne.NewSize(size.Width-qw, size.Height))
		info.Move(fyne.NewPos(0, 0))
		qr.Resize(fyne.NewSize(qw, size.Height))
		qr.Move(fyne.NewPos(size.Width-qw, 0))
		return
	}
	qh := fyne.Min(size.Width*1.08, size.Height*0.66)
	info.Resize(fyne.NewSize(size.Width, size.Height-qh))
	info.Move(fyne.NewPos(0, 0))
	qr.Resize(fyne.NewSize(size.Width, qh))
	qr.Move(fyne.NewPos(0, size.Height-qh))
}

func (splitLayout) MinSize([]fyne.CanvasObject) fyne.Size { return fyne.NewSize(1, 1) }

// insetLayout keeps its objects pad×min(w, h) inside the edges.
type insetLayout struct{ pad float32 }

func (l insetLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	m := l.pad * fyne.Min(size.Width, size.Height)
	for _, o := range objs {
		o.Resize(fyne.NewSize(size.Width-2*m, size.Height-2*m))
		o.Move(fyne.NewPos(m, m))
	}
}

func (insetLayout) MinSize([]fyne.CanvasObject) fyne.Size { return fyne.NewSize(1, 1) }

// walletTiles lays out one tile per accepted wallet, in the number of
// columns that makes the tiles largest. Every tile's names get the same
// text size, the largest at which the longest name still fits.
type walletTiles struct {
	aspect float32 // tile width / height
	gap    float32 // fraction of a tile's height
	tiles  []walletTile
}

type walletTile struct {
	bg    *canvas.Rectangle
	names trilingual
}

func (l *walletTiles) objects() []fyne.CanvasObject {
	var objs []fyne.CanvasObject
	for _, t := range l.tiles {
		objs = append(objs, t.bg, t.names[0], t.names[1], t.names[2])
	}
	return objs
}

func (l *walletTiles) Layout(_ []fyne.CanvasObject, size fyne.Size) {
	n := len(l.tiles)
	if n == 0 || size.Width <= 0 || size.Height <= 0 {
		return
	}
	cols, th := 1, float32(0)
	for c := 1; c <= n; c++ {
		rows := (n + c - 1) / c
		byW := size.Width / (float32(c)*l.aspect + float32(c-1)*l.gap)
		byH := size.Height / (float32(rows) + float32(rows-1)*l.gap)
		if h := fyne.Min(byW, byH); h > th {
			cols, th = c, h
		}
	}
	tw, gap := th*l.aspect, th*l.gap
	rows := (n + cols - 1) / cols

	// English at 30% of the tile's height, Chinese at 25%; each language
	// shrunk as much as its longest name needs, on every tile alike.
	sizes := [3]float32{th * 0.30, th * 0.25, th * 0.25}
	k := [3]float32{1, 1, 1}
	for _, t := range l.tiles {
		for i, line := range t.names {
			if w := measure(line).Width * sizes[i] / refTextSize; line.Visible() && w > tw*0.88 {
				k[i] = fyne.Min(k[i], tw*0.88/w)
			}
		}
	}
	k[1] = fyne.Min(k[1], k[2])
	k[2] = k[1]

	y := (size.Height - float32(rows)*th - float32(rows-1)*gap) / 2
	for r := 0; r < rows; r++ {
		inRow := min(cols, n-r*cols)
		x := (size.Width - float32(inRow)*tw - float32(inRow-1)*gap) / 2
		for _, t := range l.tiles[r*cols : r*cols+inRow] {
			t.bg.Resize(fyne.NewSize(tw, th))
			t.bg.Move(fyne.NewPos(x, y))
			t.bg.CornerRadius = th * 0.12
			var total float32
			for i, line := range t.names {
				if line.Visible() {
					line.TextSize = float32(math.Floor(float64(sizes[i] * k[i])))
					total += line.MinSize().Height
				}
			}
			ly := y + (th-total)/2
			for _, line := range t.names {
				if line.Visible() {
					h := line.MinSize().Height
					line.Resize(fyne.NewSize(tw, h))
					line.Move(fyne.NewPos(x, ly))
					line.Refresh()
					ly += h
				}
			}
			x += tw + gap
		}
		y += th + gap
	}
}

func (l *walletTiles) MinSize([]fyne.CanvasObject) fyne.Size { return fyne.NewSize(1, 1) }
