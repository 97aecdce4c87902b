package ui

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"qrkiosk/cli"
	"qrkiosk/config"
	"qrkiosk/journal"
	"qrkiosk/payment"
	"qrkiosk/payment/qfpay"
	"qrkiosk/payment/qfpay/qfpaysim"
	"qrkiosk/relay"
)

// backend is what the cashier charges through: the gateway client and,
// when configured, the notify relay; in demo mode both run in this process.
type backend struct {
	gateway  payment.Gateway
	refunder journal.Refunder // the same client: refunds and their queries
	verify   func(body []byte, sign string) error
	relay    *relay.Client // nil: orders are followed by polling alone
	demo     *demoBackend  // nil outside demo mode
	log      *slog.Logger
	stop     []func()

	mu     sync.Mutex
	orders map[*payment.Order]struct{} // machines still running, to wait for at exit
}

// start is the cashier's startFunc: the journal records the order before
// its create call and every answer after; the relay feeds its machine.
func (b *backend) start(ctx context.Context, j *journal.Journal) startFunc {
	return func(req payment.CreateRequest, observe func(payment.Event)) (*payment.Order, error) {
		o, err := j.Start(ctx, b.machine(), req, observe)
		if err != nil {
			return nil, err
		}
		b.follow(o)
		return o, nil
	}
}

// machine is the configuration of this run's order machines.
func (b *backend) machine() payment.MachineConfig {
	return payment.MachineConfig{Gateway: b.gateway, Logger: b.log, PushUp: b.relay != nil && b.relay.Up()}
}

// follow feeds an order's notifications from the relay to its machine and
// remembers it until the machine stops, so the journal closes only after
// every machine has stopped.
func (b *backend) follow(o *payment.Order) {
	b.mu.Lock()
	if b.orders == nil {
		b.orders = map[*payment.Order]struct{}{}
	}
	b.orders[o] = struct{}{}
	b.mu.Unlock()
	detach := func() {}
	if b.relay != nil {
		detach = cli.Attach(b.relay, o, b.verify, b.log)
	}
	go func() {
		<-o.Closed()
		detach()
		b.mu.Lock()
		delete(b.orders, o)
		b.mu.Unlock()
	}()
}

// running is how many order machines have not stopped yet.
func (b *backend) running() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.orders)
}

// waitOrders waits (bounded) for every machine to stop once their context
// has ended: they write to the journal until then.
func (b *backend) waitOrders(d time.Duration) {
	b.mu.Lock()
	orders := make([]*payment.Order, 0, len(b.orders))
	for o := range b.orders {
		orders = append(orders, o)
	}
	b.mu.Unlock()
	timeout := time.After(d)
	for _, o := range orders {
		select {
		case <-o.Closed():
		case <-timeout:
			b.log.Warn("an order machine did not stop in time", "out_trade_no", o.Snapshot().OutTradeNo)
			return
		}
	}
}

func (b *backend) close() {
	for i := len(b.stop) - 1; i >= 0; i-- {
		b.stop[i]()
	}
}

// newRealBackend connects to the configured gateway and relay.
func newRealBackend(ctx context.Context, cfg config.Config, log *slog.Logger) (*backend, error) {
	client, err := cfg.Gateway.NewClient(qfpay.WithLogger(log))
	if err != nil {
		return nil, err
	}
	b := &backend{gateway: client, refunder: client, verify: client.VerifyNotification, log: log}
	if cfg.RelayURL != "" {
		b.relay = relay.NewClient(relay.ClientConfig{URL: cfg.RelayURL, Token: cfg.RelayToken, UDID: cfg.Gateway.UDID, Logger: log})
		rctx, cancel := context.WithCancel(ctx)
		go b.relay.Run(rctx)
		b.stop = append(b.stop, cancel)
	}
	return b, nil
}

// demoBackend is the zero-config demo: the QFPay simulator on the LAN
// address (so a phone on the same network can open the QR's customer page
// and press Pay) and a notify relay on loopback, both in this process.
type demoBackend struct {
	sim    *qfpaysim.Sim
	simURL string
}

// Pay plays a customer who pays: the simulator notifies the relay, which
// pushes to the kiosk, exactly as a real payment would arrive.
func (d *demoBackend) Pay(s payment.Snapshot) error { return d.sim.Pay(s.SysSN) }

// Decline plays a customer whose wallet refuses (not enough balance).
func (d *demoBackend) Decline(s payment.Snapshot) error {
	return d.sim.Decline(s.SysSN, payment.CodeInsufficientBalance)
}

func newDemoBackend(ctx context.Context, cfg config.Config, log *slog.Logger) (*backend, error) {
	b := &backend{log: log}
	fail := func(err error) (*backend, error) {
		b.close()
		return nil, err
	}
	relayLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fail(fmt.Errorf("demo relay: %w", err))
	}
	lan := lanIPv4()
	simLn, err := net.Listen("tcp", net.JoinHostPort(lan, "0"))
	if err != nil && lan != "127.0.0.1" {
		log.Warn("demo: cannot listen on the LAN address; phones will not reach the customer page", "addr", lan, "err", err)
		simLn, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		relayLn.Close()
		return fail(fmt.Errorf("demo gateway: %w", err))
	}

	dir, err := os.MkdirTemp("", "qrkiosk-demo-relay-")
	if err != nil {
		relayLn.Close()
		simLn.Close()
		return fail(err)
	}
	b.stop = append(b.stop, func() { os.RemoveAll(dir) })
	token := randomToken()
	rs, err := relay.NewServer(relay.Config{Key: qfpaysim.DemoKey, Token: token, DataDir: dir, Logger: log})
	if err != nil {
		relayLn.Close()
		simLn.Close()
		return fail(fmt.Errorf("demo relay: %w", err))
	}
	relayURL := "http://" + relayLn.Addr().String()
	simURL := "http://" + simLn.Addr().String()
	sim := qfpaysim.New(qfpaysim.Config{
		AppCode: qfpaysim.DemoAppCode, Key: qfpaysim.DemoKey,
		NotifyURL: relayURL + "/notify/qfpay", BaseURL: simURL,
		DefaultExpiry: cfg.Expiry, Logger: log,
	})
	serve(b, relayLn, rs.Handler(), log, func(ctx context.Context) { rs.Shutdown(ctx) })
	serve(b, simLn, sim, log, func(context.Context) { sim.Close() })

	client, err := qfpay.NewClient(qfpaysim.DemoAppCode, qfpaysim.DemoKey, qfpay.WithBaseURL(simURL), qfpay.WithLogger(log))
	if err != nil {
		return fail(err)
	}
	b.gateway, b.refunder, b.verify = client, client, client.VerifyNotification
	b.relay = relay.NewClient(relay.ClientConfig{URL: "ws://" + relayLn.Addr().String() + "/ws", Token: token, UDID: "qrkiosk-demo", Logger: log})
	rctx, cancel := context.WithCancel(ctx)
	go b.relay.Run(rctx)
	b.stop = append(b.stop, cancel)
	b.demo = &demoBackend{sim: sim, simURL: simURL}
	log.Info("demo mode", "gateway", simURL, "relay", relayURL)
	return b, nil
}

// serve runs h on ln until the backend closes.
func serve(b *backend, ln net.Listener, h http.Handler, log *slog.Logger, shutdown func(context.Context)) {
	hs := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      15 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	go func() {
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("demo server", "addr", ln.Addr(), "err", err)
		}
	}()
	b.stop = append(b.stop, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		shutdown(ctx)
		hs.Shutdown(ctx)
	})
}

func randomToken() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// lanIPv4 is this machine's address on the local network: the first private
// IPv4 of an interface that is up, else any non-loopback IPv4, else
// loopback (the demo then works on this machine only).
func lanIPv4() string {
	ifaces, err := net.Interfaces()
	if err != nil {
		return "127.0.0.1"
	}
	var fallback string
	for _, ifc := range ifaces {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, err := ifc.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok {
				continue
			}
			ip := ipn.IP.To4()
			if ip == nil || ip.IsLinkLocalUnicast() {
				continue
			}
			if ip.IsPrivate() {
				return ip.String()
			}
			if fallback == "" {
				fallback = ip.String()
			}
		}
	}
	if fallback != "" {
		return fallback
	}
	return "127.0.0.1"
}
