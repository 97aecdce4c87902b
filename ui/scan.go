package ui

import (
	"fmt"
	"strconv"

	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"qrkiosk/internal/kiosk"
	"qrkiosk/payment"
)

// The customer's own payment code (CPM): the cashier types the amount and
// scans the code the customer's wallet app shows. A USB or Bluetooth
// scanner is a keyboard: it types the code's digits in a burst and presses
// Enter. Every key from the keyboard goes through scan.Detector first, so
// a burst charges the typed amount as CPM and never becomes part of the
// amount; a person's typing comes out unchanged, a moment later. "Scan
// customer code" waits for the scanner with the amount on the customer
// screen, and lets the cashier type the code when the scanner cannot read
// it.

const (
	enterAmountFirst = "Enter the amount first, then scan the customer's payment code"
	scanWaitText     = "Scan the customer's payment code — "
)

// scanFlow is the wait for a customer's code ("Scan customer code"): the
// amount it is for, and the dialog that takes the code by hand, opened at
// once unless byButton (the tablet: its customer screen asks for the
// code, and a button of its bar opens the dialog).
type scanFlow struct {
	waiting  bool
	waitID   uint64 // the till's wait (kiosk.Till.AskForCode)
	amount   payment.Amount
	codePad  *pinPad
	byButton bool
	button   *widget.Button // nil: the gateway takes no scanned codes
}

func newScanFlow(cpm bool, onScan func()) *scanFlow {
	f := &scanFlow{}
	if cpm {
		f.button = widget.NewButtonWithIcon("Scan customer code", theme.SearchIcon(), onScan)
		f.button.Importance = widget.SuccessImportance
	}
	return f
}

// refresh offers the button when a sale may start.
func (f *scanFlow) refresh(canStart bool) {
	if f.button == nil {
		return
	}
	if canStart {
		f.button.Enable()
	} else {
		f.button.Disable()
	}
}

// closePad takes the dialog away, if it shows.
func (f *scanFlow) closePad() {
	if f.codePad != nil {
		f.codePad.finish()
		f.codePad = nil
	}
}

// onScanned charges a code the scanner read, for the amount typed (or the
// one the customer screen shows while waiting for the scan). A code that
// cannot be used now is dropped with the reason: it is never kept for
// later, and never typed anywhere.
func (c *cashier) onScanned(code string) {
	switch {
	case c.dialogs.modal != nil && c.dialogs.modal != c.scan.codePad:
		c.deps.Log.Warn("a scanned payment code came while a dialog was open; not used")
		return
	case c.deps.CPM == nil:
		c.sale.message.SetText("This gateway takes no scanned payment codes: charge with a QR")
		return
	case c.sale.live != "":
		c.sale.message.SetText("A sale is in progress: the scanned code was not used")
		return
	case c.sale.holding != "":
		c.sale.message.SetText(c.sale.holding)
		return
	case c.tabs.history.panelOpen():
		c.sale.message.SetText("Close the refund first: the scanned code was not used")
		return
	}
	c.chargeCode(code)
}

// onRejectedScan: the scanner read something too short to be a payment
// code (a product's barcode, a code read in part). Nothing was typed or
// charged.
func (c *cashier) onRejectedScan(digits int) {
	msg := fmt.Sprintf("That scan was not a payment code (%d digits): scan the code in the customer's wallet app", digits)
	c.deps.Log.Info("a scan too short for a payment code was dropped", "digits", digits)
	if c.scan.codePad != nil && c.dialogs.modal == c.scan.codePad {
		c.scan.codePad.message.SetText(msg)
		return
	}
	if c.dialogs.modal == nil {
		c.sale.message.SetText(msg)
	}
}

// onScan is the "Scan customer code" button: with the amount on the
// customer screen, it waits for the scanner (and offers to type the code).
func (c *cashier) onScan() {
	c.keyboard.release() // typed just before the tap
	if c.sale.live != "" || c.scan.waiting || c.sale.holding != "" || c.deps.CPM == nil {
		return
	}
	amt, err := c.typedAmount()
	if err != nil {
		c.sale.message.SetText(err.Error())
		return
	}
	tk, err := c.deps.Till.AskForCode(kiosk.Wait{Amount: amt})
	if err != nil {
		c.sale.message.SetText(err.Error())
		return
	}
	c.sale.message.SetText("")
	c.sale.posRef = ""
	c.tabs.onShowSale()
	c.beginWait(tk.ID(), amt, "")
}

// beginWait shows the till's wait for a customer's code (the cashier's,
// or the POS's: prefix names it) and offers to type the code.
func (c *cashier) beginWait(id uint64, amt payment.Amount, prefix string) {
	c.scan.waiting, c.scan.waitID, c.scan.amount = true, id, amt
	c.sale.status.SetText(prefix + scanWaitText + amt.Display() + " (Esc or Cancel stops)")
	c.screens.ask(amt)
	c.refreshControls()
	if !c.scan.byButton {
		c.openCodePad()
	}
}

// typedAmount is the amount to charge, or why there is none.
func (c *cashier) typedAmount() (payment.Amount, error) {
	if c.amount.typed == "" {
		return payment.Amount{}, errText(enterAmountFirst)
	}
	amt, err := c.amount.parse()
	if err != nil {
		return payment.Amount{}, errText(amountProblem(err))
	}
	return amt, nil
}

type errText string

func (e errText) Error() string { return string(e) }

// openCodePad is the dialog that waits for the scanner and takes the code
// typed by hand: its digits, shown as typed, and Charge.
func (c *cashier) openCodePad() {
	if !c.scan.waiting || c.scan.codePad != nil {
		return
	}
	explain := "Point the scanner at the code in the customer's wallet app. If it cannot read it, type the code's digits (16 to 24)."
	if c.deps.Demo != nil {
		explain += " Demo: any 18 digits, e.g. 281234567890123456."
	}
	c.scan.codePad = c.dialogs.openPad(pinPadSpec{
		title:      scanWaitText + c.scan.amount.Display(),
		explain:    explain,
		okText:     "Charge",
		cancelText: "Cancel",
		withKeypad: true,
		plain:      true,
		maxLen:     24,
		onOK: func(p *pinPad, typed string) {
			if err := payment.ValidateAuthCode(typed); err != nil {
				p.typed = typed
				p.refresh()
				p.fail("A payment code is 16 to 24 digits; " + strconv.Itoa(len(typed)) + " typed")
				return
			}
			c.chargeCode(typed)
		},
		onCancel: func() {
			c.scan.codePad = nil
			if !c.scan.byButton {
				c.endScan()
			}
		},
	})
}

// endScan stops waiting for a scan: the customer screen goes back to
// idle and the amount stays for the next try.
func (c *cashier) endScan() {
	if !c.scan.waiting {
		return
	}
	c.deps.Till.EndWait(c.scan.waitID, "cancelled at the kiosk")
	c.stopWaiting()
}

// stopWaiting is the pane's side of a wait that ended without a sale.
func (c *cashier) stopWaiting() {
	c.scan.waiting = false
	c.scan.closePad()
	c.sale.status.SetText(readyText)
	c.screens.idle()
	c.refreshControls()
}

// chargeCode starts a customer-presented order for the scanned (or typed)
// code. The code goes to the gateway once, in this request; it is neither
// logged nor kept.
func (c *cashier) chargeCode(code string) {
	amt := c.scan.amount
	if !c.scan.waiting {
		var err error
		if amt, err = c.typedAmount(); err != nil {
			c.sale.message.SetText(err.Error())
			return
		}
	}
	if err := payment.ValidateAuthCode(code); err != nil {
		c.sale.message.SetText("The scanned code is not a payment code (16 to 24 digits): ask the customer to refresh it")
		return
	}
	c.scan.waiting = false
	c.scan.closePad()
	now := c.deps.Now()
	c.start(payment.CreateRequest{
		OutTradeNo: c.deps.NewOutTradeNo(now),
		Amount:     amt,
		PayType:    *c.deps.CPM,
		GoodsName:  c.deps.GoodsName,
		TxTime:     now,
		AuthCode:   code,
	})
	if c.sale.live == "" {
		// Not recorded, so not charged: the screens stop asking.
		c.screens.idle()
		c.refreshControls()
	}
}
