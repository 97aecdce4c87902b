package kiosk

import (
	"crypto/tls"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"qrkiosk/internal/lan"
	"qrkiosk/payment"
	"qrkiosk/sim/qfpaysim"
)

const (
	reopenApp = "REOPENAPP000000000000000000000001"
	reopenKey = "REOPENKEY000000000000000000000001"
)

// A demo kiosk whose config.toml gets credentials (the setup page saved
// them) reopens in the same process on the real gateway: out of demo mode,
// its journal the data directory's own rather than demo/'s, charging the
// gateway the file names. The old kiosk is closed.
func TestReopenLeavesDemoMode(t *testing.T) {
	sim := qfpaysim.New(qfpaysim.Config{AppCode: reopenApp, Key: reopenKey})
	srv := httptest.NewServer(sim)
	t.Cleanup(func() { srv.Close(); sim.Close() })
	data := t.TempDir()
	getenv := env(t, "[ecr]\nlisten = \"127.0.0.1:0\"\n")
	k, err := Open(Options{DataDir: data, Getenv: getenv, DemoIfUnconfigured: true, DemoHost: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	if k.Demo == nil || k.DataDir != filepath.Join(data, "demo") {
		t.Fatalf("not the demo: %v %s", k.Demo, k.DataDir)
	}

	// Refused settings change nothing: the demo goes on.
	path := getenv("QRKIOSK_CONFIG")
	os.WriteFile(path, []byte("expiry_minutes = 500\n"), 0o600)
	if nk, err := k.Reopen(nil); err == nil || nk != nil {
		t.Fatalf("reopened on refused settings: %v", err)
	}
	if _, err := k.Journal.Day(t.Context(), time.Now().Format("2006-01-02")); err != nil {
		t.Fatalf("the demo's journal after a refused reopen: %v", err)
	}
	// The window's own rule refuses too.
	os.WriteFile(path, []byte("[qfpay]\nbase_url = \""+srv.URL+"\"\nappcode = \""+reopenApp+"\"\nkey = \""+reopenKey+"\"\n"), 0o600)
	if _, err := k.Reopen(WindowOptions{Kiosk: true}.Check); err == nil || !strings.Contains(err.Error(), "exit PIN") {
		t.Fatalf("a full-screen kiosk without an exit PIN: %v", err)
	}

	nk, err := k.Reopen(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer nk.Close()
	if nk.Demo != nil || nk.DataDir != data || nk.Gateway == nil {
		t.Fatalf("reopened: demo %v, journal %s", nk.Demo, nk.DataDir)
	}
	pt, _ := payment.LookupPayType("wechat")
	hkd, _ := payment.LookupCurrency("HKD")
	o, err := nk.Start(payment.CreateRequest{OutTradeNo: "REOPEN-1", Amount: payment.Amount{Minor: 500, Currency: hkd}, PayType: pt, Expiry: 5 * time.Minute, TxTime: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(sim.Orders()) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if got := sim.Orders(); len(got) != 1 || got[0].OutTradeNo != "REOPEN-1" {
		t.Fatalf("the gateway holds %+v", got)
	}
	o.Cancel()
	// The old kiosk is closed: its journal is no longer open.
	if _, err := k.Journal.Day(t.Context(), time.Now().Format("2006-01-02")); err == nil {
		t.Error("the demo's journal is still open")
	}
}

// The till is held for the switch only when nothing is under way, checked
// and held at once.
func TestHoldIdle(t *testing.T) {
	started := make(chan struct{})
	block := make(chan struct{})
	till := NewTill(func(req payment.CreateRequest, observe func(payment.Event)) (*payment.Order, error) {
		close(started)
		<-block
		return nil, errors.New("not recorded")
	}, nil)
	go till.Start(payment.CreateRequest{}, "", false)
	<-started
	if till.HoldIdle("applying") {
		t.Fatal("held while a sale was being recorded")
	}
	close(block)
	deadline := time.Now().Add(5 * time.Second)
	for !till.HoldIdle("applying") {
		if time.Now().After(deadline) {
			t.Fatal("never held once idle")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := till.Start(payment.CreateRequest{}, "", false); !errors.Is(err, ErrBusy) || !strings.Contains(err.Error(), "applying") {
		t.Fatalf("a sale while held: %v", err)
	}
	if till.HoldIdle("again") {
		t.Error("held twice")
	}
}

// What Options.Serve starts on the LAN server (the POS endpoint) follows
// the kiosk: the kiosk Reopen opens answers there, from itself, and the
// closed one's is stopped — a POS never talks to a closed kiosk.
func TestReopenedKioskServesTheLAN(t *testing.T) {
	sim := qfpaysim.New(qfpaysim.Config{AppCode: reopenApp, Key: reopenKey})
	srv := httptest.NewServer(sim)
	t.Cleanup(func() { srv.Close(); sim.Close() })
	getenv := env(t, "[ecr]\nlisten = \"127.0.0.1:0\"\n")
	var served, stopped []string
	opts := Options{DataDir: t.TempDir(), Getenv: getenv, DemoIfUnconfigured: true, DemoHost: "127.0.0.1",
		Serve: func(k *Kiosk) func() {
			who := "demo"
			if k.Demo == nil {
				who = "gateway"
			}
			served = append(served, who)
			k.LAN().Handle("GET /who", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, who) }), lan.Route{})
			return func() { stopped = append(stopped, who) }
		}}
	k, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, Timeout: 5 * time.Second}
	who := func(k *Kiosk) string {
		t.Helper()
		res, err := client.Get(k.LAN().URL() + "/who")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return string(b)
	}
	if got := who(k); got != "demo" {
		t.Fatalf("the first kiosk's LAN server answers %q", got)
	}
	os.WriteFile(getenv("QRKIOSK_CONFIG"), []byte("[ecr]\nlisten = \"127.0.0.1:0\"\n[qfpay]\nbase_url = \""+srv.URL+"\"\nappcode = \""+reopenApp+"\"\nkey = \""+reopenKey+"\"\n"), 0o600)
	nk, err := k.Reopen(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer nk.Close()
	if got := who(nk); got != "gateway" {
		t.Errorf("the reopened kiosk's LAN server answers %q", got)
	}
	if !slices.Equal(served, []string{"demo", "gateway"}) || !slices.Equal(stopped, []string{"demo"}) {
		t.Errorf("served %v, stopped %v; want the demo's stopped before the gateway's served", served, stopped)
	}
}
