package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// fieldsLayout puts label/field pairs in rows, the labels in a column of
// fixed width and the fields taking the rest.
type fieldsLayout struct{ label float32 }

func (f *fieldsLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	y := float32(0)
	for i := 0; i+1 < len(objs); i += 2 {
		h := max(objs[i].MinSize().Height, objs[i+1].MinSize().Height)
		objs[i].Move(fyne.NewPos(0, y+(h-objs[i].MinSize().Height)/2))
		objs[i].Resize(fyne.NewSize(f.label, objs[i].MinSize().Height))
		objs[i+1].Move(fyne.NewPos(f.label, y))
		objs[i+1].Resize(fyne.NewSize(size.Width-f.label, h))
		y += h + theme.Padding()
	}
}

func (f *fieldsLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var s fyne.Size
	for i := 0; i+1 < len(objs); i += 2 {
		h := max(objs[i].MinSize().Height, objs[i+1].MinSize().Height)
		s.Width = max(s.Width, f.label+objs[i+1].MinSize().Width)
		s.Height += h + theme.Padding()
	}
	return s
}

// tapEntry is an entry that says when it is tapped or focused, so the
// keypad types into the field the manager last touched.
type tapEntry struct {
	widget.Entry
	onTouch func()
}

func newTapEntry(password bool, onTouch func()) *tapEntry {
	e := &tapEntry{onTouch: onTouch}
	if password {
		e.Password = true
		e.Wrapping = fyne.TextWrap(fyne.TextTruncateClip)
		e.ActionItem = noReveal()
	}
	e.ExtendBaseWidget(e)
	return e
}

func (e *tapEntry) Tapped(ev *fyne.PointEvent) {
	e.Entry.Tapped(ev)
	e.onTouch()
}

func (e *tapEntry) FocusGained() {
	e.Entry.FocusGained()
	e.onTouch()
}
