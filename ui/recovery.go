package ui

import (
	"qrkiosk/internal/journal"
	"qrkiosk/payment"
)

// hold stops charging until release: the start-up recovery may give a
// pending order back to the screen.
func (c *cashier) hold(reason string) {
	c.deps.Till.Hold(reason)
	c.sale.holding = reason
	c.sale.status.SetText(reason)
	c.refreshControls()
}

// onRecovered takes the orders the previous run left unfinished, as
// settle.Recover resumed them: the newest still before its deadline (and
// not being cancelled) becomes the live order again, its QR and countdown
// back on the customer screen; the others settle by themselves and show in
// the history. Called on the Fyne goroutine.
func (c *cashier) onRecovered(orders []*payment.Order, records []journal.Order, err error) {
	c.sale.holding = ""
	if err != nil {
		c.sale.message.SetText("Could not check the orders the last run left unfinished: " + err.Error() + " — they are checked at the next start")
	}
	resume := -1
	for i, rec := range records {
		if !rec.CancelAsked && c.deps.Now().Before(rec.Deadline) && c.sale.live == "" {
			resume = i
		}
	}
	for i, o := range orders {
		if i == resume {
			continue
		}
		o.Observe(func(ev payment.Event) {
			if ev.State.Final() {
				c.deps.Do(func() { c.recent.refresh(c.sale.live) })
			}
		})
	}
	if resume < 0 {
		c.deps.Till.Release()
		if c.sale.live == "" {
			c.sale.status.SetText(readyText)
		}
		c.recent.refresh(c.sale.live)
		c.refreshControls()
		return
	}
	o := orders[resume]
	snap := o.Snapshot()
	c.sale.order, c.sale.live = o, snap.OutTradeNo
	c.wallets.choose(snap.PayType.Code)
	c.amount.set(snap.Amount.String())
	c.deps.Log.Info("resumed an order left unfinished", "out_trade_no", snap.OutTradeNo)
	// The till takes it back as its live sale (a POS's sale keeps its
	// reference) and passes its events on.
	ref, err := c.deps.Journal.POSRef(c.deps.Ctx, snap.OutTradeNo)
	if err != nil {
		c.deps.Log.Warn("reading the POS reference of a resumed order", "out_trade_no", snap.OutTradeNo, "err", err)
	}
	c.sale.posRef = ref
	c.deps.Till.Resume(o, ref, ref != "")
	// Read after observing: no change can fall between the two.
	c.show(o.Snapshot())
	if c.sale.live != "" && c.sale.order.Snapshot().State == payment.StateCreating {
		c.sale.status.SetText("Resuming order " + snap.OutTradeNo + " (" + snap.Amount.Display() + ") left unfinished — checking it with the gateway…")
	}
}
