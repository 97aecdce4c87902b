// Package ui is qrkiosk's GUI: the cashier pane, the customer screen's
// windows and layouts, and the wiring to the gateway (or the demo).
package ui

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"

	"qrkiosk/assets"
	"qrkiosk/config"
	"qrkiosk/display"
	"qrkiosk/internal/watchdog"
	"qrkiosk/journal"
)

// AppID is the Fyne app ID (FyneApp.toml); preferences are stored under it.
const AppID = "hk.qrkiosk.app"

// Exit codes of the GUI.
const (
	exitOK      = 0
	exitFailed  = 1
	exitUsage   = 64
	exitNoDispl = 69 // EX_UNAVAILABLE: no display to open a window on
)

// Options is what main hands the GUI.
type Options struct {
	Args   []string // flags after the program name
	Getenv func(string) string
	Stderr io.Writer
	Logger *slog.Logger
}

// flags of the GUI.
type flags struct {
	layout            string
	displayFullscreen bool
	kiosk             bool
	demo              bool
	demoCharge        string
	data              string
}

func parseFlags(args []string, stderr io.Writer) (flags, error) {
	var f flags
	fs := flag.NewFlagSet("qrkiosk", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.layout, "layout", "", `"dual" (cashier window + customer window) or "single" (one full-screen window, tablet kiosk); default from the config, else dual`)
	fs.BoolVar(&f.displayFullscreen, "display-fullscreen", false, "dual layout: make the customer window full screen, on the second monitor if there is one")
	fs.BoolVar(&f.kiosk, "kiosk", false, "full screen; closing or quitting asks for the configured PIN")
	fs.BoolVar(&f.demo, "demo", false, "demo mode even when gateway credentials are configured")
	fs.StringVar(&f.demoCharge, "demo-charge", "", "demo mode: ring up this amount at start (for smoke tests, benchmarks and screenshots)")
	fs.StringVar(&f.data, "data", "", "the journal's directory (default $"+journal.EnvData+", else $XDG_DATA_HOME/qrkiosk); demo mode uses its demo/ subdirectory")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: qrkiosk [--data DIR] [--layout dual|single] [--display-fullscreen] [--kiosk] [--demo]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return f, err
	}
	if fs.NArg() > 0 {
		return f, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return f, nil
}

// noDisplay explains how to run without a desktop, or "" when a display
// is there (or the platform does not use X11/Wayland).
func noDisplay(getenv func(string) string) string {
	switch runtime.GOOS {
	case "windows", "darwin", "android", "ios", "js":
		return ""
	}
	if getenv("DISPLAY") != "" || getenv("WAYLAND_DISPLAY") != "" {
		return ""
	}
	return `qrkiosk: no display (neither DISPLAY nor WAYLAND_DISPLAY is set), so no window can open.
Run it on the kiosk's desktop, or in a virtual X server:
    xvfb-run -a ./bin/qrkiosk
or
    Xvfb :99 -screen 0 1920x1080x24 &  DISPLAY=:99 ./bin/qrkiosk
Subcommands that open no window still work here: qrkiosk charge, qrkiosk config check.`
}

// Run opens the kiosk's windows and returns the exit code when they close
// (or ctx ends: SIGINT/SIGTERM).
func Run(ctx context.Context, o Options) int {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	f, err := parseFlags(o.Args, o.Stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		fmt.Fprintln(o.Stderr, "qrkiosk:", err)
		return exitUsage
	}
	if msg := noDisplay(o.Getenv); msg != "" {
		fmt.Fprintln(o.Stderr, msg)
		return exitNoDispl
	}
	path, err := config.DefaultPath(o.Getenv)
	if err != nil {
		fmt.Fprintln(o.Stderr, "qrkiosk:", err)
		return exitUsage
	}
	cfg, err := config.Load(path, o.Getenv)
	if err != nil {
		fmt.Fprintf(o.Stderr, "qrkiosk: the configuration is not valid (qrkiosk config check says more):\n%v\n", err)
		return exitUsage
	}
	if f.layout != "" {
		cfg.Layout = strings.ToLower(f.layout)
		if cfg.Layout != config.LayoutDual && cfg.Layout != config.LayoutSingle {
			fmt.Fprintf(o.Stderr, "qrkiosk: --layout %q: must be dual or single\n", f.layout)
			return exitUsage
		}
	}
	demo := f.demo || cfg.Demo()
	if f.demoCharge != "" && !demo {
		fmt.Fprintln(o.Stderr, "qrkiosk: --demo-charge works in demo mode only")
		return exitUsage
	}
	if f.kiosk && cfg.PIN == "" {
		if !demo {
			fmt.Fprintln(o.Stderr, "qrkiosk: --kiosk needs a PIN to exit: set pin in config.toml or QRKIOSK_PIN")
			return exitUsage
		}
		cfg.PIN = demoPIN
	}
	if demo && cfg.ManagerPINHash == "" {
		cfg.ManagerPINHash = demoManagerPINHash
	}

	// The journal first: a second kiosk on the same journal stops here,
	// before it starts anything.
	j, err := openJournal(f.data, demo, cfg, o.Getenv, log)
	if err != nil {
		fmt.Fprintln(o.Stderr, "qrkiosk:", err)
		var le *journal.LockedError
		if errors.As(err, &le) {
			return exitFailed
		}
		return exitUsage
	}
	defer j.Close()

	// Orders outlive the windows: on quit (or SIGTERM) a live order is
	// withdrawn and settled before the process ends, so its machine runs
	// on a context of its own.
	orderCtx, stopOrders := context.WithCancel(context.Background())
	var b *backend
	if demo {
		b, err = newDemoBackend(orderCtx, cfg, log)
	} else {
		b, err = newRealBackend(orderCtx, cfg, log)
	}
	if err != nil {
		stopOrders()
		fmt.Fprintln(o.Stderr, "qrkiosk:", err)
		return exitFailed
	}
	// Machines stop (and stop writing) before the gateway, relay and
	// journal close.
	defer func() {
		stopOrders()
		b.waitOrders(5 * time.Second)
		b.close()
	}()

	// Fyne creates its cache under the user's cache directory but not that
	// directory itself: on a new account without one it logs two errors.
	if dir, err := os.UserCacheDir(); err == nil {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			log.Warn("cannot create the user cache directory", "dir", dir, "err", err)
		}
	}
	a := app.NewWithID(AppID)
	a.SetIcon(assets.Icon())
	k := newKiosk(a, cfg, f, b, j, orderCtx, log)
	defer k.cashier.close()
	recovered := make(chan struct{})
	go func() {
		k.recoverAtStart(orderCtx, j, b)
		close(recovered)
	}()
	go func() {
		<-ctx.Done()
		fyne.Do(k.quit)
	}()
	if f.demoCharge != "" {
		go func() {
			// Once the windows are up, as a cashier would.
			<-recovered
			time.Sleep(500 * time.Millisecond)
			fyne.Do(func() {
				k.cashier.onKey(keyClear)
				k.typeAmount(f.demoCharge)
				k.cashier.onCharge()
			})
		}()
	}
	// Under systemd (the packaged unit): READY=1 once the event loop runs,
	// then WATCHDOG=1 from it, so a frozen window gets the kiosk restarted.
	watchdog.Start(ctx, o.Getenv, fyne.Do, log)
	a.Run()
	k.afterRun()
	return exitOK
}

// demoPIN opens a demo kiosk that has no PIN configured.
const demoPIN = "0000"

// demoManagerPINHash is journal.HashPIN("0000"): demo refunds take the
// manager PIN 0000 unless manager_pin_hash is configured.
const demoManagerPINHash = "pbkdf2-sha256$600000$8aPvqhbRAAvMWtziLWZYQQ$+pzef3VQGLsAsozvGaraQ89+SJ3YmtzG9+mCZ0iMVyw"

// recoveryWait bounds the start-up check of refunds left pending.
const recoveryWait = 20 * time.Second

// openJournal opens the journal in --data DIR, else QRKIOSK_DATA, else the
// OS data directory — in demo mode its demo/ subdirectory, so simulated
// sales never mix with real ones.
func openJournal(dir string, demo bool, cfg config.Config, getenv func(string) string, log *slog.Logger) (*journal.Journal, error) {
	if dir == "" {
		var err error
		if dir, err = journal.DefaultDir(getenv); err != nil {
			return nil, err
		}
	}
	if demo {
		dir = filepath.Join(dir, "demo")
	}
	return journal.Open(journal.Options{Dir: dir, UDID: cfg.Gateway.UDID, Logger: log})
}

// recoverAtStart settles what the last run left unfinished, as every
// subcommand does: refunds left pending by query, then each unfinished
// order resumed (never created again). Charging waits meanwhile, so a
// pending order can take the screen back. The machines run until ctx ends.
func (k *kiosk) recoverAtStart(ctx context.Context, j *journal.Journal, b *backend) {
	wctx, cancel := context.WithTimeout(ctx, recoveryWait)
	defer cancel()
	settled, err := j.ResolveRefunds(wctx, b.refunder)
	if err != nil {
		k.log.Warn("checking refunds left unfinished", "err", err)
	}
	for _, r := range settled {
		k.log.Info("refund left unfinished settled", "out_trade_no", r.OutTradeNo, "orig_out_trade_no", r.OrigOutTradeNo, "state", r.State)
	}
	rec, err := journal.Recover(ctx, j, b.machine())
	if err != nil {
		k.log.Error("recovering unfinished orders", "err", err)
		k.do(func() { k.cashier.onRecovered(nil, nil, err) })
		return
	}
	for _, o := range rec.Orders {
		b.follow(o)
		k.log.Info("order left unfinished resumed", "out_trade_no", o.Snapshot().OutTradeNo)
	}
	k.do(func() { k.cashier.onRecovered(rec.Orders, rec.Records, nil) })
}

// kiosk is the app's windows around one cashier pane.
type kiosk struct {
	app     fyne.App
	cfg     config.Config
	flags   flags
	cashier *cashier
	windows []fyne.Window
	single  *singleLayout
	log     *slog.Logger
	// quitting: a live order is being withdrawn before the app closes.
	quitting bool
	// After the event loop has ended (Fyne quits by itself on SIGTERM),
	// UI callbacks queue here and run on the main goroutine instead.
	stopped atomic.Bool
	late    chan func()
	// exitPINs counts wrong kiosk PINs.
	exitPINs *pinGuard
}

// do is fyne.Do while the event loop runs; afterwards it hands the call to
// afterRun, which runs it on the main goroutine (fyne.Do would then run it
// on the caller's goroutine).
func (k *kiosk) do(f func()) {
	if !k.stopped.Load() {
		fyne.Do(f)
		return
	}
	select {
	case k.late <- f:
	default: // nobody will look at the screens any more
	}
}

// afterRun withdraws an order still live when the windows closed (SIGTERM:
// Fyne closes them at once) and waits until the gateway has settled it.
func (k *kiosk) afterRun() {
	k.stopped.Store(true)
	o := k.cashier.order
	if o == nil {
		return
	}
	o.Cancel()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case f := <-k.late:
			f()
		case <-o.Done():
			return
		case <-timeout:
			k.log.Warn("quit with an order not yet settled", "out_trade_no", o.Snapshot().OutTradeNo)
			return
		}
	}
}

func newKiosk(a fyne.App, cfg config.Config, f flags, b *backend, j *journal.Journal, ctx context.Context, log *slog.Logger) *kiosk {
	k := &kiosk{app: a, cfg: cfg, flags: f, log: log, late: make(chan func(), 64), exitPINs: newPINGuard(nil)}
	// The tablet's one window is the customer's: a light app theme clears
	// it to the customer screen's white, so that screen paints no
	// background of its own. Set before any widget is built.
	onWhite := cfg.Layout == config.LayoutSingle
	th := theme.DefaultTheme()
	if onWhite {
		th = lightTheme{th}
	}
	a.Settings().SetTheme(display.Theme(th))
	demo := b.demo != nil
	screenCfg := display.ScreenConfig{MerchantName: cfg.MerchantName, Wallets: cfg.PayTypes, Demo: demo, OnWhite: onWhite}
	deps := cashierDeps{
		Currency:  cfg.Currency,
		Wallets:   cfg.PayTypes,
		Expiry:    cfg.Expiry,
		GoodsName: cfg.MerchantName,
		Prefs:     a.Preferences(),
		Start:     b.start(ctx, j),
		Journal:   j,
		Refunder:  b.refunder,
		// Refunds need the manager PIN; demo mode has a default one.
		ManagerPINHash: cfg.ManagerPINHash,
		Ctx:            ctx,
		Do:             k.do,
		Log:            log,
	}
	if demo {
		deps.Demo = b.demo
	}
	title := "qrkiosk"
	if cfg.MerchantName != "" {
		title += " — " + cfg.MerchantName
	}
	if demo {
		title += " — DEMO"
	}

	switch cfg.Layout {
	case config.LayoutSingle:
		customer := display.NewScreen(screenCfg)
		k.single = newSingleLayout(customer, display.DefaultResultHold, k.do)
		deps.Show = k.single.onSnapshot
		k.cashier = newCashier(deps)
		k.single.build(k.cashier, demo)
		w := a.NewWindow(title)
		// Edge to edge: the customer screen's white runs to the bezel,
		// not inside a frame of the cashier theme's background.
		w.SetPadded(false)
		w.SetContent(k.single.content)
		w.SetFullScreen(true)
		w.Resize(fyne.NewSize(1280, 800))
		k.cashier.attach(w.Canvas())
		k.windows = []fyne.Window{w}
	default:
		customer := display.NewScreen(screenCfg)
		deps.Mirror = display.NewScreen(screenCfg)
		deps.Show = customer.Show
		k.cashier = newCashier(deps)
		cw := a.NewWindow(title + " — cashier")
		cw.SetContent(withTextSize(k.cashier.content, paneTextSize))
		cw.Resize(fyne.NewSize(1180, 860))
		xw := a.NewWindow(title + " — customer display")
		xw.SetPadded(false)
		xw.SetContent(customer.Content())
		xw.Resize(fyne.NewSize(1280, 720))
		k.cashier.attach(cw.Canvas())
		k.cashier.attach(xw.Canvas())
		if f.displayFullscreen || f.kiosk {
			fullScreenSecondary(xw)
		}
		if f.kiosk {
			cw.SetFullScreen(true)
		}
		cw.SetMaster()
		k.windows = []fyne.Window{cw, xw}
		xw.Show()
	}
	for _, w := range k.windows {
		w.SetCloseIntercept(func() { k.onClose(w) })
	}
	k.windows[0].Show()
	return k
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
func (k *kiosk) typeAmount(s string) {
	for _, r := range s {
		k.cashier.onTypedRune(r)
	}
}

// onClose: closing any window quits, after the PIN in kiosk mode and after
// confirming when an order is live.
func (k *kiosk) onClose(w fyne.Window) {
	switch {
	case k.flags.kiosk:
		askPIN(w, k.cfg.PIN, k.exitPINs, k.log, k.quit)
	case k.cashier.live != "":
		confirmQuit(w, k.quit)
	default:
		k.quit()
	}
}

// quit withdraws a live order and waits (with the screens still showing
// "Cancelling…" and the result) until the gateway has settled it, then
// closes the app. An order that cannot be settled in time is left to the
// machine's final query on the next start (the journal).
func (k *kiosk) quit() {
	o := k.cashier.order
	if o == nil || k.quitting {
		k.app.Quit()
		return
	}
	k.quitting = true
	k.cashier.onCancel()
	go func() {
		select {
		case <-o.Done():
		case <-time.After(10 * time.Second):
			k.log.Warn("quit with an order not yet settled", "out_trade_no", o.Snapshot().OutTradeNo)
		}
		fyne.Do(k.app.Quit)
	}()
}
