package ui

import (
	"context"
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"qrkiosk/internal/journal"
	"qrkiosk/payment"
)

// recentShown is how many finished charges the pane lists.
const recentShown = 12

// recentCharges lists today's finished charges beside the keypad.
type recentCharges struct {
	journal *journal.Journal
	ctx     context.Context
	list    *fyne.Container
	box     fyne.CanvasObject // titled, scrolling
}

func newRecentCharges(j *journal.Journal, ctx context.Context) *recentCharges {
	r := &recentCharges{journal: j, ctx: ctx}
	r.list = container.NewVBox()
	title := widget.NewLabelWithStyle("Recent charges (today)", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	r.box = container.NewBorder(title, nil, nil, nil, container.NewVScroll(r.list))
	return r
}

// refresh lists them from the journal, newest first, all but the order
// still live (a few ms even on a busy day). Called on the Fyne goroutine.
func (r *recentCharges) refresh(live string) {
	day, err := r.journal.Today(r.ctx)
	if err != nil {
		r.list.Objects = []fyne.CanvasObject{widget.NewLabel("The journal cannot be read: " + err.Error())}
		r.list.Refresh()
		return
	}
	var rows []fyne.CanvasObject
	for i := len(day.Orders) - 1; i >= 0 && len(rows) < recentShown; i-- {
		o := day.Orders[i]
		if !o.State.Final() || o.OutTradeNo == live {
			continue
		}
		text := fmt.Sprintf("%s   %s   %s   %s", o.TxTime.In(r.journal.Location()).Format("15:04:05"), o.Amount.Display(), o.PayType.Name.En, stateWord(o))
		if o.Refunded > 0 {
			text += "   refunded " + payment.DisplayMinor(o.Refunded, o.Amount.Currency)
		}
		l := widget.NewLabel(text)
		switch o.State {
		case payment.StatePaid:
			l.Importance = widget.SuccessImportance
		case payment.StateFailed:
			l.Importance = widget.DangerImportance
		case payment.StateExpired:
			l.Importance = widget.WarningImportance
		}
		rows = append(rows, l)
	}
	r.list.Objects = rows
	r.list.Refresh()
}
