// Package ui shows an assembled kiosk (internal/kiosk) in Fyne windows, the
// cashier pane and the customer screen in the dual or the tablet layout,
// and assembles nothing itself.
package ui

import (
	"context"
	"image"
	_ "image/jpeg" // the merchant's logo
	_ "image/png"
	"log/slog"
	"os"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"github.com/go-gl/glfw/v3.4/glfw"

	"qrkiosk/assets"
	"qrkiosk/display"
	"qrkiosk/internal/config"
	"qrkiosk/internal/kiosk"
	"qrkiosk/internal/pin"
	"qrkiosk/internal/sound"
	"qrkiosk/internal/watchdog"
	"qrkiosk/payment"
)

// AppID is the Fyne app ID (FyneApp.toml); preferences are stored under it.
const AppID = "hk.qrkiosk.app"

// Run opens the kiosk's windows on an assembled kiosk and returns the exit
// code when they close (or ctx ends: SIGINT/SIGTERM). A live order is
// withdrawn and settled before it returns.
func Run(ctx context.Context, k *kiosk.Kiosk, o kiosk.WindowOptions) int {
	log := k.Logger()
	// Fyne creates its cache under the user's cache directory but not that
	// directory itself: on a new account without one it logs two errors.
	if dir, err := os.UserCacheDir(); err == nil {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			log.Warn("cannot create the user cache directory", "dir", dir, "err", err)
		}
	}
	a := app.NewWithID(AppID)
	a.SetIcon(assets.Icon())
	// Refunds and their checks end with the window, before the kiosk
	// closes its journal.
	rctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := newWindows(a, k, o, rctx)
	w.runCtx = ctx
	// Fyne ends its loop by itself on SIGTERM too: from then on fyne.Do
	// would run calls off the main thread, after the driver is gone.
	a.Lifecycle().SetOnStopped(func() { w.stopped.Store(true) })
	defer func() {
		w.cashier.close()
		w.stopEReceipts()
		// A kiosk the saved settings opened is this window's to close;
		// the one it was given is its caller's.
		if w.kiosk != k {
			w.kiosk.Close()
		}
	}()
	// Charging waits for the recovery: a pending order may take the
	// screens back.
	w.cashier.hold("Checking what the last run left unfinished…")
	recovered := make(chan struct{})
	go func() {
		w.recoverAtStart(ctx, k)
		close(recovered)
	}()
	go func() {
		<-ctx.Done()
		fyne.Do(w.quit)
	}()
	if o.DemoCharge != "" {
		go func() {
			// Once the windows are up, as a cashier would.
			<-recovered
			time.Sleep(500 * time.Millisecond)
			fyne.Do(func() {
				w.cashier.onKey(keyClear)
				w.typeAmount(o.DemoCharge)
				w.cashier.onCharge()
			})
		}()
	}
	// Under systemd (the packaged unit): READY=1 once the event loop runs,
	// then WATCHDOG=1 from it, so a frozen window gets the kiosk restarted.
	watchdog.Start(ctx, k.Getenv, fyne.Do, log)
	a.Run()
	w.afterRun()
	return 0
}

// recoverAtStart settles what the last run left unfinished (the kiosk's
// Recover, as every subcommand runs it). Charging waits meanwhile, so a
// pending order can take the screen back.
func (w *windows) recoverAtStart(ctx context.Context, k *kiosk.Kiosk) {
	rec, err := k.Recover(ctx)
	if rec == nil {
		w.log.Error("recovering unfinished orders", "err", err)
		w.do(func() { w.cashier.onRecovered(nil, nil, err) })
		return
	}
	w.do(func() { w.cashier.onRecovered(rec.Orders, rec.Records, nil) })
}

// windows are the app's windows around one cashier pane.
type windows struct {
	app     fyne.App
	cfg     config.Config
	opts    kiosk.WindowOptions
	cashier *cashier
	wins    []fyne.Window
	single  *singleLayout
	log     *slog.Logger
	// kiosk is the one shown; saved settings replace it (setup.go).
	kiosk *kiosk.Kiosk
	// ctx ends with the windows; paneCtx with the kiosk shown (its
	// refunds and their checks); runCtx is Run's (SIGINT/SIGTERM).
	ctx, runCtx context.Context
	paneCtx     context.Context
	paneCancel  context.CancelFunc
	// stopEReceipts ends the shown kiosk's e-receipt links to the screens.
	stopEReceipts func()
	// The windows' sizes, from the monitors at start.
	cashierSize, customerSize fyne.Size
	player                    *sound.Player
	playerOn                  bool
	phone                     *phoneSetup
	// quitting: a live order is being withdrawn before the app closes.
	quitting bool
	// After the event loop has ended (Fyne quits by itself on SIGTERM),
	// UI callbacks queue here and run on the main goroutine instead.
	stopped atomic.Bool
	late    chan func()
	// exitPINs counts wrong kiosk PINs.
	exitPINs *pin.Guard
}

// do is fyne.Do while the event loop runs; afterwards it hands the call to
// afterRun, which runs it on the main goroutine (fyne.Do would then run it
// on the caller's goroutine).
func (w *windows) do(f func()) {
	if !w.stopped.Load() {
		fyne.Do(f)
		return
	}
	select {
	case w.late <- f:
	default: // nobody will look at the screens any more
	}
}

// afterRun withdraws an order still live when the windows closed (SIGTERM:
// Fyne closes them at once) and waits until the gateway has settled it.
func (w *windows) afterRun() {
	w.stopped.Store(true)
	o := w.cashier.sale.order
	if o == nil {
		return
	}
	o.Cancel()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case f := <-w.late:
			f()
		case <-o.Done():
			return
		case <-timeout:
			w.log.Warn("quit with an order not yet settled", "out_trade_no", o.Snapshot().OutTradeNo)
			return
		}
	}
}

func newWindows(a fyne.App, k *kiosk.Kiosk, o kiosk.WindowOptions, ctx context.Context) *windows {
	w := &windows{app: a, opts: o, log: k.Logger(), late: make(chan func(), 64), exitPINs: pin.NewGuard(nil), ctx: ctx, runCtx: ctx}
	// The first window starts the driver: only then can the monitors be
	// asked, and every size below derives from them.
	cw := a.NewWindow("qrkiosk")
	w.wins = []fyne.Window{cw}
	w.cashierSize, w.customerSize = windowSizes(monitors(), o)

	// The tablet's one window is the customer's: a light app theme clears
	// it to the customer screen's white, so that screen paints no
	// background of its own. Set before any widget is built.
	m := metricsFor(w.cashierSize)
	a.Settings().SetTheme(&paneTheme{Theme: display.Theme(theme.DefaultTheme()), text: m.text, light: o.Layout == config.LayoutSingle})
	w.show(k)
	for _, win := range w.wins {
		win.SetCloseIntercept(w.onClose)
	}
	w.wins[0].Show()
	return w
}

// show puts kiosk k on the windows — their titles, the customer screens
// and the cashier pane, built for it — in place of what they showed (the
// kiosk saved settings replaced). The layout stays the one the windows
// were opened with.
func (w *windows) show(k *kiosk.Kiosk) {
	cfg := k.Config
	w.kiosk, w.cfg = k, cfg
	w.paneCtx, w.paneCancel = context.WithCancel(w.ctx)
	if w.stopEReceipts != nil {
		w.stopEReceipts()
	}
	w.stopEReceipts = w.followEReceipts(k)
	title := "qrkiosk"
	if cfg.MerchantName != "" {
		title += " — " + cfg.MerchantName
	}
	if k.Demo != nil {
		title += " — DEMO"
	}
	cw := w.wins[0]
	screenCfg := display.ScreenConfig{MerchantName: cfg.MerchantName, Wallets: cfg.PayTypes, Demo: k.Demo != nil, OnWhite: w.opts.Layout == config.LayoutSingle, Logo: loadLogo(cfg.Logo, w.log),
		Languages: cfg.Languages}
	deps := w.cashierDeps(k, w.paneCtx, w.cashierSize)
	deps.Displays, deps.ServeDisplays = w.displays(k, screenCfg.Logo)
	if w.opts.Layout == config.LayoutSingle {
		cw.SetTitle(title)
		w.openSingle(cw, display.NewScreen(screenCfg), deps, w.cashierSize)
	} else {
		cw.SetTitle(title + " — cashier")
		w.openDual(cw, title, screenCfg, deps, w.cashierSize, w.customerSize)
	}
}

// cashierDeps are the cashier pane's dependencies on the kiosk, but for
// the customer screens, which depend on the layout.
func (w *windows) cashierDeps(k *kiosk.Kiosk, ctx context.Context, size fyne.Size) cashierDeps {
	cfg := k.Config
	if w.player == nil || w.playerOn != cfg.Sound {
		w.player, w.playerOn = sound.New(cfg.Sound, w.log), cfg.Sound
	}
	player := w.player
	deps := cashierDeps{
		Currency:  cfg.Currency,
		Wallets:   cfg.PayTypes,
		Expiry:    cfg.Expiry,
		GoodsName: cfg.MerchantName,
		Prefs:     w.app.Preferences(),
		Start: func(req payment.CreateRequest, observe func(payment.Event)) (*payment.Order, error) {
			return k.Start(req, observe)
		},
		Till:     k.Till,
		Journal:  k.Journal,
		Refunder: k.Gateway,
		// Refunds need the manager PIN; demo mode has a default one.
		ManagerPINHash: cfg.ManagerPINHash,
		Ctx:            ctx,
		Do:             w.do,
		Log:            w.log,
		Size:           size,
		Sound:          player.Play,
	}
	if k.Demo != nil {
		deps.Demo = k.Demo
	}
	deps.CPM = cpmPayType(k.Gateway)
	deps.POSLink = posLink(k)
	deps.SetupPhone = w.openPhoneSetup
	if k.Printer().Configured() {
		deps.Printer = k.Printer()
	}
	return deps
}

// posLink is what the pane says of the kiosk's POS endpoint: where the POS
// reaches it and the CA it imports, with the fingerprint to compare on the
// POS machine.
func posLink(k *kiosk.Kiosk) string {
	if !k.Config.ECR.On() {
		return ""
	}
	l := k.LAN()
	if err := l.Err(); err != nil {
		return "The POS endpoint is not running: " + err.Error()
	}
	return "The shop's POS reaches this kiosk at " + l.URL() + " (QFPay ECR). The POS machine imports the CA " + l.CAPath() +
		" (qrkiosk ecr cert); its SHA-256 fingerprint is " + l.Fingerprint() + "."
}

// openSingle is the tablet: one full-screen window, the keypad and the
// customer screen taking turns in it.
func (w *windows) openSingle(cw fyne.Window, customer *display.Screen, deps cashierDeps, size fyne.Size) {
	w.single = newSingleLayout(customer, display.DefaultResultHold, w.do)
	deps.Show, deps.ShowReceipt = w.single.onSnapshot, w.single.onReceipt
	w.cashier = newCashier(deps)
	// All the day's sales on a screen that faces customers: only
	// after the manager PIN.
	w.cashier.tabs.guard = w.cashier.manager.askPIN
	w.single.build(w.cashier, deps.Demo != nil)
	// Edge to edge: the customer screen's white runs to the bezel,
	// not inside a frame of the cashier theme's background.
	cw.SetPadded(false)
	cw.SetContent(w.single.content)
	cw.Resize(size)
	cw.SetFullScreen(true)
	w.cashier.attach(cw.Canvas())
	customer.SetCanvas(cw.Canvas())
	w.wins = []fyne.Window{cw}
}

// openDual is the cashier's window (cw), with a mirror of the customer
// screen, and the customer's own window, full screen on the other monitor
// when asked.
func (w *windows) openDual(cw fyne.Window, title string, screenCfg display.ScreenConfig, deps cashierDeps, cashierSize, customerSize fyne.Size) {
	customer := display.NewScreen(screenCfg)
	deps.Mirror = display.NewScreen(screenCfg)
	deps.Show = customer.Show
	deps.Ask, deps.Idle, deps.ShowReceipt = customer.AskForCode, customer.Idle, customer.ShowReceipt
	w.cashier = newCashier(deps)
	cw.SetPadded(false)
	cw.SetContent(w.cashier.content)
	cw.Resize(cashierSize)
	var xw fyne.Window
	if len(w.wins) > 1 {
		xw = w.wins[1] // the same window shows the kiosk that replaced one
	} else {
		xw = w.app.NewWindow("")
	}
	xw.SetTitle(title + " — customer display")
	xw.SetPadded(false)
	xw.SetContent(customer.Content())
	xw.Resize(customerSize)
	w.cashier.attach(cw.Canvas())
	w.cashier.attach(xw.Canvas())
	customer.SetCanvas(xw.Canvas())
	deps.Mirror.SetCanvas(cw.Canvas())
	if w.opts.DisplayFullscreen || w.opts.Kiosk {
		fullScreenSecondary(xw)
	}
	if w.opts.Kiosk {
		cw.SetFullScreen(true)
	}
	cw.SetMaster()
	w.wins = []fyne.Window{cw, xw}
	xw.Show()
}

// monitor is a screen's size in pixels.
type monitor struct{ w, h int }

// monitors lists the screens, the primary first, through the GLFW the
// driver has started (Fyne has no API for it); none if it cannot tell.
func monitors() []monitor {
	var out []monitor
	primary := glfw.GetPrimaryMonitor()
	if primary == nil {
		return nil
	}
	px, py := primary.GetPos()
	for _, mon := range glfw.GetMonitors() {
		mode := mon.GetVideoMode()
		if mode == nil {
			continue
		}
		m := monitor{mode.Width, mode.Height}
		if x, y := mon.GetPos(); x == px && y == py {
			out = append([]monitor{m}, out...)
		} else {
			out = append(out, m)
		}
	}
	return out
}

// windowSizes are the windows' sizes from the monitors: the single layout
// and the kiosk take their whole screen; otherwise the cashier window
// fits the primary screen and the customer window (16:9) the other one,
// or the primary if there is only one.
func windowSizes(mons []monitor, o kiosk.WindowOptions) (cashier, customer fyne.Size) {
	primary := monitor{1280, 800}
	if len(mons) > 0 {
		primary = mons[0]
	}
	second := primary
	if len(mons) > 1 {
		second = mons[1]
	}
	full := func(m monitor) fyne.Size { return fyne.NewSize(float32(m.w), float32(m.h)) }
	cashier = fyne.NewSize(min(1180, float32(primary.w)), min(860, float32(primary.h)))
	if o.Layout == config.LayoutSingle || o.Kiosk {
		cashier = full(primary)
	}
	customer = fyne.NewSize(min(1280, float32(second.w)), min(720, float32(second.h)))
	if customer.Width*9 > customer.Height*16 {
		customer.Width = customer.Height * 16 / 9
	} else {
		customer.Height = customer.Width * 9 / 16
	}
	if o.DisplayFullscreen || o.Kiosk {
		customer = full(second)
	}
	return cashier, customer
}

// loadLogo reads the merchant's logo (config check has made sure it is a
// PNG or JPEG); a logo that cannot be read is logged and left out.
func loadLogo(path string, log *slog.Logger) image.Image {
	if path == "" {
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		log.Warn("logo not shown", "path", path, "err", err)
		return nil
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		log.Warn("logo not shown", "path", path, "err", err)
		return nil
	}
	return img
}

// fullScreenSecondary puts the customer window full screen on a monitor
// other than the primary one when there is one (Fyne 2.8's desktop driver;
// the window manager may still decide), else full screen where it is.
func fullScreenSecondary(w fyne.Window) {
	if dw, ok := w.(desktop.Window); ok {
		dw.RequestFullScreenSecondary()
		return
	}
	w.SetFullScreen(true)
}

// typeAmount types s as the cashier would (used by --demo-charge).
func (w *windows) typeAmount(s string) {
	for _, r := range s {
		w.cashier.typedRune(r)
	}
}

// onClose: closing any window quits, after the PIN in kiosk mode and after
// confirming when an order is live.
func (w *windows) onClose() {
	switch {
	case w.opts.Kiosk:
		w.cashier.dialogs.askExitPIN(w.cfg.PIN, w.exitPINs, w.log, w.quit)
	case w.cashier.sale.live != "":
		w.cashier.dialogs.confirmQuit(w.quit)
	default:
		w.quit()
	}
}

// quit withdraws a live order and waits (with the screens still showing
// "Cancelling…" and the result) until the gateway has settled it, then
// closes the app. An order that cannot be settled in time is left to the
// machine's final query on the next start (the journal).
func (w *windows) quit() {
	o := w.cashier.sale.order
	if o == nil || w.quitting {
		w.app.Quit()
		return
	}
	w.quitting = true
	w.cashier.onCancel()
	go func() {
		select {
		case <-o.Done():
		case <-time.After(10 * time.Second):
			w.log.Warn("quit with an order not yet settled", "out_trade_no", o.Snapshot().OutTradeNo)
		}
		// Fyne may have ended its loop by itself meanwhile (SIGTERM).
		w.do(func() {
			if !w.stopped.Load() {
				w.app.Quit()
			}
		})
	}()
}

// cpmPayType is the pay type a scanned customer code is charged with: the
// gateway's all-in-one type, which tells the wallet from the code; nil if
// the gateway takes no scanned codes.
func cpmPayType(g payment.Gateway) *payment.PayType {
	if _, ok := g.(payment.CPMGateway); !ok {
		return nil
	}
	pt, err := payment.PayTypesOf(g).Lookup(payment.AllInOneCPM)
	if err != nil || pt.Mode != payment.CPM {
		return nil
	}
	return &pt
}
