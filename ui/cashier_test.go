package ui

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"qrkiosk/display"
	"qrkiosk/internal/journal"
	"qrkiosk/internal/scan"
	"qrkiosk/internal/settle"
	"qrkiosk/internal/webdisplay"
	"qrkiosk/payment"
	"qrkiosk/payment/paymenttest"
	"qrkiosk/payment/qfpay"
	"qrkiosk/sim/qfpaysim"
)

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

// harness is a cashier pane on Fyne's test driver, charging against the
// in-memory gateway on a manual clock. The pane's fyne.Do callbacks queue up
// and run on the test goroutine (pump), as they would on Fyne's.
type harness struct {
	t   *testing.T
	gw  *paymenttest.Gateway
	clk *paymenttest.Clock
	j   *journal.Journal
	ctx context.Context
	// sim, when set, is the gateway instead of gw (refunds need it).
	sim       *qfpaysim.Sim
	simClient *qfpay.Client
	orders    []*payment.Order
	c         *cashier
	w         fyne.Window
	queued    chan func()
	shown     []payment.Snapshot // what the customer screen was given
	single    *singleLayout      // the tablet layout, when harnessOpt.single
	sales     int
	prefs     fyne.Preferences
	// The keyboard's clock and the pending release of keys the scanner
	// detector holds (typeText, typeAt); asked: the amounts the customer
	// screen was asked a payment code for.
	keyNow    time.Time
	flushKeys func()
	asked     []payment.Amount
	idled     int
}

func mustPayType(t *testing.T, w string) payment.PayType {
	t.Helper()
	p, err := payment.LookupPayType(w)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func mustCurrency(t *testing.T, code string) payment.Currency {
	t.Helper()
	c, err := payment.LookupCurrency(code)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type harnessOpt struct {
	currency string
	wallets  []string
	prefs    fyne.Preferences
	demo     bool
	// dir is the journal's directory (default: a new temp dir); pinHash
	// the manager PIN's hash; refunder the gateway refunds go to.
	dir      string
	pinHash  string
	refunder payment.Refunder
	sim      bool
	gw       *paymenttest.Gateway
	// size is the window (default 1280×800); single: the tablet's one
	// window (light, no mirror, the customer screen in the same window).
	size   fyne.Size
	single bool
	// noCPM: a gateway that takes no scanned customer codes.
	noCPM bool
	// printer is the receipt printer (nil: none).
	printer receiptPrinter
	// displays are browser displays served by serveDisplays.
	displays      *webdisplay.Displays
	serveDisplays func() (string, error)
}

func newHarness(t *testing.T, o harnessOpt) *harness {
	t.Helper()
	app := test.NewTempApp(t)
	if o.currency == "" {
		o.currency = "HKD"
	}
	if o.wallets == nil {
		o.wallets = []string{"alipayhk", "wechat", "payme"}
	}
	if o.prefs == nil {
		o.prefs = app.Preferences()
	}
	if o.size.IsZero() {
		o.size = fyne.NewSize(1280, 800)
	}
	app.Settings().SetTheme(&paneTheme{Theme: display.Theme(theme.DefaultTheme()), text: metricsFor(o.size).text, light: o.single})
	h := &harness{t: t, gw: o.gw, clk: paymenttest.NewClock(t0), queued: make(chan func(), 256), prefs: o.prefs, keyNow: t0}
	if h.gw == nil {
		h.gw = paymenttest.NewGateway()
	}
	if o.sim {
		h.sim, h.simClient = newSim(t, h.clk.Now)
		if o.refunder == nil {
			o.refunder = h.simClient
		}
	}
	var wallets []payment.PayType
	for _, w := range o.wallets {
		wallets = append(wallets, mustPayType(t, w))
	}
	if o.dir == "" {
		o.dir = t.TempDir()
	}
	j, err := journal.Open(journal.Options{Dir: o.dir, UDID: "test-kiosk", Now: h.clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	h.j = j
	ctx, cancel := context.WithCancel(context.Background())
	h.ctx = ctx
	t.Cleanup(func() {
		cancel()
		for _, o := range h.orders {
			<-o.Closed()
		}
		j.Close()
	})
	deps := cashierDeps{
		Currency: mustCurrency(t, o.currency),
		Wallets:  wallets,
		Expiry:   5 * time.Minute,
		Prefs:    o.prefs,
		Now:      h.clk.Now,
		Do:       func(f func()) { h.queued <- f },
		// The mirror's clock is past every deadline so that its countdown
		// never ticks from a timer goroutine into the next test (Fyne's test
		// driver runs fyne.Do on the caller); display/ tests the countdown.
		Mirror: display.NewScreen(display.ScreenConfig{MerchantName: "Test Shop", Wallets: wallets,
			Now: func() time.Time { return t0.Add(24 * time.Hour) }, ResultHold: time.Hour}),
		Show: func(s payment.Snapshot) { h.shown = append(h.shown, s) },
		Start: func(req payment.CreateRequest, observe func(payment.Event)) (*payment.Order, error) {
			o, err := settle.Start(ctx, j, h.machine(), req, observe)
			if err == nil {
				h.orders = append(h.orders, o)
			}
			return o, err
		},
		Journal:  j,
		Refunder: o.refunder,
		// The real pane's Today & refunds has Set up from a phone.
		SetupPhone:     func() {},
		ManagerPINHash: o.pinHash,
		Ctx:            ctx,
		Size:           o.size,
		// Numbered in order, so that screens and golden images are the
		// same on every run.
		NewOutTradeNo: func(now time.Time) string {
			h.sales++
			return fmt.Sprintf("QK%s%016d", now.UTC().Format("20060102150405"), h.sales)
		},
		Ask:    func(a payment.Amount) { h.asked = append(h.asked, a) },
		Idle:   func() { h.idled++ },
		KeyNow: func() time.Time { return h.keyNow },
		AfterFunc: func(d time.Duration, f func()) func() bool {
			h.flushKeys = f
			return func() bool { h.flushKeys = nil; return true }
		},
	}
	if !o.noCPM {
		cpm, err := payment.LookupCPMPayType(payment.AllInOneCPM)
		if err != nil {
			t.Fatal(err)
		}
		deps.CPM = &cpm
	}
	if o.demo {
		deps.Demo = fakeDemo{h.gw}
	}
	deps.Printer = o.printer
	deps.Displays, deps.ServeDisplays = o.displays, o.serveDisplays
	content := func() fyne.CanvasObject { return h.c.content }
	if o.single {
		customer := display.NewScreen(display.ScreenConfig{MerchantName: "Test Shop", Wallets: wallets, Demo: o.demo, OnWhite: true,
			Now: func() time.Time { return t0.Add(24 * time.Hour) }, ResultHold: time.Hour})
		h.single = newSingleLayout(customer, time.Hour, deps.Do)
		deps.Mirror = nil
		deps.Show = func(s payment.Snapshot) {
			h.shown = append(h.shown, s)
			h.single.onSnapshot(s)
		}
		content = func() fyne.CanvasObject {
			h.c.tabs.guard = h.c.manager.askPIN
			h.single.build(h.c, o.demo)
			return h.single.content
		}
	}
	h.c = newCashier(deps)
	t.Cleanup(h.c.close)
	h.w = test.NewWindow(content())
	h.w.SetPadded(false)
	h.w.Resize(o.size)
	h.c.attach(h.w.Canvas())
	t.Cleanup(func() {
		// Leave no countdown ticking into the next test.
		if h.c.sale.live != "" {
			h.c.onCancel()
			h.ready()
		}
		h.w.Close()
	})
	return h
}

// machine is the harness's order machine configuration: the in-memory
// gateway on the manual clock.
func (h *harness) machine() payment.MachineConfig {
	var gw payment.Gateway = h.gw
	if h.simClient != nil {
		gw = h.simClient
	}
	return payment.MachineConfig{Gateway: gw, Clock: h.clk, PollFast: 2 * time.Second, PollSlow: 15 * time.Second, SettleRetry: 5 * time.Second}
}

type fakeDemo struct{ gw *paymenttest.Gateway }

func (d fakeDemo) Pay(s payment.Snapshot) error { return d.gw.Pay(s.OutTradeNo) }
func (d fakeDemo) Decline(s payment.Snapshot) error {
	return d.gw.Decline(s.OutTradeNo, qfpay.CodeInsufficientBalance)
}

// pump runs queued UI callbacks until cond holds.
func (h *harness) pump(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.After(5 * time.Second)
	for !cond() {
		select {
		case f := <-h.queued:
			f()
		case <-deadline:
			h.t.Fatalf("timed out waiting for %s; gateway calls %v, status %q", what, h.gw.Calls(), h.c.sale.status.Text)
		}
	}
}

// awaiting waits until the customer screen has the order's QR.
func (h *harness) awaiting() payment.Snapshot {
	h.t.Helper()
	h.pump("the QR", func() bool {
		return len(h.shown) > 0 && h.shown[len(h.shown)-1].State == payment.StateAwaitingPayment && h.shown[len(h.shown)-1].QRCode != ""
	})
	return h.shown[len(h.shown)-1]
}

// tick advances the clock once the machine waits on its deadline and poll.
func (h *harness) tick(d time.Duration) {
	h.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for h.clk.Pending() < 2 {
		if time.Now().After(deadline) {
			h.t.Fatalf("machine never waited: calls %v", h.gw.Calls())
		}
		time.Sleep(time.Millisecond)
	}
	h.clk.Advance(d)
}

func (h *harness) ready() payment.Snapshot {
	h.t.Helper()
	h.pump("the order to end", func() bool { return h.c.sale.live == "" })
	return h.shown[len(h.shown)-1]
}

// amountShown is the amount as the cashier reads it: what was typed and
// its muted completion.
func (h *harness) amountShown() string { return h.c.amount.shown.Text + h.c.amount.rest.Text }

// typeText types s on the keyboard at a person's pace.
func (h *harness) typeText(s string) {
	h.t.Helper()
	h.typeAt(personGap, s)
}

// typeAt types s on the keyboard a key every gap ('\n' is Enter), then
// lets the keyboard rest (keysSettle).
func (h *harness) typeAt(gap time.Duration, s string) {
	h.t.Helper()
	for _, r := range s {
		h.keyNow = h.keyNow.Add(gap)
		switch {
		case r == '\n':
			h.w.Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyReturn})
		case r >= '0' && r <= '9':
			// As GLFW reports it: the key, then its rune.
			h.w.Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyName(string(r))})
			h.w.Canvas().OnTypedRune()(r)
		default:
			h.w.Canvas().OnTypedRune()(r)
		}
	}
	h.keysSettle()
}

// keysSettle is the keyboard quiet for longer than a scanner ever pauses:
// the held run is judged (as its timer would, through Do).
func (h *harness) keysSettle() {
	h.keyNow = h.keyNow.Add(scan.RunGap + time.Millisecond)
	if f := h.flushKeys; f != nil {
		h.flushKeys = nil
		f()
		h.pump("the held keys", func() bool { return len(h.queued) == 0 })
	}
}

func (h *harness) tapKeys(keys ...string) {
	for _, k := range keys {
		test.Tap(h.c.keypad.keys[k])
	}
}

func TestTappingAndTypingAmounts(t *testing.T) {
	h := newHarness(t, harnessOpt{})
	if got := h.amountShown(); got != "HK$0.00" {
		t.Fatalf("idle amount %q", got)
	}
	h.tapKeys("1", "2", "3", keyPoint, "4", "5")
	if got := h.amountShown(); got != "HK$123.45" {
		t.Fatalf("tapped amount %q", got)
	}
	h.tapKeys(keyBack, keyBack, keyBack)
	h.tapKeys(keyDoubleZero, keyDoubleZero)
	if got := h.amountShown(); got != "HK$1,230,000.00" {
		t.Fatalf("after backspace and 00: %q", got)
	}
	h.tapKeys(keyClear)
	h.typeText("0012.5")
	if got := h.amountShown(); got != "HK$12.50" {
		t.Fatalf("typed amount %q", got)
	}
	h.w.Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyBackspace})
	h.w.Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyBackspace})
	if got := h.amountShown(); got != "HK$12.00" {
		t.Fatalf("after two backspaces %q", got)
	}
	h.w.Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyEscape}) // idle: Esc clears
	if h.c.amount.typed != "" || h.c.sale.message.Text != "" {
		t.Fatalf("Esc when idle: typed %q message %q", h.c.amount.typed, h.c.sale.message.Text)
	}
	if h.gw.Count("create") != 0 {
		t.Fatal("typing reached the gateway")
	}
}

func TestInvalidInputNeverReachesGateway(t *testing.T) {
	for _, tc := range []struct {
		name, currency, typed string
		enter                 bool
		want                  string // in the message
		amount                string // what stays on screen
	}{
		{"third decimal", "HKD", "1.234", false, "more than 2 decimal places", "HK$1.23"},
		{"letter", "HKD", "12a", false, "must be a number", "HK$12.00"},
		{"sign", "HKD", "5-", false, "must not have a sign", "HK$5.00"},
		{"second point", "HKD", "1.2.", false, "at most one decimal point", "HK$1.20"},
		{"too large", "HKD", "12345678901", false, "at most 999999999.99", "HK$123,456,789.00"},
		{"empty", "HKD", "", true, "Amount is required", "HK$0.00"},
		{"zero", "HKD", "0.00", true, "greater than zero", "HK$0.00"},
		{"yen point", "JPY", "5.", false, "JPY has no decimal places", "¥5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, harnessOpt{currency: tc.currency})
			h.typeText(tc.typed)
			if tc.enter {
				h.w.Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyReturn})
			}
			if !strings.Contains(h.c.sale.message.Text, tc.want) {
				t.Errorf("message %q, want it to say %q", h.c.sale.message.Text, tc.want)
			}
			if h.amountShown() != tc.amount {
				t.Errorf("amount shows %q, want %q", h.amountShown(), tc.amount)
			}
			if calls := h.gw.Calls(); len(calls) != 0 || h.c.sale.live != "" {
				t.Errorf("invalid input reached the gateway: %v", calls)
			}
		})
	}
}

func TestPointKeyOnlyForCurrenciesWithDecimals(t *testing.T) {
	if h := newHarness(t, harnessOpt{currency: "JPY"}); !h.c.keypad.keys[keyPoint].Disabled() {
		t.Error("JPY has no minor unit: the point key must be disabled")
	}
	if h := newHarness(t, harnessOpt{currency: "HKD"}); h.c.keypad.keys[keyPoint].Disabled() {
		t.Error("HKD: point key disabled")
	}
}

func TestTouchTargets(t *testing.T) {
	h := newHarness(t, harnessOpt{demo: true})
	buttons := []fyne.CanvasObject{h.c.keypad.charge, h.c.keypad.cancel, h.c.demo.pay, h.c.demo.decline, h.c.tabs.saleTab, h.c.tabs.historyTab}
	for _, b := range h.c.keypad.keys {
		buttons = append(buttons, b)
	}
	for _, b := range h.c.wallets.buttons {
		buttons = append(buttons, b)
	}
	for _, b := range buttons {
		if s := b.Size(); s.Width < minTouch || s.Height < minTouch {
			t.Errorf("%T %v is %v, smaller than %d×%d", b, b, s, minTouch, minTouch)
		}
	}
}

func TestWalletSelectorListsEnabledAndPreselectsLastUsed(t *testing.T) {
	h := newHarness(t, harnessOpt{wallets: []string{"payme", "fps", "octopus"}})
	var labels []string
	for _, b := range h.c.wallets.buttons {
		labels = append(labels, b.Text)
	}
	if got := strings.Join(labels, "|"); got != "PayMe|FPS  轉數快|Octopus  八達通" {
		t.Fatalf("wallets %q", got)
	}
	if h.c.wallets.selected != 0 {
		t.Fatalf("first run preselects %d, want the first wallet", h.c.wallets.selected)
	}
	test.Tap(h.c.wallets.buttons[2])
	h.typeText("8")
	h.w.Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyEnter}) // keypad Enter
	snap := h.awaiting()
	if snap.PayType.Wallet != "octopus" {
		t.Fatalf("charged with %s", snap.PayType.Wallet)
	}
	h.c.onCancel()
	h.ready()

	// The next start (same preferences) preselects Octopus: amount + Enter
	// is a whole sale.
	again := newHarness(t, harnessOpt{wallets: []string{"payme", "fps", "octopus"}, prefs: h.prefs})
	if again.c.wallets.selected != 2 {
		t.Fatalf("last used wallet not preselected: %d", again.c.wallets.selected)
	}
	// A last-used wallet that is no longer enabled falls back to the first.
	fewer := newHarness(t, harnessOpt{wallets: []string{"payme", "fps"}, prefs: h.prefs})
	if fewer.c.wallets.selected != 0 {
		t.Fatalf("disabled wallet preselected: %d", fewer.c.wallets.selected)
	}
}

func TestChargeToResultAndBackToReady(t *testing.T) {
	for _, tc := range []struct {
		name   string
		finish func(h *harness, s payment.Snapshot)
		want   payment.State
	}{
		{"paid", func(h *harness, s payment.Snapshot) { h.gw.Pay(s.OutTradeNo); h.tick(2 * time.Second) }, payment.StatePaid},
		{"failed", func(h *harness, s payment.Snapshot) {
			h.gw.Decline(s.OutTradeNo, qfpay.CodeInsufficientBalance)
			h.tick(2 * time.Second)
		}, payment.StateFailed},
		{"expired", func(h *harness, s payment.Snapshot) { h.tick(5 * time.Minute) }, payment.StateExpired},
		{"cancelled", func(h *harness, s payment.Snapshot) {
			h.w.Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyEscape})
		}, payment.StateCancelled},
		{"cancel button", func(h *harness, s payment.Snapshot) { test.Tap(h.c.keypad.cancel) }, payment.StateCancelled},
		{"demo pay", func(h *harness, s payment.Snapshot) { test.Tap(h.c.demo.pay); h.tick(2 * time.Second) }, payment.StatePaid},
		{"demo decline", func(h *harness, s payment.Snapshot) { test.Tap(h.c.demo.decline); h.tick(2 * time.Second) }, payment.StateFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, harnessOpt{demo: strings.HasPrefix(tc.name, "demo")})
			h.tapKeys("1", "2", keyPoint, "3", "4")
			test.Tap(h.c.keypad.charge)
			if !h.c.keypad.charge.Disabled() || h.c.keypad.cancel.Disabled() || !h.c.keypad.keys["5"].Disabled() {
				t.Fatal("while charging: Charge and the keypad must be off, Cancel on")
			}
			snap := h.awaiting()
			if snap.Amount.String() != "12.34" || snap.PayType.Wallet != "alipayhk" || h.gw.Count("create") != 1 {
				t.Fatalf("order %+v, calls %v", snap, h.gw.Calls())
			}
			if h.c.demo.pay != nil && h.c.demo.pay.Disabled() {
				t.Fatal("demo: Simulate customer payment must be on while the QR shows")
			}
			// Typing during a charge changes nothing; Enter does not charge twice.
			h.typeText("9")
			h.w.Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyReturn})
			if h.c.amount.typed != "12.34" || h.gw.Count("create") != 1 {
				t.Fatalf("typing during a charge: typed %q, creates %d", h.c.amount.typed, h.gw.Count("create"))
			}

			tc.finish(h, snap)
			last := h.ready()
			if last.State != tc.want {
				t.Fatalf("customer screen ended on %s, want %s (status %q)", last.State, tc.want, h.c.sale.status.Text)
			}
			if !strings.Contains(h.c.sale.status.Text, strings.ToUpper(tc.want.String())) {
				t.Errorf("status %q", h.c.sale.status.Text)
			}
			day, err := h.j.Today(context.Background())
			if err != nil || len(day.Orders) != 1 || day.Orders[0].State != tc.want || len(h.c.recent.list.Objects) != 1 {
				t.Fatalf("journal %+v (%v), recent rows %d", day.Orders, err, len(h.c.recent.list.Objects))
			}
			// Ready again, from zero however the sale ended: Enter alone
			// must never charge again (a customer who paid late would pay
			// twice).
			if h.c.amount.typed != "" || h.amountShown() != "HK$0.00" || h.c.keypad.charge.Disabled() || !h.c.keypad.cancel.Disabled() || h.c.keypad.keys["5"].Disabled() {
				t.Fatalf("not ready again: typed %q", h.c.amount.typed)
			}
			h.w.Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyReturn})
			if h.gw.Count("create") != 1 || !strings.Contains(h.c.sale.message.Text, "Amount is required") {
				t.Fatalf("Enter after the sale ended: creates %d, message %q", h.gw.Count("create"), h.c.sale.message.Text)
			}
			if h.c.demo.pay != nil && !h.c.demo.pay.Disabled() {
				t.Fatal("demo buttons stay on after the order ended")
			}
		})
	}
}

func TestSecondSaleAfterFirst(t *testing.T) {
	h := newHarness(t, harnessOpt{})
	h.typeText("5")
	h.w.Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyReturn})
	first := h.awaiting()
	h.gw.Pay(first.OutTradeNo)
	h.tick(2 * time.Second)
	h.ready()
	h.typeText("7.5")
	h.w.Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyReturn})
	second := h.awaiting()
	if second.OutTradeNo == first.OutTradeNo || second.Amount.String() != "7.50" {
		t.Fatalf("second sale %+v", second)
	}
	// The recent charges list the finished sale, not the live one.
	if len(h.c.recent.list.Objects) != 1 || !strings.Contains(h.c.recent.list.Objects[0].(*widget.Label).Text, "HK$5.00") {
		t.Fatalf("recent rows %d", len(h.c.recent.list.Objects))
	}
	day, _ := h.j.Today(context.Background())
	if len(day.Orders) != 2 || day.Orders[0].OutTradeNo != first.OutTradeNo || day.Orders[1].OutTradeNo != second.OutTradeNo {
		t.Fatalf("journal %+v", day.Orders)
	}
}
