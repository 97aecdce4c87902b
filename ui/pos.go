package ui

import (
	"errors"
	"fmt"
	"time"

	"qrkiosk/internal/kiosk"
	"qrkiosk/internal/pin"
	"qrkiosk/payment"
)

// The till (kiosk.Till) is the kiosk's one till: the pane rings up its
// sales through it and shows whatever it reports, so a sale the shop's POS
// sends shows on both screens exactly like a typed one, with the POS's
// reference on the status line. A POS sale by the customer's code puts
// the pane into waiting for the scanner; a refund the POS asks for waits
// here for the manager PIN before any money moves.

// onTill shows a change of the till. Called on the Fyne goroutine.
func (c *cashier) onTill(ev kiosk.TillEvent) {
	switch ev.Kind {
	case kiosk.TillSaleStarted:
		c.onSaleStarted(ev.Sale)
	case kiosk.TillOrderEvent:
		c.onEvent(ev.Event)
	case kiosk.TillWaiting:
		if ev.Wait.FromPOS {
			c.onPOSScan(ev.Wait)
		}
	case kiosk.TillWaitEnded:
		if c.scan.waiting && c.scan.waitID == ev.Wait.ID {
			c.stopWaiting()
			if ev.Wait.FromPOS {
				c.sale.message.SetText("The POS's sale by code ended: " + ev.Why)
			}
		}
	case kiosk.TillRefundAsked:
		c.onPOSRefund(ev.Refund)
	case kiosk.TillRefundEnded:
		c.onPOSRefundEnded(ev.Refund, ev.Why)
	}
}

// onSaleStarted takes a sale the till started: the pane's own (already
// shown), or the POS's, which becomes the live sale here.
func (c *cashier) onSaleStarted(s kiosk.Sale) {
	snap := s.Order.Snapshot()
	if s.FromPOS {
		c.sale.posRef = posRefText(s.POSRef, snap.OutTradeNo)
	}
	if snap.OutTradeNo == c.sale.live {
		c.sale.status.SetText(c.sale.statusText(snap))
		return
	}
	c.deps.Log.Info("sale from the POS", "out_trade_no", snap.OutTradeNo, "pos_ref", s.POSRef, "amount", snap.Amount.String())
	c.scan.waiting = false
	c.scan.closePad()
	c.sale.message.SetText("")
	c.sale.live, c.sale.order = snap.OutTradeNo, s.Order
	if snap.PayType.Mode == payment.MPM {
		c.wallets.choose(snap.PayType.Code)
	}
	c.amount.set(snap.Amount.String())
	c.tabs.onShowSale()
	c.show(s.Order.Snapshot())
}

// posRefText is how the pane names a POS sale: its reference as the POS
// sent it, or the kiosk's number when it sent none.
func posRefText(ref, outTradeNo string) string {
	if ref == "" {
		ref = outTradeNo
	}
	return ref
}

// onPOSScan: the POS sent a sale by the customer's code (SCAN_PAY). The
// pane waits for the scanner as after "Scan customer code", for the POS's
// amount.
func (c *cashier) onPOSScan(w kiosk.Wait) {
	c.sale.message.SetText("")
	c.tabs.onShowSale()
	c.amount.set(w.Amount.String())
	c.sale.posRef = posRefText(w.POSRef, w.OutTradeNo)
	c.beginWait(w.ID, w.Amount, "POS sale "+c.sale.posRef+" — ")
}

// posRefund is a refund the POS asked for, shown with the manager PIN pad.
type posRefund struct {
	ask kiosk.RefundAsk
	pad *pinPad
}

// onPOSRefund asks for the manager PIN before a refund the POS asked for.
// Without a manager PIN configured, or with another dialog open, the POS
// is told so and nothing is refunded.
func (c *cashier) onPOSRefund(ask kiosk.RefundAsk) {
	what := fmt.Sprintf("%s of sale %s", ask.Amount.Display(), ask.Order)
	if ask.POSRef != "" && ask.POSRef != ask.Order {
		what += " (POS ref " + ask.POSRef + ")"
	}
	if c.deps.ManagerPINHash == "" {
		c.deps.Till.DecideRefund(ask.ID, false, "no manager PIN is configured on the kiosk, so refunds from the POS are off")
		return
	}
	paid := ""
	if !ask.PaidAt.IsZero() {
		paid = ", paid at " + ask.PaidAt.In(c.deps.Journal.Location()).Format("15:04")
	}
	pad := c.dialogs.openPad(pinPadSpec{
		title:      "The POS asks to refund " + ask.Amount.Display(),
		explain:    "Refund " + what + paid + ". The money goes back to the customer's wallet. Manager PIN to refund, or Decline.",
		okText:     "Refund",
		cancelText: "Decline",
		danger:     true,
		withKeypad: true,
		onOK: func(p *pinPad, typed string) {
			if d := c.manager.pins.Wait(); d > 0 {
				p.fail("Too many wrong manager PINs: locked for " + pin.LockedText(d) + ".")
				return
			}
			p.setBusy(true)
			p.message.SetText("Checking…")
			verifyManagerPIN(c.manager.pins, c.deps.ManagerPINHash, typed, c.deps.Do, func(locked time.Duration, err error) {
				if err != nil {
					if errors.Is(err, pin.ErrWrong) {
						c.deps.Log.Warn("wrong manager PIN for the POS's refund", "out_trade_no", ask.Order, "locked_for", locked)
					}
					p.fail(wrongPINText(locked, err))
					return
				}
				p.setBusy(false)
				p.finish()
				c.sale.status.SetText("Refunding " + what + " for the POS…")
				c.deps.Till.DecideRefund(ask.ID, true, "")
			})
		},
		onCancel: func() {
			c.deps.Till.DecideRefund(ask.ID, false, "declined at the kiosk")
		},
	})
	if pad == nil {
		c.deps.Till.DecideRefund(ask.ID, false, "the kiosk has another dialog open; try again in a moment")
		return
	}
	c.posRefund = &posRefund{ask: ask, pad: pad}
	c.sale.status.SetText("The POS asks to refund " + what + " — waiting for the manager PIN")
}

// onPOSRefundEnded: the POS's refund was declined, withdrawn or timed out
// (its pad goes), or it was carried out.
func (c *cashier) onPOSRefundEnded(ask kiosk.RefundAsk, why string) {
	if r := c.posRefund; r != nil && r.ask.ID == ask.ID {
		if c.dialogs.modal == r.pad {
			r.pad.setBusy(false)
			r.pad.finish()
		}
		c.posRefund = nil
	}
	if c.sale.live == "" && !c.scan.waiting {
		c.sale.status.SetText("POS refund of " + ask.Amount.Display() + " (sale " + ask.Order + "): " + why)
	}
	c.recent.refresh(c.sale.live)
	if c.tabs.onHistory() {
		c.tabs.history.refresh()
	}
}

// wrongPINText tells the cashier why a manager PIN was not taken.
func wrongPINText(locked time.Duration, err error) string {
	switch {
	case errors.Is(err, pin.ErrWrong) && locked > 0:
		return fmt.Sprintf("Wrong manager PIN. Too many wrong: locked for %s.", pin.LockedText(locked))
	case errors.Is(err, pin.ErrWrong):
		return "Wrong manager PIN."
	}
	return "The configured manager PIN hash is not usable: " + err.Error()
}
