package ui

import (
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"

	"qrkiosk/payment"
)

// recentShown is how many finished charges the pane lists.
const recentShown = 12

// refreshRecent lists today's finished charges from the journal, newest
// first (a few ms even on a busy day). Called on the Fyne goroutine.
func (c *cashier) refreshRecent() {
	day, err := c.deps.Journal.Today(c.deps.Ctx)
	if err != nil {
		c.recent.Objects = []fyne.CanvasObject{widget.NewLabel("The journal cannot be read: " + err.Error())}
		c.recent.Refresh()
		return
	}
	var rows []fyne.CanvasObject
	for i := len(day.Orders) - 1; i >= 0 && len(rows) < recentShown; i-- {
		o := day.Orders[i]
		if !o.State.Final() || o.OutTradeNo == c.sale.live {
			continue
		}
		text := fmt.Sprintf("%s   %s   %s   %s", o.TxTime.In(c.deps.Journal.Location()).Format("15:04:05"), o.Amount.Display(), o.PayType.Name.En, stateWord(o))
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
	c.recent.Objects = rows
	c.recent.Refresh()
}
