package kiosk

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
	"time"

	"qrkiosk/internal/config"
	"qrkiosk/payment"
	"qrkiosk/payment/qfpay"
	"qrkiosk/payment/scanforpay"
	"qrkiosk/relay/relayclient"
	"qrkiosk/sim/qfpaysim"
	"qrkiosk/sim/sfpsim"
)

// Demo is the zero-config demo: the simulator of the kiosk's gateway
// (QFPay or ScanForPay) on the LAN address (so a phone on the same network
// can open the QR's customer page and press Pay) and a notify relay on
// loopback, both in this process. A payment then travels the real path:
// simulator → signed notification → relay → kiosk.
type Demo struct {
	gateway payment.Gateway
	pay     func(orderID string) error
	decline func(orderID string) error
}

// Pay plays a customer who pays.
func (d *Demo) Pay(s payment.Snapshot) error { return d.pay(s.SysSN) }

// Decline plays a customer whose wallet refuses (QFPay: not enough
// balance).
func (d *Demo) Decline(s payment.Snapshot) error { return d.decline(s.SysSN) }

// startDemo starts the simulator and a relay and points the kiosk at them;
// Close stops them.
func startDemo(k *Kiosk, host string) (*Demo, error) {
	log := k.log
	relayLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("demo relay: %w", err)
	}
	if host == "" {
		host = lanIPv4()
	}
	simLn, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil && host != "127.0.0.1" {
		log.Warn("demo: cannot listen on the LAN address; phones will not reach the customer page", "addr", host, "err", err)
		simLn, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		relayLn.Close()
		return nil, fmt.Errorf("demo gateway: %w", err)
	}
	// The relay's e-receipt pages where phones reach the simulator.
	receiptLn, err := net.Listen("tcp", net.JoinHostPort(simLn.Addr().(*net.TCPAddr).IP.String(), "0"))
	if err != nil {
		relayLn.Close()
		simLn.Close()
		return nil, fmt.Errorf("demo receipts: %w", err)
	}
	dir, err := os.MkdirTemp("", "qrkiosk-demo-relay-")
	if err != nil {
		relayLn.Close()
		simLn.Close()
		receiptLn.Close()
		return nil, err
	}
	k.closers = append(k.closers, func() { os.RemoveAll(dir) })
	token := randomToken()
	rs, err := newDemoRelay(dir, token, qfpaysim.DemoKey, sfpsim.DemoKey, "http://"+receiptLn.Addr().String(), log)
	if err != nil {
		relayLn.Close()
		simLn.Close()
		receiptLn.Close()
		return nil, fmt.Errorf("demo relay: %w", err)
	}
	relayURL := "http://" + relayLn.Addr().String()
	simURL := "http://" + simLn.Addr().String()
	var d *Demo
	var sim http.Handler
	var closeSim func()
	switch k.Config.Gateway {
	case config.GatewayScanForPay:
		d, sim, closeSim, err = scanForPayDemo(k, simURL, relayURL)
	default:
		d, sim, closeSim, err = qfpayDemo(k, simURL, relayURL)
	}
	if err != nil {
		relayLn.Close()
		simLn.Close()
		receiptLn.Close()
		return nil, err
	}
	serve(k, relayLn, rs.Handler(), log, func(ctx context.Context) { rs.Shutdown(ctx) })
	serve(k, receiptLn, receiptPages(rs.Handler()), log, func(context.Context) {}) // closed before the relay
	serve(k, simLn, sim, log, func(context.Context) { closeSim() })
	k.startRelay(relayclient.Config{URL: "ws://" + relayLn.Addr().String() + "/ws", Token: token, UDID: "qrkiosk-demo", Logger: log})
	log.Info("demo mode", "gateway_name", k.Config.Gateway, "gateway", simURL, "relay", relayURL, "receipts", "http://"+receiptLn.Addr().String())
	return d, nil
}

// qfpayDemo is the QFPay simulator with its demo credentials; it notifies
// the relay's /notify/qfpay (QFPay's notify URL is the account's).
func qfpayDemo(k *Kiosk, simURL, relayURL string) (*Demo, http.Handler, func(), error) {
	sim := qfpaysim.New(qfpaysim.Config{
		AppCode: qfpaysim.DemoAppCode, Key: qfpaysim.DemoKey,
		NotifyURL: relayURL + "/notify/qfpay", BaseURL: simURL,
		DefaultExpiry: k.Config.Expiry, Logger: k.log,
		// A code typed by hand in the demo is taken whatever its prefix.
		AnyCode: true,
	})
	client, err := qfpay.NewClient(qfpaysim.DemoAppCode, qfpaysim.DemoKey, qfpay.WithBaseURL(simURL), qfpay.WithLogger(k.log))
	if err != nil {
		sim.Close()
		return nil, nil, nil, err
	}
	d := &Demo{gateway: client, pay: sim.Pay, decline: func(id string) error { return sim.Decline(id, qfpay.CodeInsufficientBalance) }}
	return d, sim, sim.Close, nil
}

// scanForPayDemo is the ScanForPay simulator with its demo credentials, in
// the configured currency (a ScanForPay store has one); each order names
// the relay's /notify/scanforpay as its notifyUrl, as a real kiosk's does.
func scanForPayDemo(k *Kiosk, simURL, relayURL string) (*Demo, http.Handler, func(), error) {
	cur := k.Config.Currency
	sim := sfpsim.New(sfpsim.Config{
		PartnerNo: sfpsim.DemoPartnerNo, StoreNo: sfpsim.DemoStoreNo, Key: sfpsim.DemoKey,
		Currency: &cur, BaseURL: simURL, Logger: k.log,
	})
	client, err := scanforpay.NewClient(sfpsim.DemoPartnerNo, sfpsim.DemoKey, scanforpay.WithBaseURL(simURL), scanforpay.WithStoreNo(sfpsim.DemoStoreNo),
		scanforpay.WithNotifyURL(relayURL+"/notify/scanforpay"), scanforpay.WithLogger(k.log))
	if err != nil {
		sim.Close()
		return nil, nil, nil, err
	}
	return &Demo{gateway: client, pay: sim.Pay, decline: sim.Decline}, sim, sim.Close, nil
}

// serve runs h on ln until the kiosk closes.
func serve(k *Kiosk, ln net.Listener, h http.Handler, log *slog.Logger, shutdown func(context.Context)) {
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
	k.closers = append(k.closers, func() {
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
