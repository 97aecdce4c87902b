package ui

import (
	"context"
	"log/slog"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"

	"qrkiosk/display"
	"qrkiosk/internal/journal"
	"qrkiosk/internal/kiosk"
	"qrkiosk/internal/pin"
	"qrkiosk/internal/sound"
	"qrkiosk/internal/webdisplay"
	"qrkiosk/payment"
)

// startFunc records an order in the journal, then starts it and follows it:
// observe gets every event on the machine's goroutine. An error means the
// order could not be recorded, and nothing was sent to the gateway.
type startFunc func(req payment.CreateRequest, observe func(payment.Event)) (*payment.Order, error)

// cashierDeps is everything the cashier pane needs from the app.
type cashierDeps struct {
	Currency  payment.Currency
	Wallets   []payment.PayType // the enabled pay types, in the order to list them
	Expiry    time.Duration
	GoodsName string
	Prefs     fyne.Preferences
	Start     startFunc
	// Till is the kiosk's one till, which the shop's POS drives too
	// (nil: a till of the pane's own over Start).
	Till *kiosk.Till
	// POSLink, under Today & refunds, says where the POS reaches the
	// kiosk and which CA it trusts; "" without a POS.
	POSLink string
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
	// Size is the window the pane is built for: its text and touch
	// targets are sized from it (zero: 1280×800).
	Size fyne.Size
	// Sound plays a cue (nil: silent).
	Sound func(sound.Cue)
	// NewOutTradeNo numbers a sale (nil: payment.NewOutTradeNo, "QK…").
	NewOutTradeNo func(now time.Time) string
	// CPM is the pay type a scanned customer code is charged with (the
	// gateway's all-in-one type); nil: this gateway takes no scanned codes.
	CPM *payment.PayType
	// Ask shows the customer screen's request for a payment code for an
	// amount, and Idle its welcome (the cashier stopped waiting), on the
	// Fyne goroutine. The mirror is asked by the pane itself.
	Ask  func(payment.Amount)
	Idle func()
	// Displays are the paired browser customer displays, and
	// ServeDisplays starts the kiosk's LAN server with their routes and
	// says its address; both nil: none (the pane offers no Customer
	// displays).
	Displays      *webdisplay.Displays
	ServeDisplays func() (string, error)
	// KeyNow is when a key is pressed (nil: time.Now), and AfterFunc runs f
	// after d on another goroutine (nil: time.AfterFunc), returning its
	// stop: the scanner's bursts are told from typing by them.
	KeyNow    func() time.Time
	AfterFunc func(d time.Duration, f func()) (stop func() bool)
	// SetupPhone opens "Set up from a phone" once the manager PIN is
	// typed (nil: the pane has no such button).
	SetupPhone func()
	// Printer prints receipts (nil: no printer); ShowReceipt puts a paid
	// sale's e-receipt link on the customer screen, on the Fyne goroutine
	// (receipt.go).
	Printer     receiptPrinter
	ShowReceipt func(outTradeNo, link string)
}

// cashier is the cashier's pane, in parts that each own their widgets and
// state: the sale being charged, the amount and the keypad, the wallets,
// the wait for a customer's code, Sale / Today & refunds, the customer
// screens, the recent charges, the alerts, the demo customer, the dialog
// over it all and what only the manager opens. The pane passes events
// between them: it starts orders and shows what their machines report; it
// never decides an order's state itself.
type cashier struct {
	deps cashierDeps
	m    metrics

	sale     *sale
	amount   *amountField
	keypad   *keypad
	keyboard *keyboard
	wallets  *walletPicker
	scan     *scanFlow
	tabs     *tabs
	screens  *customerScreens
	recent   *recentCharges
	alerts   *alertBar
	demo     *demoRow
	dialogs  *dialogs
	manager  *managerTools
	// posRefund is the POS's refund waiting for the manager PIN; nil
	// when none.
	posRefund *posRefund
	receipt   *receiptRow
	displays  *displayTools // nil without browser displays

	stopAlerts func()
	stopTill   func()
	layout     *paneLayout
	content    fyne.CanvasObject // the whole pane
}

// withDefaults fills in what the app may leave out.
func (deps cashierDeps) withDefaults() cashierDeps {
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
	if deps.Till == nil {
		deps.Till = kiosk.NewTill(kiosk.StartFunc(deps.Start), deps.Log)
	}
	if deps.Show == nil {
		deps.Show = func(payment.Snapshot) {}
	}
	if deps.Sound == nil {
		deps.Sound = func(sound.Cue) {}
	}
	if deps.NewOutTradeNo == nil {
		deps.NewOutTradeNo = func(now time.Time) string { return payment.NewOutTradeNo("QK", now) }
	}
	if deps.Size.IsZero() {
		deps.Size = fyne.NewSize(1280, 800)
	}
	if deps.Ask == nil {
		deps.Ask = func(payment.Amount) {}
	}
	if deps.Idle == nil {
		deps.Idle = func() {}
	}
	if deps.KeyNow == nil {
		deps.KeyNow = time.Now
	}
	if deps.ShowReceipt == nil {
		deps.ShowReceipt = func(string, string) {}
	}
	if deps.AfterFunc == nil {
		deps.AfterFunc = func(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop }
	}
	return deps
}

func newCashier(deps cashierDeps) *cashier {
	deps = deps.withDefaults()
	var web customerScreen
	if deps.Displays != nil && deps.ServeDisplays != nil {
		web = deps.Displays
		deps.Sound = withDisplayCues(deps.Sound, deps.Displays)
	}
	m := metricsFor(deps.Size)
	c := &cashier{deps: deps, m: m}
	c.sale = newSale()
	c.amount = newAmountField(deps.Currency, m)
	c.keypad = newKeypad(deps.Currency, m, c.tapKey, c.onCharge, c.onCancel)
	c.keyboard = &keyboard{now: deps.KeyNow, after: deps.AfterFunc, do: deps.Do, act: c.act}
	c.scan = newScanFlow(deps.CPM != nil, c.onScan)
	c.wallets = newWalletPicker(deps.Wallets, deps.Prefs, m, c.onWallet, c.scan.button)
	c.screens = newCustomerScreens(deps.Mirror, web, deps.Show, deps.Ask, deps.Idle)
	c.screens.onReceipt = deps.ShowReceipt
	c.recent = newRecentCharges(deps.Journal, deps.Ctx)
	c.demo = newDemoRow(deps.Demo, c.sale)
	c.dialogs = &dialogs{m: m}
	// One count of wrong manager PINs, wherever they are typed.
	pins := pin.NewGuard(deps.Now)
	c.manager = &managerTools{hash: deps.ManagerPINHash, pins: pins, dialogs: c.dialogs, do: deps.Do, log: deps.Log, setupPhone: deps.SetupPhone}
	var tools []fyne.CanvasObject
	if web != nil {
		c.displays = newDisplayTools(deps.Displays, deps.ServeDisplays, c.manager, c.dialogs, deps.Do, deps.Log, m)
		tools = append(tools, c.displays.tool())
	}
	if t := c.manager.toolbar(m.touch); t != nil {
		tools = append(tools, t)
	}
	relayout := func() {
		if c.content != nil {
			c.content.Refresh()
		}
	}
	c.tabs = newTabs(newHistoryView(historyDeps{
		Journal: deps.Journal, Refunder: deps.Refunder, PINHash: deps.ManagerPINHash, PINs: pins,
		Ctx: deps.Ctx, Do: deps.Do, Log: deps.Log, Now: deps.Now, Touch: m.touch,
		OnPanel: relayout, POSLink: deps.POSLink, Tools: tools, Printer: deps.Printer,
	}), relayout)
	c.receipt = newReceiptRow(deps.Printer, deps.Ctx, deps.Do, c.tabs.history.printStatus)
	c.alerts = newAlertBar(deps.Journal.Location(), m, c.tabs.openRefund)
	c.build()
	c.amount.refresh()
	c.refreshControls()
	c.recent.refresh(c.sale.live)
	c.sale.status.SetText(readyText)
	// Alerts come from the order machines' goroutines.
	c.stopAlerts = deps.Journal.OnAlert(func(a journal.Alert) {
		c.deps.Do(func() { c.onAlert(a) })
	})
	// The till reports from the order machines' goroutines and the POS's.
	c.stopTill = deps.Till.Observe(func(ev kiosk.TillEvent) {
		c.deps.Do(func() { c.onTill(ev) })
	})
	return c
}

// close stops the journal's alerts, the till's events and the printer's
// reports to this pane.
func (c *cashier) close() {
	c.stopAlerts()
	c.stopTill()
	c.receipt.stop()
}

const readyText = "Ready — type the amount and press Enter"

// build puts the parts' boxes in the pane, for paneLayout to place.
func (c *cashier) build() {
	c.layout = &paneLayout{c: c}
	objs := []fyne.CanvasObject{c.alerts.content, c.tabs.box, c.amount.box, c.sale.message, c.keypad.box, c.wallets.grid, c.sale.status, c.recent.box, c.tabs.history.content}
	for _, o := range []fyne.CanvasObject{c.demo.mark, c.demo.row, c.screens.box, c.receipt.row} {
		if o != nil {
			objs = append(objs, o)
		}
	}
	c.content = container.New(c.layout, objs...)
}

// onAlert raises a journal alert on the banner. Called on the Fyne goroutine.
func (c *cashier) onAlert(a journal.Alert) {
	if c.alerts.onAlert(a) {
		c.deps.Sound(sound.Problem)
	}
	c.content.Refresh()
	c.recent.refresh(c.sale.live)
	if c.tabs.onHistory() {
		c.tabs.history.refresh()
	}
}

func (c *cashier) onWallet(i int) {
	if c.sale.live != "" {
		return
	}
	c.wallets.selected = i
	c.refreshControls()
}

// refreshControls enables what makes sense now: the keypad and Charge when
// ready, Cancel while an order is live, the demo buttons while a QR shows.
func (c *cashier) refreshControls() {
	ready := c.sale.live == "" && !c.scan.waiting
	c.keypad.refresh(ready, c.sale.holding == "")
	c.wallets.refresh(ready)
	c.scan.refresh(ready && c.sale.holding == "")
	c.demo.refresh(ready)
	c.receipt.refresh(ready)
}
