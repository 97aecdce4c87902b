package ui

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"qrkiosk/display"
	"qrkiosk/payment"
)

// Keypad keys besides the digits.
const (
	keyDoubleZero = "00"
	keyPoint      = "."
	keyBack       = "back"
	keyClear      = "clear"
)

// prefLastPayType remembers the wallet of the last charge, so that typing
// an amount and pressing Enter is a whole sale.
const prefLastPayType = "cashier.lastPayType"

// recentShown is how many finished charges the pane lists.
const recentShown = 12

// startFunc starts an order and follows it: observe gets every event on the
// machine's goroutine.
type startFunc func(req payment.CreateRequest, observe func(payment.Event)) *payment.Order

// demoPayer plays the customer in demo mode.
type demoPayer interface {
	Pay(payment.Snapshot) error
	Decline(payment.Snapshot) error
}

// cashierDeps is everything the cashier pane needs from the app.
type cashierDeps struct {
	Currency  payment.Currency
	Wallets   []payment.PayType // the enabled pay types, in the order to list them
	Expiry    time.Duration
	GoodsName string
	Prefs     fyne.Preferences
	Start     startFunc
	History   history
	Now       func() time.Time
	// Do runs a function on the Fyne goroutine (fyne.Do); tests queue it.
	Do func(func())
	// Mirror is the cashier's small copy of the customer screen; nil when
	// the customer screen is in the same window (single layout).
	Mirror *display.Screen
	// Show draws a snapshot on the customer screen(s), on the Fyne goroutine.
	Show func(payment.Snapshot)
	// Demo is non-nil in demo mode only: it simulates the customer.
	Demo demoPayer
	Log  *slog.Logger
}

// cashier is the cashier's pane: amount entry, wallet, Charge and Cancel,
// the live mirror and the recent charges. It starts orders and shows what
// their machines report; it never decides an order's state itself.
type cashier struct {
	deps cashierDeps

	typed  string // the amount as typed, e.g. "12.3"
	wallet int    // index into deps.Wallets
	order  *payment.Order
	live   string // OutTradeNo of the order being charged; "" when ready

	amount        *canvas.Text
	message       *widget.Label
	status        *widget.Label
	keys          map[string]*widget.Button
	walletButtons []*widget.Button
	charge        *widget.Button
	cancel        *widget.Button
	demoPay       *widget.Button
	demoDecline   *widget.Button
	recent        *fyne.Container

	keypad  fyne.CanvasObject // amount, wallets, keys, Charge/Cancel
	content fyne.CanvasObject // the whole pane
}

func newCashier(deps cashierDeps) *cashier {
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Do == nil {
		deps.Do = fyne.Do
	}
	if deps.History == nil {
		deps.History = &memHistory{}
	}
	if deps.Log == nil {
		deps.Log = slog.New(slog.DiscardHandler)
	}
	if deps.Show == nil {
		deps.Show = func(payment.Snapshot) {}
	}
	c := &cashier{deps: deps, keys: map[string]*widget.Button{}}
	c.wallet = c.lastWallet()
	c.build()
	c.refreshAmount()
	c.refreshControls()
	c.status.SetText(readyText)
	return c
}

const readyText = "Ready — type the amount and press Enter"

func (c *cashier) lastWallet() int {
	if c.deps.Prefs == nil {
		return 0
	}
	last := c.deps.Prefs.String(prefLastPayType)
	for i, w := range c.deps.Wallets {
		if w.Code == last {
			return i
		}
	}
	return 0
}

func (c *cashier) build() {
	c.amount = canvas.NewText("", theme.Color(theme.ColorNameForeground))
	c.amount.TextSize = 56
	c.amount.TextStyle.Bold = true
	c.amount.Alignment = fyne.TextAlignTrailing
	amountBox := container.NewStack(
		canvas.NewRectangle(theme.Color(theme.ColorNameInputBackground)),
		container.NewPadded(c.amount),
	)
	c.message = widget.NewLabel("")
	c.message.Importance = widget.DangerImportance
	c.message.Wrapping = fyne.TextWrapWord
	c.status = widget.NewLabel("")
	c.status.Wrapping = fyne.TextWrapWord
	c.status.TextStyle.Bold = true

	var walletObjs []fyne.CanvasObject
	for i, w := range c.deps.Wallets {
		label := w.Name.En
		if w.Name.ZhHant != w.Name.En {
			label += "  " + w.Name.ZhHant
		}
		b := widget.NewButton(label, func() { c.onWallet(i) })
		c.walletButtons = append(c.walletButtons, b)
		walletObjs = append(walletObjs, touch(b, 0))
	}
	wallets := withTextSize(container.NewGridWithColumns(2, walletObjs...), 17)

	key := func(k, label string) fyne.CanvasObject {
		b := widget.NewButton(label, func() { c.onKey(k) })
		c.keys[k] = b
		return touch(b, 72)
	}
	digits := container.NewGridWithColumns(3,
		key("7", "7"), key("8", "8"), key("9", "9"),
		key("4", "4"), key("5", "5"), key("6", "6"),
		key("1", "1"), key("2", "2"), key("3", "3"),
		key(keyDoubleZero, "00"), key("0", "0"), key(keyPoint, "."),
	)
	back := widget.NewButtonWithIcon("", theme.NavigateBackIcon(), func() { c.onKey(keyBack) })
	c.keys[keyBack] = back
	clearKey := widget.NewButton("C", func() { c.onKey(keyClear) })
	c.keys[keyClear] = clearKey
	side := container.NewGridWithRows(2, touch(back, 72), touch(clearKey, 72))
	keys := container.NewBorder(nil, nil, nil, container.New(atLeast{w: 96}, side), digits)
	if c.deps.Currency.Exponent == 0 {
		c.keys[keyPoint].Disable() // the currency has no minor unit
	}

	c.charge = widget.NewButtonWithIcon("Charge (Enter)", theme.ConfirmIcon(), c.onCharge)
	c.charge.Importance = widget.HighImportance
	c.cancel = widget.NewButtonWithIcon("Cancel (Esc)", theme.CancelIcon(), c.onCancel)
	c.cancel.Importance = widget.DangerImportance
	actions := container.NewGridWithColumns(2, touch(c.cancel, 80), touch(c.charge, 80))

	rows := []fyne.CanvasObject{amountBox, c.message, wallets, keys, actions}
	if c.deps.Demo != nil {
		c.demoPay = widget.NewButton("Simulate customer payment", c.onDemoPay)
		c.demoPay.Importance = widget.WarningImportance
		c.demoDecline = widget.NewButton("Simulate decline", c.onDemoDecline)
		rows = append(rows, withTextSize(container.NewGridWithColumns(2, touch(c.demoDecline, 0), touch(c.demoPay, 0)), 16))
	}
	c.keypad = withTextSize(container.NewVBox(rows...), 28)

	c.recent = container.NewVBox()
	recentTitle := widget.NewLabelWithStyle("Recent charges", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	recentList := container.New(atLeast{h: 220}, container.NewVScroll(c.recent))
	below := container.NewVBox(c.status, widget.NewSeparator(), recentTitle, recentList)
	var right fyne.CanvasObject = container.NewBorder(below, nil, nil, nil)
	if c.deps.Mirror != nil {
		mirrorTitle := widget.NewLabelWithStyle("Customer screen", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		mirror := container.New(aspect{w: 16, h: 9, minW: 400}, c.deps.Mirror.Content())
		right = container.NewBorder(mirrorTitle, below, nil, nil, mirror)
	}
	left := container.New(atLeast{w: 460}, c.keypad)
	c.content = container.NewBorder(nil, nil, container.NewPadded(left), nil, container.NewPadded(right))
}

// touch makes a button at least a touch target (h overrides the height).
func touch(b *widget.Button, h float32) fyne.CanvasObject {
	return container.New(atLeast{w: touchTarget, h: max(h, touchTarget)}, b)
}

// attach sends a window's keyboard to the pane: digits and the point type
// the amount, Enter (main or keypad) charges, Esc cancels.
func (c *cashier) attach(cv fyne.Canvas) {
	cv.SetOnTypedRune(c.onTypedRune)
	cv.SetOnTypedKey(c.onTypedKey)
}

func (c *cashier) onTypedRune(r rune) {
	if r == ' ' {
		return
	}
	c.onKey(string(r))
}

func (c *cashier) onTypedKey(e *fyne.KeyEvent) {
	switch e.Name {
	case fyne.KeyReturn, fyne.KeyEnter:
		c.onCharge()
	case fyne.KeyEscape:
		c.onCancel()
	case fyne.KeyBackspace:
		c.onKey(keyBack)
	case fyne.KeyDelete:
		c.onKey(keyClear)
	}
}

// onKey edits the typed amount. A key that would make the amount invalid
// whatever is typed next (a third decimal, a twelfth digit, a letter) is
// refused with the reason; nothing typed ever reaches the gateway unchecked.
func (c *cashier) onKey(k string) {
	if c.live != "" {
		return // the amount of a live order does not change
	}
	c.message.SetText("")
	switch k {
	case keyBack:
		if c.typed != "" {
			c.typed = c.typed[:len(c.typed)-1]
		}
	case keyClear:
		c.typed = ""
	default:
		next := c.typed + k
		switch {
		case c.typed == "" && k == keyPoint:
			next = "0."
		case c.typed == "" && k == keyDoubleZero:
			return
		case c.typed == "0" && k != keyPoint:
			next = strings.TrimPrefix(k, "0")
			if next == "" {
				next = "0"
			}
		}
		if _, err := payment.ParseAmount(next, c.deps.Currency); err != nil {
			if _, err2 := payment.ParseAmount(next+"1", c.deps.Currency); err2 != nil {
				c.message.SetText(amountProblem(err))
				return
			}
		}
		c.typed = next
	}
	c.refreshAmount()
}

// amountProblem words a ParseAmount error for the cashier.
func amountProblem(err error) string {
	var fe *payment.FieldError
	if errors.As(err, &fe) {
		return "Amount " + fe.Rule
	}
	return err.Error()
}

// refreshAmount shows the typed amount with the currency's symbol and
// thousands separators, as typed (so "12." shows the point just pressed).
func (c *cashier) refreshAmount() {
	cur := c.deps.Currency
	c.amount.Color = theme.Color(theme.ColorNameForeground)
	text := c.typed
	if text == "" {
		c.amount.Color = theme.Color(theme.ColorNamePlaceHolder)
		text = payment.Amount{Currency: cur}.String()
	}
	whole, frac, point := strings.Cut(text, ".")
	var b strings.Builder
	b.WriteString(cur.Symbol)
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if point {
		b.WriteString("." + frac)
	}
	c.amount.Text = b.String()
	c.amount.Refresh()
}

func (c *cashier) onWallet(i int) {
	if c.live != "" {
		return
	}
	c.wallet = i
	c.refreshControls()
}

// refreshControls enables what makes sense now: the keypad and Charge when
// ready, Cancel while an order is live, the demo buttons while a QR shows.
func (c *cashier) refreshControls() {
	ready := c.live == ""
	for k, b := range c.keys {
		if ready && (k != keyPoint || c.deps.Currency.Exponent > 0) {
			b.Enable()
		} else {
			b.Disable()
		}
	}
	for i, b := range c.walletButtons {
		if i == c.wallet {
			b.Importance = widget.HighImportance
		} else {
			b.Importance = widget.MediumImportance
		}
		if ready {
			b.Enable()
		} else {
			b.Disable()
		}
		b.Refresh()
	}
	if ready {
		c.charge.Enable()
		c.cancel.Disable()
	} else {
		c.charge.Disable()
		c.cancel.Enable()
	}
	if c.demoPay != nil {
		snap := payment.Snapshot{}
		if c.order != nil {
			snap = c.order.Snapshot()
		}
		if !ready && snap.State == payment.StateAwaitingPayment && !snap.Cancelling && snap.SysSN != "" {
			c.demoPay.Enable()
			c.demoDecline.Enable()
		} else {
			c.demoPay.Disable()
			c.demoDecline.Disable()
		}
	}
}

// onCharge starts an order for the typed amount with the selected wallet.
func (c *cashier) onCharge() {
	if c.live != "" {
		return
	}
	amt, err := payment.ParseAmount(c.typed, c.deps.Currency)
	if err != nil {
		c.message.SetText(amountProblem(err))
		return
	}
	if len(c.deps.Wallets) == 0 {
		c.message.SetText("No wallet is enabled: check pay_types in the configuration")
		return
	}
	pt := c.deps.Wallets[c.wallet]
	if c.deps.Prefs != nil {
		c.deps.Prefs.SetString(prefLastPayType, pt.Code)
	}
	now := c.deps.Now()
	req := payment.CreateRequest{
		OutTradeNo: payment.NewOutTradeNo("QK", now),
		Amount:     amt,
		PayType:    pt,
		Expiry:     c.deps.Expiry,
		GoodsName:  c.deps.GoodsName,
		TxTime:     now,
	}
	c.message.SetText("")
	c.live = req.OutTradeNo
	c.deps.Log.Info("charge", "out_trade_no", req.OutTradeNo, "amount", amt.String(), "currency", amt.Currency.Code, "pay_type", pt.Code)
	c.order = c.deps.Start(req, func(ev payment.Event) {
		c.deps.Do(func() { c.onEvent(ev) })
	})
	c.onEvent(payment.Event{Snapshot: c.order.Snapshot(), Kind: "creating"})
}

// onCancel withdraws the live order (Esc), or clears the amount when idle.
func (c *cashier) onCancel() {
	if c.order == nil || c.live == "" {
		c.onKey(keyClear)
		return
	}
	c.order.Cancel()
	c.status.SetText("Cancelling — asking the gateway to withdraw the QR…")
}

func (c *cashier) onDemoPay() {
	if c.order != nil && c.deps.Demo != nil {
		if err := c.deps.Demo.Pay(c.order.Snapshot()); err != nil {
			c.message.SetText("Simulated payment: " + err.Error())
		}
	}
}

func (c *cashier) onDemoDecline() {
	if c.order != nil && c.deps.Demo != nil {
		if err := c.deps.Demo.Decline(c.order.Snapshot()); err != nil {
			c.message.SetText("Simulated decline: " + err.Error())
		}
	}
}

// onEvent shows an order's new snapshot. Called on the Fyne goroutine.
func (c *cashier) onEvent(ev payment.Event) {
	snap := ev.Snapshot
	if snap.OutTradeNo != c.live {
		// An earlier order: only a late payment still matters, and the
		// cashier must see it at once.
		if ev.Kind == "paid_late" {
			c.deps.History.Record(snap)
			c.refreshRecent()
			c.message.SetText(fmt.Sprintf("%s %s was PAID after it showed %s — the money was received", snap.Amount.Display(), snap.PayType.Name.En, "expired/cancelled"))
		}
		return
	}
	if c.deps.Mirror != nil {
		c.deps.Mirror.Show(snap)
	}
	c.deps.Show(snap)
	c.status.SetText(statusText(snap))
	if snap.State.Final() {
		c.deps.History.Record(snap)
		c.refreshRecent()
		c.live, c.order = "", nil
		if snap.State == payment.StatePaid {
			c.typed = "" // the next sale starts from zero; otherwise Enter retries
		}
		c.refreshAmount()
	}
	c.refreshControls()
}

// statusText is the cashier's one-line account of a snapshot.
func statusText(s payment.Snapshot) string {
	amt := s.Amount.Display() + " " + s.PayType.Name.En
	link := "polling the gateway"
	if s.PushUp {
		link = "push connected"
	}
	switch s.State {
	case payment.StateCreating:
		return "Creating the order for " + amt + "…"
	case payment.StateAwaitingPayment:
		switch {
		case s.Cancelling:
			return "Cancelling " + amt + " — asking the gateway to withdraw the QR…"
		case s.GatewayUnreachable:
			return "Gateway unreachable — still checking " + amt + "; do not charge again"
		}
		return "Waiting for the customer to scan — " + amt + " (" + link + ")"
	case payment.StatePaid:
		if s.Late {
			return "PAID (late) — " + amt
		}
		return "PAID — " + amt
	case payment.StateFailed:
		if s.Code != "" {
			return fmt.Sprintf("FAILED — %s: %s (respcd %s)", amt, s.Reason, s.Code)
		}
		return fmt.Sprintf("FAILED — %s: %s", amt, s.Reason)
	case payment.StateExpired:
		return "EXPIRED — " + amt + " was not paid in time"
	case payment.StateCancelled:
		return "CANCELLED — " + amt
	}
	return s.State.String()
}

func (c *cashier) refreshRecent() {
	var rows []fyne.CanvasObject
	for _, s := range c.deps.History.Recent(recentShown) {
		l := widget.NewLabel(fmt.Sprintf("%s   %s   %s   %s", s.Created.Format("15:04:05"), s.Amount.Display(), s.PayType.Name.En, resultWord(s)))
		switch s.State {
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

func resultWord(s payment.Snapshot) string {
	w := strings.ToUpper(s.State.String())
	if s.Late {
		w += " (late)"
	}
	return w
}
