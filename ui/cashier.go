package ui

import (
	"context"
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
	"qrkiosk/internal/journal"
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

// startFunc records an order in the journal, then starts it and follows it:
// observe gets every event on the machine's goroutine. An error means the
// order could not be recorded, and nothing was sent to the gateway.
type startFunc func(req payment.CreateRequest, observe func(payment.Event)) (*payment.Order, error)

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
	// Journal holds every sale: the recent charges, the history view and
	// the alerts read it.
	Journal *journal.Journal
	// Refunder is the gateway client refunds go through; ManagerPINHash
	// guards them ("" = refunds off).
	Refunder       payment.Refunder
	ManagerPINHash string
	// Ctx is the app's lifetime (refunds and their checks).
	Ctx context.Context
	Now func() time.Time
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
	saleTab       *widget.Button
	historyTab    *widget.Button
	saleView      fyne.CanvasObject
	history       *historyView
	alerts        *alertBar
	stopAlerts    func()
	// holding says why charging waits (the start-up recovery); "" = it does not.
	holding string

	keypad  fyne.CanvasObject // amount, wallets, keys, Charge/Cancel
	content fyne.CanvasObject // the whole pane; its window gives it paneTextSize
}

func newCashier(deps cashierDeps) *cashier {
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Do == nil {
		deps.Do = fyne.Do
	}
	if deps.Ctx == nil {
		deps.Ctx = context.Background()
	}
	if deps.Log == nil {
		deps.Log = slog.New(slog.DiscardHandler)
	}
	if deps.Show == nil {
		deps.Show = func(payment.Snapshot) {}
	}
	c := &cashier{deps: deps, keys: map[string]*widget.Button{}}
	c.wallet = c.lastWallet()
	c.history = newHistoryView(historyDeps{
		Journal: deps.Journal, Refunder: deps.Refunder, PINHash: deps.ManagerPINHash,
		Ctx: deps.Ctx, Do: deps.Do, Log: deps.Log, Now: deps.Now,
	})
	c.alerts = newAlertBar(deps.Journal.Location(), c.openRefund)
	c.build()
	c.refreshAmount()
	c.refreshControls()
	c.refreshRecent()
	c.status.SetText(readyText)
	// Alerts come from the order machines' goroutines.
	c.stopAlerts = deps.Journal.OnAlert(func(a journal.Alert) {
		c.deps.Do(func() { c.onAlert(a) })
	})
	return c
}

// close stops the journal's alerts to this pane.
func (c *cashier) close() { c.stopAlerts() }

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
	wallets := container.NewGridWithColumns(2, walletObjs...)

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

	rows := []fyne.CanvasObject{amountBox, c.message, wallets, withTextSize(container.NewVBox(keys, actions), keypadTextSize)}
	if c.deps.Demo != nil {
		c.demoPay = widget.NewButton("Simulate customer payment", c.onDemoPay)
		c.demoPay.Importance = widget.WarningImportance
		c.demoDecline = widget.NewButton("Simulate decline", c.onDemoDecline)
		rows = append(rows, container.NewGridWithColumns(2, touch(c.demoDecline, 0), touch(c.demoPay, 0)))
	}
	c.keypad = container.NewVBox(rows...)

	c.recent = container.NewVBox()
	recentTitle := widget.NewLabelWithStyle("Recent charges (today)", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	recentList := container.New(atLeast{h: 220}, container.NewVScroll(c.recent))
	below := container.NewVBox(c.status, widget.NewSeparator(), recentTitle, recentList)
	c.saleView = container.NewBorder(below, nil, nil, nil)
	if c.deps.Mirror != nil {
		mirrorTitle := widget.NewLabelWithStyle("Customer screen", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		mirror := container.New(aspect{w: 16, h: 9, minW: 400}, c.deps.Mirror.Content())
		c.saleView = container.NewBorder(mirrorTitle, below, nil, nil, mirror)
	}
	c.history.content.Hide()

	c.saleTab = widget.NewButtonWithIcon("Sale", theme.HomeIcon(), c.onShowSale)
	c.historyTab = widget.NewButtonWithIcon("Today & refunds", theme.HistoryIcon(), c.onShowHistory)
	tabs := container.NewGridWithColumns(2, touch(c.saleTab, 0), touch(c.historyTab, 0))
	right := container.NewBorder(tabs, nil, nil, nil, container.NewStack(c.saleView, c.history.content))
	c.refreshTabs()

	left := container.New(atLeast{w: 460}, c.keypad)
	c.content = container.NewBorder(c.alerts.content, nil, container.NewPadded(left), nil, container.NewPadded(right))
}

// onShowHistory shows today's orders, totals and refunds in place of the
// mirror; the keypad stays where it is.
func (c *cashier) onShowHistory() {
	c.history.refresh()
	c.saleView.Hide()
	c.history.content.Show()
	c.refreshTabs()
}

func (c *cashier) onShowSale() {
	c.history.content.Hide()
	c.saleView.Show()
	c.refreshTabs()
}

func (c *cashier) refreshTabs() {
	onHistory := c.history.content.Visible()
	c.saleTab.Importance, c.historyTab.Importance = widget.HighImportance, widget.MediumImportance
	if onHistory {
		c.saleTab.Importance, c.historyTab.Importance = widget.MediumImportance, widget.HighImportance
	}
	c.saleTab.Refresh()
	c.historyTab.Refresh()
}

// openRefund shows the history view with the refund panel for an order
// (the alert banner's one-tap refund); the manager PIN is still asked.
func (c *cashier) openRefund(outTradeNo string) {
	c.onShowHistory()
	c.history.onRefundOrder(outTradeNo)
}

// onAlert raises a journal alert on the banner. Called on the Fyne goroutine.
func (c *cashier) onAlert(a journal.Alert) {
	c.alerts.onAlert(a)
	c.refreshRecent()
	if c.history.content.Visible() {
		c.history.refresh()
	}
}

// hold stops charging until release: the start-up recovery may give a
// pending order back to the screen.
func (c *cashier) hold(reason string) {
	c.holding = reason
	c.status.SetText(reason)
	c.refreshControls()
}

// onRecovered takes the orders the previous run left unfinished, as
// journal.Recover resumed them: the newest still before its deadline (and
// not being cancelled) becomes the live order again, its QR and countdown
// back on the customer screen; the others settle by themselves and show in
// the history. Called on the Fyne goroutine.
func (c *cashier) onRecovered(orders []*payment.Order, records []journal.Order, err error) {
	c.holding = ""
	if err != nil {
		c.message.SetText("Could not check the orders the last run left unfinished: " + err.Error() + " — they are checked at the next start")
	}
	resume := -1
	for i, rec := range records {
		if !rec.CancelAsked && c.deps.Now().Before(rec.Deadline) && c.live == "" {
			resume = i
		}
	}
	for i, o := range orders {
		if i == resume {
			continue
		}
		o.Observe(func(ev payment.Event) {
			if ev.State.Final() {
				c.deps.Do(c.refreshRecent)
			}
		})
	}
	if resume < 0 {
		if c.live == "" {
			c.status.SetText(readyText)
		}
		c.refreshRecent()
		c.refreshControls()
		return
	}
	o := orders[resume]
	snap := o.Snapshot()
	c.order, c.live = o, snap.OutTradeNo
	c.typed = snap.Amount.String()
	for i, w := range c.deps.Wallets {
		if w.Code == snap.PayType.Code {
			c.wallet = i
		}
	}
	c.refreshAmount()
	c.deps.Log.Info("resumed an order left unfinished", "out_trade_no", snap.OutTradeNo)
	o.Observe(func(ev payment.Event) {
		c.deps.Do(func() { c.onEvent(ev) })
	})
	// Read after observing: no change can fall between the two.
	c.show(o.Snapshot())
	if c.live != "" && c.order.Snapshot().State == payment.StateCreating {
		c.status.SetText("Resuming order " + snap.OutTradeNo + " (" + snap.Amount.Display() + ") left unfinished — checking it with the gateway…")
	}
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
	if c.history.panelOpen() {
		// Enter and Esc belong to the refund then, never to a charge.
		switch e.Name {
		case fyne.KeyReturn, fyne.KeyEnter:
			c.history.onRefundConfirm()
		case fyne.KeyEscape:
			c.history.onRefundClose()
		case fyne.KeyBackspace:
			c.history.onKey(keyBack)
		}
		return
	}
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
	if c.history.panelOpen() {
		c.history.onKey(k)
		return
	}
	if c.live != "" {
		return // the amount of a live order does not change
	}
	c.message.SetText("")
	next, err := typeAmount(c.typed, k, c.deps.Currency)
	if err != nil {
		c.message.SetText(amountProblem(err))
		return
	}
	c.typed = next
	c.refreshAmount()
}

// typeAmount is typed with one more keypad key (a digit, 00, the point,
// back or clear). A key that would make the amount invalid whatever is
// typed next (a third decimal, a twelfth digit, a letter) is refused with
// ParseAmount's error and typed is kept.
func typeAmount(typed, k string, cur payment.Currency) (string, error) {
	switch k {
	case keyBack:
		if typed != "" {
			typed = typed[:len(typed)-1]
		}
		return typed, nil
	case keyClear:
		return "", nil
	}
	next := typed + k
	switch {
	case typed == "" && k == keyPoint:
		next = "0."
	case typed == "" && k == keyDoubleZero:
		return typed, nil
	case typed == "0" && k != keyPoint:
		next = strings.TrimPrefix(k, "0")
		if next == "" {
			next = "0"
		}
	}
	if _, err := payment.ParseAmount(next, cur); err != nil {
		if _, err2 := payment.ParseAmount(next+"1", cur); err2 != nil {
			return typed, err
		}
	}
	return next, nil
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
	c.amount.Color = theme.Color(theme.ColorNameForeground)
	text := c.typed
	if text == "" {
		c.amount.Color = theme.Color(theme.ColorNamePlaceHolder)
		text = payment.Amount{Currency: c.deps.Currency}.String()
	}
	c.amount.Text = payment.DisplayDecimal(text, c.deps.Currency)
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
	if ready && c.holding == "" {
		c.charge.Enable()
		c.cancel.Disable()
	} else if ready {
		c.charge.Disable()
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
	if c.live != "" || c.holding != "" {
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
	c.onShowSale()
	c.deps.Log.Info("charge", "out_trade_no", req.OutTradeNo, "amount", amt.String(), "currency", amt.Currency.Code, "pay_type", pt.Code)
	o, err := c.deps.Start(req, func(ev payment.Event) {
		c.deps.Do(func() { c.onEvent(ev) })
	})
	if err != nil {
		c.deps.Log.Error("charge not recorded", "out_trade_no", req.OutTradeNo, "err", err)
		c.message.SetText("The sale could not be recorded, so nothing was charged: " + err.Error())
		return
	}
	c.live, c.order = req.OutTradeNo, o
	c.show(o.Snapshot())
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

// onEvent shows an order's change. Called on the Fyne goroutine.
func (c *cashier) onEvent(ev payment.Event) {
	if ev.OutTradeNo != c.live {
		// An earlier order: only a late payment still matters; the
		// journal's alert raises it on the banner.
		if ev.Kind == payment.EventPaidLate {
			c.refreshRecent()
		}
		return
	}
	c.show(ev.Snapshot)
}

// show puts the live order's snapshot on the screens and the pane.
func (c *cashier) show(snap payment.Snapshot) {
	if c.deps.Mirror != nil {
		c.deps.Mirror.Show(snap)
	}
	c.deps.Show(snap)
	c.status.SetText(statusText(snap))
	if snap.State.Final() {
		c.live, c.order = "", nil
		c.refreshRecent()
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
		if !o.State.Final() || o.OutTradeNo == c.live {
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
