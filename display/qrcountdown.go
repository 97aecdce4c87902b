package display

import (
	"context"
	"fmt"
	"image"
	"slices"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"qrkiosk/display/view"
)

// urgentBelow is when the countdown turns red.
const urgentBelow = view.UrgentBelow

// clock is the time and the timers the screen uses: the real ones in the app,
// fakes in tests (Fyne's test driver runs fyne.Do on the calling goroutine,
// so tests hand callbacks back to the test goroutine instead).
type clock struct {
	now   func() time.Time
	after func(time.Duration) <-chan time.Time
	do    func(func())
}

func realClock(now func() time.Time) clock {
	if now == nil {
		now = time.Now
	}
	return clock{now: now, after: time.After, do: fyne.Do}
}

// QRCountdown shows an order's QR code as large as its space allows, with
// the time left to scan it (mm:ss and a bar) underneath. The QR is drawn
// with whole pixels per module at the canvas's real pixel size, black on
// white, inside its quiet zone. Use it from the Fyne goroutine only.
type QRCountdown struct {
	widget.BaseWidget

	clk clock
	// repaint has the window draw an object again (Screen.repaint): the
	// QR image is a texture Fyne keeps until told it changed.
	repaint  func(fyne.CanvasObject)
	content  string
	bitmap   [][]bool
	created  time.Time
	deadline time.Time
	// label is the countdown's label, in the order's languages.
	label []string
}

func newQRCountdown(clk clock) *QRCountdown {
	q := &QRCountdown{clk: clk}
	q.ExtendBaseWidget(q)
	return q
}

// setOrder shows the view's QR counting down to its deadline; the bar
// shows the share of the time since the order was rung up that is left.
func (q *QRCountdown) setOrder(v view.View) {
	q.content, q.bitmap = v.QR, v.Modules
	q.created, q.deadline, q.label = v.Created, v.Deadline, v.ExpiresLabel
	q.Refresh()
}

// Remaining is the time left to scan, never negative. It is measured on the
// monotonic clock when the deadline carries a monotonic reading.
func (q *QRCountdown) Remaining() time.Duration {
	return max(q.deadline.Sub(q.clk.now()), 0)
}

// Start redraws the countdown each time the seconds shown change, until ctx
// is done or the deadline has passed; the channel it returns is closed when
// it has stopped. Each tick asks the clock for the time rather than
// counting ticks, so a late or dropped tick never drifts.
func (q *QRCountdown) Start(ctx context.Context) (stopped <-chan struct{}) {
	deadline, clk := q.deadline, q.clk
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			left := deadline.Sub(clk.now())
			if left <= 0 || ctx.Err() != nil {
				return
			}
			// The display rounds up, so it changes when left crosses a whole
			// second; wake just after that.
			wait := left % time.Second
			if wait == 0 {
				wait = time.Second
			}
			select {
			case <-ctx.Done():
				return
			case <-clk.after(wait + 5*time.Millisecond):
				clk.do(func() {
					if ctx.Err() == nil {
						q.Refresh()
					}
				})
			}
		}
	}()
	return done
}

// CreateRenderer is part of fyne.Widget.
func (q *QRCountdown) CreateRenderer() fyne.WidgetRenderer {
	r := &qrRenderer{
		q:     q,
		img:   canvas.NewImageFromImage(nil),
		clock: newText(true, colInk),
		track: canvas.NewRectangle(colTrack),
		bar:   canvas.NewRectangle(colPrimary),
	}
	// Nearest neighbour and the image's exact pixel size: never smoothed.
	r.img.ScaleMode = canvas.ImageScalePixels
	r.img.FillMode = canvas.ImageFillStretch
	r.clock.Alignment = fyne.TextAlignTrailing
	// Two lines (view.View.ExpiresLabel): three would each be too small
	// to read at a counter.
	label, labelBands := newTrilingual(1, 1, 1, false, colMuted)
	r.label = label
	for i := range r.label {
		r.label[i].Alignment = fyne.TextAlignLeading
	}
	r.labels = column(0, labelBands...)
	r.objects = []fyne.CanvasObject{r.img, r.labels, r.clock, r.track, r.bar}
	return r
}

type qrRenderer struct {
	q        *QRCountdown
	img      *canvas.Image
	label    trilingual
	labelSet []string // the lines label shows
	labels   *fyne.Container
	clock    *canvas.Text
	track    *canvas.Rectangle
	bar      *canvas.Rectangle
	objects  []fyne.CanvasObject

	size fyne.Size
	// what the raster in img was drawn for
	rastered string
	px       int
	module   int
	// the symbol's dark area inside the image, in Fyne units
	codeX, codeW float32
}

func (r *qrRenderer) Destroy() {}

func (r *qrRenderer) Objects() []fyne.CanvasObject { return r.objects }

func (r *qrRenderer) MinSize() fyne.Size { return fyne.NewSize(60, 80) }

// Layout gives the QR the largest square that leaves room for the
// countdown, and draws it for the pixels that square really has.
func (r *qrRenderer) Layout(size fyne.Size) {
	r.size = size
	scale := float32(1)
	if c := fyne.CurrentApp().Driver().CanvasForObject(r.q); c != nil {
		scale = c.Scale()
	}
	row := fyne.Max(size.Height*0.17, 24)
	side := fyne.Min(size.Width, size.Height-row)
	if side <= 0 {
		return
	}
	px := int(side * scale)
	if r.q.content != r.rastered || px != r.px {
		r.raster(px, scale)
	}
	// (px - ¼) / scale maps back to exactly px screen pixels after the
	// painters round up: the image is drawn 1:1, never resampled.
	imgSide := (float32(px) - 0.25) / scale
	x0 := (size.Width - imgSide) / 2
	r.img.Resize(fyne.NewSize(imgSide, imgSide))
	r.img.Move(fyne.NewPos(x0, 0))

	// The countdown lines up with the dark modules, not the quiet zone.
	x, w := x0+r.codeX, r.codeW
	if w <= 0 {
		x, w = x0, imgSide
	}
	top := imgSide + row*0.08
	textH := row * 0.62
	r.labels.Resize(fyne.NewSize(w*0.58, textH))
	r.labels.Move(fyne.NewPos(x, top))
	r.clock.TextSize = textH * 0.95
	r.clock.FontSource = fontFor(r.clock.Text, true)
	ch := r.clock.MinSize().Height
	r.clock.Resize(fyne.NewSize(w, ch))
	r.clock.Move(fyne.NewPos(x, top+(textH-ch)/2))
	barY := top + textH + row*0.08
	barH := row * 0.16
	r.track.Resize(fyne.NewSize(w, barH))
	r.track.Move(fyne.NewPos(x, barY))
	r.track.CornerRadius = barH / 2
	r.bar.Resize(fyne.NewSize(w*r.fraction(), barH))
	r.bar.Move(fyne.NewPos(x, barY))
	r.bar.CornerRadius = barH / 2
}

func (r *qrRenderer) raster(px int, scale float32) {
	r.rastered, r.px = r.q.content, px
	r.img.Image, r.module, r.codeX, r.codeW = nil, 0, 0, 0
	if r.q.bitmap != nil {
		if img, err := rasterQR(r.q.bitmap, px); err == nil {
			n := len(r.q.bitmap)
			m := moduleSize(n, px)
			r.img.Image, r.module = img, m
			r.codeX = float32((px-m*n)/2) / scale
			r.codeW = float32(m*n) / scale
		}
	}
	if r.img.Image == nil {
		r.img.Image = image.NewGray(image.Rect(0, 0, 1, 1))
	}
	r.img.Refresh()
	if r.q.repaint != nil {
		r.q.repaint(r.img)
	}
}

// fraction is the share of the order's time still left.
func (r *qrRenderer) fraction() float32 {
	q := r.q
	total := q.deadline.Sub(q.created)
	if q.created.IsZero() || total <= 0 {
		return 1
	}
	return float32(min(float64(q.Remaining())/float64(total), 1))
}

// Refresh re-reads the order and the time: it is what each tick calls.
// A tick changes only the clock's text and the bar's length, and those two
// are all it has redrawn; the colours (and so the label and the track)
// change only when the time turns urgent, and the layout only for a new
// order.
func (r *qrRenderer) Refresh() {
	left := r.q.Remaining()
	secs := int((left + time.Second - 1) / time.Second)
	r.clock.Text = fmt.Sprintf("%02d:%02d", secs/60, secs%60)

	th := r.q.Theme()
	v := fyne.CurrentApp().Settings().ThemeVariant()
	ink, barCol := th.Color(theme.ColorNameForeground, v), th.Color(theme.ColorNamePrimary, v)
	if left < urgentBelow {
		ink = th.Color(theme.ColorNameError, v)
		barCol = ink
	}
	r.clock.Color = ink
	r.bar.FillColor = barCol
	if !slices.Equal(r.labelSet, r.q.label) {
		r.labelSet = r.q.label
		r.label.set(r.q.label)
		r.labels.Refresh()
	}
	if track, muted := th.Color(theme.ColorNameDisabled, v), th.Color(theme.ColorNamePlaceHolder, v); r.track.FillColor != track || r.label[0].Color != muted {
		r.track.FillColor = track
		r.label.setColor(muted)
		canvas.Refresh(r.track)
	}
	if r.q.content != r.rastered {
		r.Layout(r.size)
	} else {
		r.bar.Resize(fyne.NewSize(r.track.Size().Width*r.fraction(), r.bar.Size().Height))
	}
	canvas.Refresh(r.clock)
	canvas.Refresh(r.bar)
}
