package ui

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"qrkiosk/internal/journal"
	"qrkiosk/internal/pin"
	"qrkiosk/internal/settle"
	"qrkiosk/payment"
)

// refundPanel gives money back for one order of the history view: the
// amount (all that remains by default) and the manager PIN, typed on the
// cashier's keypad or a keyboard. The journal records the refund before
// the call and decides what may be refunded; the panel only asks it.
type refundPanel struct {
	deps historyDeps
	// refreshed redraws the history list after a refund changed it.
	refreshed func()

	panel        *fyne.Container
	selected     string // OutTradeNo in the panel
	refundInfo   *widget.Label
	refundAmount *tapEntry
	refundPIN    *tapEntry
	pins         *pin.Guard       // wrong manager PINs
	refundCur    payment.Currency // the selected order's
	refundGo     *widget.Button
	refundClose  *widget.Button
	refundMsg    *widget.Label
	busy         bool

	// keypadAmount: the keypad types the refund amount (after a tap on
	// it), not the PIN; amountFresh: its next digit replaces the amount
	// proposed.
	keypadAmount, amountFresh bool
	keypadHint                *widget.Label
}

func newRefundPanel(deps historyDeps, refreshed func()) *refundPanel {
	p := &refundPanel{deps: deps, refreshed: refreshed, pins: deps.PINs}
	p.refundInfo = widget.NewLabel("")
	// Two lines of its own, cut with … when narrow: a word-wrapped label in
	// this box was measured one line high and overlapped the amount field.
	p.refundInfo.Truncation = fyne.TextTruncateEllipsis
	p.refundInfo.TextStyle.Bold = true
	p.refundAmount = newTapEntry(false, func() { p.setKeypadTarget(true) })
	p.refundPIN = newTapEntry(true, func() { p.setKeypadTarget(false) })
	p.refundPIN.SetPlaceHolder("manager PIN")
	p.keypadHint = widget.NewLabel("")
	p.keypadHint.Wrapping = fyne.TextWrapWord
	p.refundPIN.OnSubmitted = func(string) { p.onRefundConfirm() }
	p.refundGo = widget.NewButtonWithIcon("Refund", theme.ConfirmIcon(), p.onRefundConfirm)
	p.refundGo.Importance = widget.DangerImportance
	p.refundClose = widget.NewButtonWithIcon("Close", theme.CancelIcon(), p.onRefundClose)
	p.refundMsg = widget.NewLabel("")
	p.refundMsg.Wrapping = fyne.TextWrapWord
	t := deps.Touch
	form := container.New(&fieldsLayout{label: fyne.MeasureText("Amount to refund", theme.TextSize(), fyne.TextStyle{}).Width + 3*theme.InnerPadding()},
		widget.NewLabel("Amount to refund"), container.New(fixed{h: t}, p.refundAmount),
		widget.NewLabel("Manager PIN"), container.New(fixed{h: t}, p.refundPIN),
	)
	buttons := container.NewGridWithColumns(2, container.New(fixed{h: t}, p.refundClose), container.New(fixed{h: t}, p.refundGo))
	p.panel = container.NewVBox(widget.NewSeparator(), p.refundInfo, form, p.keypadHint, buttons, p.refundMsg, widget.NewSeparator())
	p.panel.Hide()
	return p
}

// setKeypadTarget sends the keypad to the refund amount (a tap on it: the
// next digit starts a new amount) or to the manager PIN, for counters
// without a keyboard.
func (p *refundPanel) setKeypadTarget(amount bool) {
	p.keypadAmount, p.amountFresh = amount, amount
	if amount {
		p.keypadHint.SetText("The keypad types the amount to refund. Tap the PIN field to type the PIN.")
	} else {
		p.keypadHint.SetText("The keypad types the manager PIN. Tap the amount to refund less.")
	}
}

// onKey types a keypad key into the refund amount or the manager PIN.
func (p *refundPanel) onKey(k string) {
	if p.busy {
		return
	}
	if p.keypadAmount {
		p.typeAmountKey(k)
		return
	}
	typed := p.refundPIN.Text
	switch k {
	case keyBack:
		if typed != "" {
			typed = typed[:len(typed)-1]
		}
	case keyClear:
		typed = ""
	default:
		if strings.Trim(k, "0123456789") != "" {
			return
		}
		typed += k
	}
	p.refundPIN.SetText(typed)
}

// typeAmountKey edits the refund amount as the cashier's keypad edits a
// sale's: a key that would make it invalid is refused with the reason.
func (p *refundPanel) typeAmountKey(k string) {
	typed := p.refundAmount.Text
	if p.amountFresh && k != keyBack {
		typed = "" // the proposed amount goes at the first key
	}
	p.amountFresh = false
	next, err := typeAmount(typed, k, p.refundCur)
	if err != nil {
		p.refundMsg.Importance = widget.DangerImportance
		p.refundMsg.SetText(amountProblem(err))
		return
	}
	if !p.refundGo.Disabled() {
		p.refundMsg.SetText("") // an earlier key's refusal
	}
	p.refundAmount.SetText(next)
}

// onRefundOrder opens the refund panel for an order: the whole remaining
// amount is proposed; a refusal the journal can tell without the gateway
// (FPS, not paid, fully refunded, a refund still being checked) shows at
// once and the Refund button stays off.
func (p *refundPanel) onRefundOrder(outTradeNo string) {
	if p.busy {
		return
	}
	o, err := p.deps.Journal.Order(p.deps.Ctx, outTradeNo)
	if err != nil {
		p.refundMsg.SetText(err.Error())
		return
	}
	p.selected = outTradeNo
	p.refundCur = o.Amount.Currency
	p.setKeypadTarget(false)
	p.refundInfo.SetText(p.infoText(o))
	p.refundAmount.SetText("")
	p.refundPIN.SetText("")
	p.refundMsg.Importance = widget.DangerImportance
	p.refundMsg.SetText("")
	p.refundGo.Enable()
	if _, err := settle.CheckRefund(o, 0); err != nil {
		p.refundMsg.SetText(refusal(err))
		p.refundGo.Disable()
	} else {
		p.refundAmount.SetText(payment.Amount{Minor: o.Remaining(), Currency: o.Amount.Currency}.String())
		p.refundGo.SetText("Refund " + payment.DisplayMinor(o.Remaining(), o.Amount.Currency))
		p.refundAmount.OnChanged = func(s string) { p.onAmountChanged(o, s) }
	}
	if p.deps.PINHash == "" && p.refundMsg.Text == "" {
		p.refundMsg.SetText("Refunds are off: no manager PIN is configured (manager_pin_hash in config.toml; qrkiosk config hash-pin makes it)")
		p.refundGo.Disable()
	}
	p.panel.Show()
	if p.deps.OnPanel != nil {
		p.deps.OnPanel()
	}
}

func (p *refundPanel) infoText(o journal.Order) string {
	return fmt.Sprintf("Refund order %s\n%s %s, rung up %s; refunded so far %s",
		o.OutTradeNo, o.Amount.Display(), o.PayType.Name.En, o.TxTime.In(p.deps.Journal.Location()).Format("15:04:05"), payment.DisplayMinor(o.Refunded, o.Amount.Currency))
}

// onAmountChanged keeps the Refund button saying how much it gives back.
func (p *refundPanel) onAmountChanged(o journal.Order, s string) {
	if a, err := payment.ParseAmount(strings.TrimSpace(s), o.Amount.Currency); err == nil {
		p.refundGo.SetText("Refund " + a.Display())
		return
	}
	p.refundGo.SetText("Refund")
}

func (p *refundPanel) onRefundClose() {
	if p.busy {
		return
	}
	p.selected = ""
	p.refundAmount.OnChanged = nil
	p.refundPIN.SetText("")
	p.panel.Hide()
	if p.deps.OnPanel != nil {
		p.deps.OnPanel()
	}
}

// refusal is the journal's own words for a refund refused before anything
// was sent.
func refusal(err error) string {
	var r *settle.RefusedError
	if errors.As(err, &r) {
		return "Refused, nothing was sent: " + r.Msg
	}
	return err.Error()
}

// onRefundConfirm checks the amount with the journal, then (off the Fyne
// goroutine: the PIN hash is deliberately slow, the gateway is far) the
// manager PIN, then refunds through the journal, which records the refund
// before the call.
func (p *refundPanel) onRefundConfirm() {
	if p.busy || p.selected == "" {
		return
	}
	p.refundMsg.Importance = widget.DangerImportance
	o, err := p.deps.Journal.Order(p.deps.Ctx, p.selected)
	if err != nil {
		p.refundMsg.SetText(err.Error())
		return
	}
	var minor int64
	if s := strings.TrimSpace(p.refundAmount.Text); s != "" {
		a, err := payment.ParseAmount(s, o.Amount.Currency)
		if err != nil {
			p.refundMsg.SetText(amountProblem(err))
			return
		}
		minor = a.Minor
	}
	if _, err := settle.CheckRefund(o, minor); err != nil {
		p.refundMsg.SetText(refusal(err))
		return
	}
	if p.deps.PINHash == "" || p.deps.Refunder == nil {
		p.refundMsg.SetText("Refunds are off: no manager PIN is configured")
		return
	}
	typed := p.refundPIN.Text
	p.refundPIN.SetText("")
	if d := p.pins.Wait(); d > 0 {
		p.refundMsg.SetText(fmt.Sprintf("Too many wrong manager PINs: refunds are locked for %s — nothing was refunded", pin.LockedText(d)))
		return
	}
	p.setBusy(true, "Checking the manager PIN…")
	otn := o.OutTradeNo
	verifyManagerPIN(p.pins, p.deps.PINHash, typed, p.deps.Do, func(locked time.Duration, err error) {
		switch {
		case err == nil:
			p.refundMsg.SetText("Refunding — waiting for the gateway…")
			go p.refund(otn, minor)
		case errors.Is(err, pin.ErrWrong):
			msg := "Wrong manager PIN — nothing was refunded"
			if locked > 0 {
				msg = fmt.Sprintf("Wrong manager PIN — nothing was refunded. %d wrong in a row: refunds are locked for %s", pin.MaxTries, pin.LockedText(locked))
			}
			p.deps.Log.Warn("wrong manager PIN for a refund", "orig_out_trade_no", otn, "locked_for", locked)
			p.setBusy(false, msg)
		default:
			p.setBusy(false, "The configured manager PIN hash is not usable ("+err.Error()+") — nothing was refunded")
		}
	})
}

// refund asks the gateway for it and shows the outcome; it runs off the
// Fyne goroutine (the gateway's answer can take seconds).
func (p *refundPanel) refund(otn string, minor int64) {
	r, err := settle.Refund(p.deps.Ctx, p.deps.Journal, p.deps.Refunder, otn, minor)
	p.deps.Log.Info("refund", "out_trade_no", r.OutTradeNo, "orig_out_trade_no", otn, "state", r.State, "err", err)
	if errors.Is(err, settle.ErrRefundProcessing) {
		p.deps.Do(func() {
			p.refreshed()
			p.refundMsg.Importance = widget.WarningImportance
			p.refundMsg.SetText("Refund processing — the gateway has not confirmed it yet; checking… Do not refund again.")
		})
		p.recheck(r)
		return
	}
	p.deps.Do(func() {
		p.refreshed()
		p.showRefund(r, err)
	})
}

func (p *refundPanel) setBusy(busy bool, msg string) {
	p.busy = busy
	p.refundMsg.SetText(msg)
	if busy {
		p.refundGo.Disable()
		p.refundClose.Disable()
	} else {
		p.refundGo.Enable()
		p.refundClose.Enable()
	}
}

// showRefund shows a refund's end. Called on the Fyne goroutine.
func (p *refundPanel) showRefund(r journal.Refund, err error) {
	p.setBusy(false, "")
	if o, oerr := p.deps.Journal.Order(p.deps.Ctx, r.OrigOutTradeNo); oerr == nil && r.OrigOutTradeNo != "" {
		p.refundInfo.SetText(p.infoText(o))
	}
	switch {
	case err == nil && r.State == journal.RefundDone:
		p.refundMsg.Importance = widget.SuccessImportance
		p.refundMsg.SetText(fmt.Sprintf("REFUNDED %s of order %s (refund %s)", r.Amount.Display(), r.OrigOutTradeNo, r.OutTradeNo))
		p.refundGo.Disable()
		p.printRefundSlip(r)
	case err != nil:
		var refused *settle.RefusedError
		if errors.As(err, &refused) {
			p.refundMsg.SetText(refusal(err))
			return
		}
		p.refundMsg.SetText("Not refunded: " + err.Error())
	case r.State == journal.RefundFailed:
		p.refundMsg.SetText("Not refunded: " + r.Reason)
	default:
		p.refundMsg.Importance = widget.WarningImportance
		p.refundMsg.SetText("Refund processing — not confirmed by the gateway yet. It is checked again at every start and shows in Today once settled. Do not refund again.")
	}
}

// recheck asks the gateway about a refund whose answer was lost until it
// is settled, or leaves it to the next start (the journal's policy). Runs
// off the Fyne goroutine.
func (p *refundPanel) recheck(r journal.Refund) {
	got, err := settle.FollowRefund(p.deps.Ctx, p.deps.Journal, p.deps.Refunder, r, p.deps.Recheck, p.deps.Rechecks)
	if p.deps.Ctx.Err() != nil {
		return
	}
	if err != nil {
		p.deps.Log.Warn("checking a refund with the gateway", "out_trade_no", r.OutTradeNo, "err", err)
	}
	p.deps.Do(func() {
		p.refreshed()
		p.showRefund(got, nil)
	})
}
