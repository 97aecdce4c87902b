// Package kiosk assembles the kiosk once, the same parts for the window and
// for every subcommand.
//
// It reads the settings (config file overlaid by the environment), picks
// the gateway and the push source (a relay, the in-process demo, or none),
// opens the journal and runs the start-up recovery (settle). The window
// (ui) and the subcommands (cli) get the same parts and only show them.
package kiosk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"qrkiosk/internal/config"
	"qrkiosk/internal/journal"
	"qrkiosk/internal/settle"
	"qrkiosk/internal/setup"
	"qrkiosk/payment"
	"qrkiosk/relay/relayclient"
)

// Options is what the process gives the assembly.
type Options struct {
	// DataDir is --data; "" = QRKIOSK_DATA, else the OS data directory.
	DataDir string
	Getenv  func(string) string
	Logger  *slog.Logger
	// DemoIfUnconfigured runs the in-process demo (simulator and relay)
	// when the gateway has no credentials: the window does, a subcommand
	// does not (it charges nothing without a gateway).
	DemoIfUnconfigured bool
	// ForceDemo runs the demo even with credentials (--demo).
	ForceDemo bool
	// DemoHost is the address the demo simulator listens on; "" = the
	// machine's LAN address, so a phone can open the QR's customer page.
	DemoHost string
	// DemoGateway runs the demo on this gateway's simulator ("qfpay",
	// "scanforpay"); "" = the configured gateway.
	DemoGateway string
	// Serve, when set, starts what answers on the kiosk's LAN server (the
	// POS endpoint) for each kiosk opened with these options — the first
	// and every one Reopen opens — and gives what stops it, run first at
	// Close.
	Serve func(*Kiosk) (stop func())
}

// Settings are the checked configuration and what follows from it.
type Settings struct {
	Config config.Config
	// Demo: the kiosk runs on the in-process demo gateway.
	Demo bool
	// DataDir is the journal's directory (demo mode: the demo/
	// subdirectory, so simulated sales never mix with real ones).
	DataDir string
	// RootDir is the data directory itself, demo or not: what outlives
	// a switch out of demo mode (the LAN certificates a POS trusts) is
	// kept there.
	RootDir string
}

// Demo credentials for the kiosk itself: the exit PIN and the manager PIN
// (refunds) of a demo that has none configured are both 0000.
const (
	DemoPIN = "0000"
	// DemoManagerPINHash is pin.Hash("0000").
	DemoManagerPINHash = "pbkdf2-sha256$600000$8aPvqhbRAAvMWtziLWZYQQ$+pzef3VQGLsAsozvGaraQ89+SJ3YmtzG9+mCZ0iMVyw"
)

// LoadSettings reads and checks the settings exactly as Open does, without
// opening anything: `qrkiosk config check` shows what it returns.
func LoadSettings(opts Options) (Settings, error) {
	cfg, err := config.FromEnvironment(opts.Getenv)
	if err != nil {
		return Settings{Config: cfg}, err
	}
	s := Settings{Config: cfg, Demo: opts.ForceDemo || (opts.DemoIfUnconfigured && cfg.Demo())}
	if s.Demo && opts.DemoGateway != "" && opts.DemoGateway != cfg.Gateway {
		if s.Config, err = cfg.WithGateway(opts.DemoGateway); err != nil {
			return s, config.Problems{"--demo-gateway: " + err.Error()}
		}
	}
	if s.Demo {
		if s.Config.PIN == "" {
			s.Config.PIN = DemoPIN
		}
		if s.Config.ManagerPINHash == "" {
			s.Config.ManagerPINHash = DemoManagerPINHash
		}
	}
	s.DataDir = opts.DataDir
	if s.DataDir == "" {
		if s.DataDir, err = journal.DefaultDir(opts.Getenv); err != nil {
			return s, err
		}
	}
	s.RootDir = s.DataDir
	if s.Demo {
		s.DataDir = filepath.Join(s.DataDir, "demo")
		demoECR(&s.Config.ECR, s.Config.Gateway, opts.DemoHost)
	}
	return s, nil
}

// Kiosk is the assembled kiosk: its journal, its gateway (nil when a
// subcommand runs without one), its push source and, in demo mode, the
// simulated customer. Order machines started through it run until Close.
type Kiosk struct {
	Settings
	Journal *journal.Journal
	// Gateway is nil when no gateway is configured and no demo runs.
	Gateway payment.Gateway
	// Demo plays the customer in demo mode; nil otherwise.
	Demo *Demo
	// Till is the kiosk's one till: the window's sales and the POS's go
	// through it, never two at once.
	Till *Till

	log    *slog.Logger
	getenv func(string) string
	opts   Options             // what it was opened with: Reopen opens with them again
	relay  *relayclient.Client // nil: orders are followed by polling alone
	// printer prints receipts off the sale path (printer.go); ereceipts
	// sends them to the relay for the customer (ereceipt.go).
	printer   *Printer
	ereceipts *eReceipts

	ordersCtx  context.Context // order machines run on it until Close
	stopOrders context.CancelFunc
	closers    []func() // run in reverse by Close

	mu     sync.Mutex
	orders map[*payment.Order]struct{} // machines still running

	lanOnce sync.Once
	lan     *LANServer

	setupMu sync.Mutex
	setup   *setup.Server // the setup page, once asked for
}

// Getenv reads the process environment the kiosk was opened with.
func (k *Kiosk) Getenv(name string) string { return k.getenv(name) }

// Logger is the process logger the kiosk was opened with.
func (k *Kiosk) Logger() *slog.Logger { return k.log }

// WindowOptions are the window's own choices from the command line
// (qrkiosk with no subcommand).
type WindowOptions struct {
	Layout            string // config.LayoutDual or config.LayoutSingle
	DisplayFullscreen bool   // the customer window full screen (second monitor)
	Kiosk             bool   // full screen; quitting asks for the PIN
	DemoCharge        string // demo mode: ring this amount up at start
}

// Open assembles the kiosk. Nothing is sent to a gateway yet; Recover
// settles what the last run left unfinished.
func Open(opts Options) (*Kiosk, error) {
	s, err := LoadSettings(opts)
	if err != nil {
		return nil, err
	}
	return OpenWith(s, opts)
}

// OpenWith assembles the kiosk from settings LoadSettings(opts) returned,
// for a caller that looked at them first: the configuration is read once.
func OpenWith(s Settings, opts Options) (*Kiosk, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	for _, w := range s.Config.Warnings {
		log.Warn("config: " + w)
	}
	k := &Kiosk{Settings: s, log: log, getenv: opts.Getenv, opts: opts, orders: map[*payment.Order]struct{}{}, ereceipts: newEReceipts()}
	k.ordersCtx, k.stopOrders = context.WithCancel(context.Background())
	k.Till = NewTill(func(req payment.CreateRequest, observe func(payment.Event)) (*payment.Order, error) {
		return k.Start(req, observe)
	}, log)
	// The journal first: a second kiosk on the same journal stops here,
	// before it starts anything; it closes last.
	j, err := journal.Open(journal.Options{Dir: s.DataDir, UDID: s.Config.UDID, Gateway: s.Config.Gateway, PayTypes: s.Config.Catalog(), Logger: log})
	if err != nil {
		return nil, err
	}
	k.Journal = j
	k.closers = append(k.closers, func() { j.Close() })
	k.printer = newPrinter(k)
	k.closers = append(k.closers, k.printer.close)
	switch {
	case s.Demo:
		d, err := startDemo(k, opts.DemoHost)
		if err != nil {
			k.Close()
			return nil, err
		}
		k.Demo, k.Gateway = d, d.gateway
	case !s.Config.Demo():
		if k.Gateway, err = newGateway(s.Config, log); err != nil {
			k.Close()
			return nil, err
		}
		if s.Config.RelayURL != "" {
			k.startRelay(relayclient.Config{URL: s.Config.RelayURL, Token: s.Config.RelayToken, UDID: s.Config.UDID, Logger: log})
		}
		env, base := s.Config.Endpoint()
		log.Info("gateway", "name", s.Config.Gateway, "environment", env, "base_url", base)
	}
	// Before the relay link and the journal close: a receipt on its way
	// ends with the orders' context.
	k.closers = append(k.closers, k.ereceipts.wg.Wait)
	if opts.Serve != nil {
		if stop := opts.Serve(k); stop != nil {
			k.closers = append(k.closers, stop)
		}
	}
	return k, nil
}

// startRelay connects to a notify relay for the life of the kiosk.
func (k *Kiosk) startRelay(cfg relayclient.Config) {
	k.relay = relayclient.NewClient(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	go k.relay.Run(ctx)
	k.closers = append(k.closers, cancel)
}

// Close stops the order machines (waiting a little for each: they write to
// the journal until they stop), the demo's servers and the relay link,
// then closes the journal. A live order is withdrawn before Close by
// whoever started it; whatever is not final is resumed at the next start.
func (k *Kiosk) Close() {
	k.stopOrders()
	k.waitOrders(5 * time.Second)
	for i := len(k.closers) - 1; i >= 0; i-- {
		k.closers[i]()
	}
	k.closers = nil
}

// machine is the configuration of this kiosk's order machines.
func (k *Kiosk) machine() payment.MachineConfig {
	c := payment.MachineConfig{Gateway: k.Gateway, Logger: k.log, PushUp: k.relay != nil && k.relay.Up()}
	if e, ok := k.Gateway.(interface{ DefaultExpiry() time.Duration }); ok {
		c.GatewayExpiry = e.DefaultExpiry()
	}
	return c
}

// ErrNoGateway: a charge or a refund without a configured gateway.
var ErrNoGateway = errors.New("gateway not configured")

// Start records a new order in the journal, then creates it at the gateway
// and follows it (push and polling) until it is final; observers get every
// event on the machine's goroutine. An error means nothing was sent.
func (k *Kiosk) Start(req payment.CreateRequest, observers ...func(payment.Event)) (*payment.Order, error) {
	if k.Gateway == nil {
		return nil, fmt.Errorf("%w: set %v", ErrNoGateway, k.Config.Missing())
	}
	if v, ok := k.Gateway.(payment.CreateValidator); ok {
		if err := v.ValidateCreate(req); err != nil {
			return nil, err // refused before it is recorded: nothing happened
		}
	}
	// After the journal's observer (settle.Start puts it first): a
	// receipt is made once the sale is recorded paid.
	o, err := settle.Start(k.ordersCtx, k.Journal, k.machine(), req, append(observers, k.afterSale)...)
	if err != nil {
		return nil, err
	}
	k.follow(o)
	return o, nil
}

// follow feeds an order's notifications from the relay to its machine and
// keeps it until the machine stops, so Close can wait for it.
func (k *Kiosk) follow(o *payment.Order) {
	k.mu.Lock()
	k.orders[o] = struct{}{}
	k.mu.Unlock()
	detach := func() {}
	if k.relay != nil {
		detach = attach(k.relay, o, k.Gateway, k.log)
	}
	go func() {
		<-o.Closed()
		detach()
		k.mu.Lock()
		delete(k.orders, o)
		k.mu.Unlock()
	}()
}

// Running is how many order machines have not stopped yet.
func (k *Kiosk) Running() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.orders)
}

// waitOrders waits (bounded) for every machine to stop.
func (k *Kiosk) waitOrders(d time.Duration) {
	k.mu.Lock()
	orders := make([]*payment.Order, 0, len(k.orders))
	for o := range k.orders {
		orders = append(orders, o)
	}
	k.mu.Unlock()
	timeout := time.After(d)
	for _, o := range orders {
		select {
		case <-o.Closed():
		case <-timeout:
			k.log.Warn("an order machine did not stop in time", "out_trade_no", o.Snapshot().OutTradeNo)
			return
		}
	}
}

// RecoveryWait bounds how long the start-up recovery asks the gateway
// about refunds left pending, and how long a subcommand waits for the
// orders it resumed to be checked.
const RecoveryWait = 20 * time.Second

// Recovered is what the start-up recovery found.
type Recovered struct {
	*settle.Recovery
	// Refunds are the refunds left pending that the gateway settled.
	Refunds []journal.Refund
}

// Recover settles what the last run left unfinished: refunds left pending
// by query, then each unfinished order resumed (never created again) and
// followed like a new one. Without a gateway nothing is recovered.
func (k *Kiosk) Recover(ctx context.Context) (*Recovered, error) {
	if k.Gateway == nil {
		return &Recovered{Recovery: &settle.Recovery{}}, nil
	}
	wctx, cancel := context.WithTimeout(ctx, RecoveryWait)
	defer cancel()
	refunds, rerr := settle.ResolveRefunds(wctx, k.Journal, k.Gateway)
	if rerr != nil {
		k.log.Warn("checking refunds left unfinished", "err", rerr)
	}
	for _, r := range refunds {
		k.log.Info("refund left unfinished settled", "out_trade_no", r.OutTradeNo, "orig_out_trade_no", r.OrigOutTradeNo, "state", r.State)
	}
	rec, err := settle.Recover(k.ordersCtx, k.Journal, k.machine())
	if err != nil {
		return nil, err
	}
	for _, o := range rec.Orders {
		k.follow(o)
		k.log.Info("order left unfinished resumed", "out_trade_no", o.Snapshot().OutTradeNo)
	}
	for _, o := range rec.Foreign {
		k.log.Warn("order left unfinished on another gateway; run the kiosk with that gateway to settle it", "out_trade_no", o.OutTradeNo, "gateway", o.Gateway)
	}
	return &Recovered{Recovery: rec, Refunds: refunds}, rerr
}

// Refund gives back amount (minor units; 0 = all that remains) of a paid
// order, recorded in the journal before the call.
func (k *Kiosk) Refund(ctx context.Context, outTradeNo string, amount int64) (journal.Refund, error) {
	if k.Gateway == nil {
		return journal.Refund{}, fmt.Errorf("%w: set %v", ErrNoGateway, k.Config.Missing())
	}
	return settle.Refund(ctx, k.Journal, k.Gateway, outTradeNo, amount)
}

// RefundForPOS is Refund for a refund the shop's POS asked for, after the
// manager approved it at the kiosk: its result is notified to the POS.
func (k *Kiosk) RefundForPOS(ctx context.Context, outTradeNo string, amount int64) (journal.Refund, error) {
	if k.Gateway == nil {
		return journal.Refund{}, fmt.Errorf("%w: set %v", ErrNoGateway, k.Config.Missing())
	}
	return settle.RefundForPOS(ctx, k.Journal, k.Gateway, outTradeNo, amount)
}

// Order is the running machine of the order outTradeNo, if it still runs.
func (k *Kiosk) Order(outTradeNo string) (*payment.Order, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for o := range k.orders {
		if o.Snapshot().OutTradeNo == outTradeNo {
			return o, true
		}
	}
	return nil, false
}

// FollowRefund asks about a refund whose answer was lost until the gateway
// settles it, or leaves it pending for the next start.
func (k *Kiosk) FollowRefund(ctx context.Context, r journal.Refund) (journal.Refund, error) {
	return settle.FollowRefund(ctx, k.Journal, k.Gateway, r, settle.RefundRecheck, settle.RefundRechecks)
}
