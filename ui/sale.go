package ui

import (
	"errors"
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"

	"qrkiosk/internal/kiosk"
	"qrkiosk/internal/sound"
	"qrkiosk/payment"
)

// sale is the order being charged and what the pane says about it: the
// status line, and the error line under the amount.
type sale struct {
	order *payment.Order
	live  string // OutTradeNo of the order being charged; "" when ready
	// last is the sale shown last: a late payment of it updates the
	// status line (and the screens) until another sale starts.
	last payment.Snapshot
	// holding says why charging waits (the start-up recovery); "" = it
	// does not.
	holding string
	// posRef is the POS's reference of the live (or last) sale when the
	// shop's POS sent it; "" for the cashier's own.
	posRef  string
	status  *widget.Label
	message *widget.Label
}

func newSale() *sale {
	s := &sale{}
	// Errors get two lines of their own, cut with … beyond: a longer one
	// must never push the Charge button off the screen.
	s.message = widget.NewLabel("")
	s.message.Importance = widget.DangerImportance
	s.message.Wrapping = fyne.TextWrapWord
	s.message.Truncation = fyne.TextTruncateEllipsis
	s.status = widget.NewLabel("")
	s.status.Wrapping = fyne.TextWrapWord
	s.status.Truncation = fyne.TextTruncateEllipsis
	s.status.TextStyle.Bold = true
	return s
}

// onCharge starts an order for the typed amount with the selected wallet.
func (c *cashier) onCharge() {
	c.keyboard.release() // typed just before the tap
	if c.sale.live != "" || c.sale.holding != "" || c.scan.waiting {
		return
	}
	amt, err := c.amount.parse()
	if err != nil {
		c.sale.message.SetText(amountProblem(err))
		return
	}
	if len(c.deps.Wallets) == 0 {
		c.sale.message.SetText("No wallet is enabled: check pay_types in the configuration")
		return
	}
	pt := c.wallets.remember()
	now := c.deps.Now()
	c.start(payment.CreateRequest{
		OutTradeNo: c.deps.NewOutTradeNo(now),
		Amount:     amt,
		PayType:    pt,
		Expiry:     c.deps.Expiry,
		GoodsName:  c.deps.GoodsName,
		TxTime:     now,
	})
}

// start records and starts an order, then shows it.
func (c *cashier) start(req payment.CreateRequest) {
	c.sale.message.SetText("")
	c.tabs.onShowSale()
	// Never the scanned code: it is the customer's, and used once.
	c.deps.Log.Info("charge", "out_trade_no", req.OutTradeNo, "amount", req.Amount.String(), "currency", req.Amount.Currency.Code,
		"pay_type", req.PayType.Code, "scanned_code", req.AuthCode != "")
	// Its events come through the till (onTill).
	s, err := c.deps.Till.Start(req, "", false)
	switch {
	case errors.Is(err, kiosk.ErrBusy):
		c.sale.message.SetText(err.Error())
		return
	case err != nil:
		c.deps.Log.Error("charge not recorded", "out_trade_no", req.OutTradeNo, "err", err)
		c.sale.message.SetText("The sale could not be recorded, so nothing was charged: " + err.Error())
		return
	}
	snap := s.Order.Snapshot()
	c.sale.posRef = ""
	if s.FromPOS { // the cashier scanned the code the POS's sale waited for
		c.sale.posRef = posRefText(s.POSRef, snap.OutTradeNo)
	}
	c.sale.live, c.sale.order = snap.OutTradeNo, s.Order
	c.show(snap)
}

// onCancel withdraws the live order (Esc), or clears the amount when idle.
func (c *cashier) onCancel() {
	c.keyboard.release()
	if c.scan.waiting && c.sale.live == "" {
		c.endScan()
		return
	}
	if c.sale.order == nil || c.sale.live == "" {
		c.onKey(keyClear)
		return
	}
	// Its EventCancelling says so on the status line.
	if !c.deps.Till.Cancel("cancelled at the kiosk", false) {
		c.sale.order.Cancel()
	}
}

// onEvent shows an order's change. Called on the Fyne goroutine.
func (c *cashier) onEvent(ev payment.Event) {
	if ev.Kind == payment.EventReissued && ev.Replaces == c.sale.live {
		// The same sale goes on under a new out_trade_no: its first QR
		// was lost in a network error and has been withdrawn.
		c.sale.live = ev.OutTradeNo
	}
	if ev.OutTradeNo != c.sale.live {
		// An earlier order: only a late payment still matters. The
		// journal's alert raises it on the banner; while no other sale
		// has started, the status line and the screens still show how
		// this one ended, so they must say it was paid after all.
		if ev.Kind == payment.EventPaidLate {
			c.recent.refresh(c.sale.live)
			// Not over a customer screen asking the next customer for
			// their payment code.
			if c.sale.live == "" && !c.scan.waiting && ev.OutTradeNo == c.sale.last.OutTradeNo && c.sale.last.State != payment.StatePaid {
				c.sale.last = ev.Snapshot
				c.screens.show(ev.Snapshot)
				c.sale.status.SetText(c.sale.statusText(ev.Snapshot))
			}
		}
		return
	}
	c.show(ev.Snapshot)
}

// show puts the live order's snapshot on the screens and the pane.
func (c *cashier) show(snap payment.Snapshot) {
	c.screens.show(snap)
	c.sale.status.SetText(c.sale.statusText(snap))
	if snap.State.Final() {
		c.sale.live, c.sale.order, c.sale.last = "", nil, snap
		c.recent.refresh(c.sale.live)
		// However the sale ended, the next starts from zero: Enter must
		// never charge a customer again by itself (one who paid late, say).
		c.amount.set("")
		c.receipt.onSale(snap)
		switch snap.State {
		case payment.StatePaid:
			c.deps.Sound(sound.Paid)
		case payment.StateFailed, payment.StateExpired:
			c.deps.Sound(sound.Problem)
		}
	}
	c.refreshControls()
}

// statusText is statusText, naming the POS's reference for its sale.
func (s *sale) statusText(snap payment.Snapshot) string {
	if s.posRef == "" {
		return statusText(snap)
	}
	return "POS sale " + s.posRef + " — " + statusText(snap)
}

// statusText is the cashier's one-line account of a snapshot.
func statusText(s payment.Snapshot) string {
	amt := s.Amount.Display() + " " + s.PayType.Name.En
	link := "polling the gateway"
	if s.PushUp {
		link = "push connected"
	}
	if s.PayType.Mode == payment.CPM {
		amt = s.Amount.Display() + " (scanned code)"
		switch {
		case s.State == payment.StateCreating:
			return "Charging the customer's code — " + amt + "…"
		case s.State == payment.StateAwaitingPayment && s.Cancelling:
			return "Cancelling " + amt + " — asking the gateway to withdraw the payment…"
		case s.State == payment.StateAwaitingPayment && s.GatewayUnreachable:
			return "Gateway unreachable — still checking " + amt + "; do not charge again"
		case s.State == payment.StateAwaitingPayment && s.ConfirmingPaid:
			return confirmingPaid(amt)
		case s.State == payment.StateAwaitingPayment && s.Confirming:
			return "The customer is confirming on the phone — " + amt + " (up to 2 minutes; do not charge again)"
		case s.State == payment.StateAwaitingPayment:
			return "Checking the payment — " + amt + "; do not charge again"
		case s.State == payment.StateCancelled && s.Withdrawn:
			return "CANCELLED — " + amt + ". Payment withdrawn."
		case s.State == payment.StateCancelled:
			return "CANCELLED — " + amt + ". The gateway cannot withdraw it: if the customer confirms it now, it shows as paid late."
		}
	}
	switch s.State {
	case payment.StateCreating:
		if s.Replaces != "" {
			return "The QR was lost in a network error and withdrawn — making a new one for " + amt + "…"
		}
		return "Creating the order for " + amt + "…"
	case payment.StateAwaitingPayment:
		switch {
		case s.Cancelling && s.PayType.Cancel == payment.CancelNone:
			return "Stopping " + amt + " — the gateway cannot withdraw this QR; checking it once more…"
		case s.Cancelling:
			return "Cancelling " + amt + " — asking the gateway to withdraw the QR…"
		case s.GatewayUnreachable:
			return "Gateway unreachable — still checking " + amt + "; do not charge again"
		case s.ConfirmingPaid:
			return confirmingPaid(amt)
		}
		return "Waiting for the customer to scan — " + amt + " (" + link + ")"
	case payment.StatePaid:
		if s.Late {
			return "PAID LATE — " + amt + ": paid after the screen showed it unpaid. The money was received; see the banner."
		}
		return "PAID — " + amt
	case payment.StateFailed:
		if s.Code != "" {
			return fmt.Sprintf("FAILED — %s: %s (respcd %s)", amt, s.Reason, s.Code)
		}
		return fmt.Sprintf("FAILED — %s: %s", amt, s.Reason)
	case payment.StateExpired:
		return "EXPIRED — " + amt + " was not paid in time. " + qrAfterEnd(s)
	case payment.StateCancelled:
		return "CANCELLED — " + amt + ". " + qrAfterEnd(s)
	}
	return s.State.String()
}

// confirmingPaid is the status while the gateway is asked to confirm a
// payment a push reported: not paid until it does.
func confirmingPaid(amt string) string {
	return "Payment reported — confirming " + amt + " with the gateway; not paid yet"
}

// qrAfterEnd tells the cashier what became of the QR of a sale that ended
// unpaid: withdrawn at the gateway, or (a wallet without cancel) payable
// there a while longer — a payment then raises the paid-late banner.
func qrAfterEnd(s payment.Snapshot) string {
	switch {
	case s.Withdrawn:
		return "QR withdrawn."
	case !s.PayableUntil.IsZero():
		return "This wallet has no cancel: the QR stays payable until " + s.PayableUntil.In(payment.HongKong).Format("15:04") + "; a payment after now is flagged."
	}
	return "The QR may stay payable at the gateway; a payment after now is flagged."
}
