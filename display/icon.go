package display

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"

	"qrkiosk/display/view"
)

// resultIcon is the big sign of a result drawn with shapes (no icon font or
// SVG, so it is sharp at any size): a filled circle with white strokes.
type resultIcon struct {
	box     *fyne.Container
	circle  *canvas.Circle
	lines   [2]*canvas.Line
	caps    [4]*canvas.Circle // round ends of the strokes
	strokes [][2]fyne.Position
}

// Strokes in a unit square.
var (
	strokesCheck = [][2]fyne.Position{{{X: 0.27, Y: 0.53}, {X: 0.44, Y: 0.69}}, {{X: 0.44, Y: 0.69}, {X: 0.74, Y: 0.35}}}
	strokesCross = [][2]fyne.Position{{{X: 0.34, Y: 0.34}, {X: 0.66, Y: 0.66}}, {{X: 0.66, Y: 0.34}, {X: 0.34, Y: 0.66}}}
	strokesClock = [][2]fyne.Position{{{X: 0.5, Y: 0.5}, {X: 0.5, Y: 0.25}}, {{X: 0.5, Y: 0.5}, {X: 0.69, Y: 0.6}}}
	strokesMinus = [][2]fyne.Position{{{X: 0.3, Y: 0.5}, {X: 0.7, Y: 0.5}}}

	signStrokes = map[view.Sign][][2]fyne.Position{
		view.SignCheck: strokesCheck, view.SignCross: strokesCross, view.SignClock: strokesClock, view.SignMinus: strokesMinus,
	}
)

func newResultIcon() *resultIcon {
	ic := &resultIcon{circle: canvas.NewCircle(colSuccess)}
	objs := []fyne.CanvasObject{ic.circle}
	for i := range ic.lines {
		ic.lines[i] = canvas.NewLine(color.White)
		objs = append(objs, ic.lines[i])
	}
	for i := range ic.caps {
		ic.caps[i] = canvas.NewCircle(color.White)
		objs = append(objs, ic.caps[i])
	}
	ic.box = container.New(ic, objs...)
	return ic
}

func (ic *resultIcon) set(strokes [][2]fyne.Position, c color.Color) {
	ic.strokes = strokes
	ic.circle.FillColor = c
	ic.circle.Refresh()
	ic.Layout(nil, ic.box.Size())
}

// Layout is fyne.Layout for the icon's container: the circle is the largest
// centred square; the strokes scale with it.
func (ic *resultIcon) Layout(_ []fyne.CanvasObject, size fyne.Size) {
	side := fyne.Min(size.Width, size.Height)
	x0, y0 := (size.Width-side)/2, (size.Height-side)/2
	ic.circle.Resize(fyne.NewSize(side, side))
	ic.circle.Move(fyne.NewPos(x0, y0))
	w := side * 0.085
	at := func(p fyne.Position) fyne.Position { return fyne.NewPos(x0+p.X*side, y0+p.Y*side) }
	for i, l := range ic.lines {
		if i >= len(ic.strokes) {
			l.Hide()
			ic.caps[2*i].Hide()
			ic.caps[2*i+1].Hide()
			continue
		}
		s := ic.strokes[i]
		l.StrokeWidth = w
		l.Position1, l.Position2 = at(s[0]), at(s[1])
		l.Show()
		l.Refresh()
		for j, p := range s {
			c := ic.caps[2*i+j]
			c.Resize(fyne.NewSize(w, w))
			c.Move(at(p).SubtractXY(w/2, w/2))
			c.Show()
		}
	}
}

func (ic *resultIcon) MinSize([]fyne.CanvasObject) fyne.Size { return fyne.NewSize(1, 1) }
