package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// tabs switch the pane between the sale and "Today & refunds": the day's
// history with its refund panel, in place of the mirror, while the keypad
// stays where it is.
type tabs struct {
	saleTab, historyTab *widget.Button
	box                 fyne.CanvasObject // both tabs, placed by paneLayout
	history             *historyView
	// guard, when set (the tablet, whose screen faces customers), asks
	// for the manager PIN before the history opens.
	guard func(open func())
	// relayout lays the pane out again: the history takes other parts'
	// place.
	relayout func()
}

func newTabs(history *historyView, relayout func()) *tabs {
	t := &tabs{history: history, relayout: relayout}
	history.content.Hide()
	t.saleTab = widget.NewButtonWithIcon("Sale", theme.HomeIcon(), t.onShowSale)
	t.historyTab = widget.NewButtonWithIcon("Today & refunds", theme.HistoryIcon(), t.onShowHistory)
	t.box = container.NewGridWithColumns(2, t.saleTab, t.historyTab)
	t.refresh()
	return t
}

// onHistory: Today & refunds is showing.
func (t *tabs) onHistory() bool { return t.history.content.Visible() }

// onShowHistory shows today's orders, totals and refunds, after the guard.
func (t *tabs) onShowHistory() {
	if t.onHistory() {
		return
	}
	if t.guard != nil {
		t.guard(t.showHistory)
		return
	}
	t.showHistory()
}

func (t *tabs) showHistory() {
	t.history.refresh()
	t.history.content.Show()
	t.refresh()
	t.relayout()
}

func (t *tabs) onShowSale() {
	if !t.onHistory() {
		return
	}
	t.history.onRefundClose()
	t.history.content.Hide()
	t.refresh()
	t.relayout()
}

func (t *tabs) refresh() {
	t.saleTab.Importance, t.historyTab.Importance = widget.HighImportance, widget.MediumImportance
	if t.onHistory() {
		t.saleTab.Importance, t.historyTab.Importance = widget.MediumImportance, widget.HighImportance
	}
	t.saleTab.Refresh()
	t.historyTab.Refresh()
}

// openRefund shows the history view with the refund panel for an order
// (the alert banner's one-tap refund); the manager PIN is still asked.
func (t *tabs) openRefund(outTradeNo string) {
	open := func() {
		t.showHistory()
		t.history.onRefundOrder(outTradeNo)
	}
	if t.guard != nil && !t.onHistory() {
		t.guard(open)
		return
	}
	open()
}
