package ui

import (
	"context"
	"log/slog"
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

// prefLastPayType remembers the wallet of the last charge, so that typing
// an amount and pressing Enter is a whole sale.
const prefLastPayType = "cashier.lastPayType"

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

	keys := c.buildKeys()

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

// touch makes a button at least a touch target (h overrides the height).
func touch(b *widget.Button, h float32) fyne.CanvasObject {
	return container.New(atLeast{w: touchTarget, h: max(h, touchTarget)}, b)
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
