package e2e

import (
	"strings"
	"testing"
	"time"
)

// startRelay runs qrkiosk-relay on addr ("127.0.0.1:0" for any port) with
// the journal in dir, and returns its host:port.
func startRelay(t *testing.T, addr, dir string) (string, *proc) {
	t.Helper()
	p := start(t, []string{"QRKIOSK_RELAY_TOKEN=e2e-token", "QFPAY_KEY=" + key}, "qrkiosk-relay",
		"--listen", addr, "--data", dir)
	u, ok := strings.CutPrefix(p.Listening(10*time.Second), "http://")
	if !ok {
		t.Fatal("the relay does not listen on http://")
	}
	return u, p
}

// untilEvent reads charge events until one of the given kind.
func (p *proc) untilEvent(kind string, timeout time.Duration) event {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		e := p.event(time.Until(deadline))
		if e.Event == kind {
			return e
		}
		if e.Event == "paid" || e.Event == "failed" || e.Event == "expired" || e.Event == "cancelled" {
			p.t.Fatalf("order ended %s while waiting for %s", e.Event, kind)
		}
	}
}

func relayEnv(relayAddr string) []string {
	return []string{"QRKIOSK_RELAY_URL=ws://" + relayAddr + "/ws", "QRKIOSK_RELAY_TOKEN=e2e-token"}
}

// Pushed: the sim notifies the relay, the relay pushes to the kiosk, and
// the kiosk ends Paid long before its 15 s safety poll would have.
func TestChargePaidThroughRelay(t *testing.T) {
	relayAddr, _ := startRelay(t, "127.0.0.1:0", t.TempDir())
	base, _ := startSim(t, "--notify-url", "http://"+relayAddr+"/notify/qfpay")
	p, created := charge(t, base, relayEnv(relayAddr), "--amount", "42.00")
	if !created.Push {
		p.untilEvent("push_up", 15*time.Second)
	}
	payAt := time.Now()
	customer(t, base, "pay", created.SysSN)
	last, code := p.lastEvent(30 * time.Second)
	took := time.Since(payAt)
	if code != 0 || last.Event != "paid" {
		t.Fatalf("exit %d, last %+v; want 0 and paid", code, last)
	}
	if took > 5*time.Second {
		t.Fatalf("paid after %v: with the relay up the kiosk should learn it by push, not by its 15 s safety poll", took)
	}
}

// The relay dies (kill -9) mid-charge and comes back on the same address
// and journal: the kiosk reconnects; it dies again, the customer pays while
// it is down, and the charge still ends Paid, by polling.
func TestChargeSurvivesRelayKill(t *testing.T) {
	dir := t.TempDir()
	relayAddr, relay := startRelay(t, "127.0.0.1:0", dir)
	base, _ := startSim(t, "--notify-url", "http://"+relayAddr+"/notify/qfpay", "--notify-scale", "0.01")
	p, created := charge(t, base, relayEnv(relayAddr), "--amount", "18.80", "--expires", "10")
	if !created.Push {
		p.untilEvent("push_up", 15*time.Second)
	}

	relay.Cmd.Process.Kill()
	relay.Wait(5 * time.Second)
	p.untilEvent("push_down", 30*time.Second)

	_, relay = startRelay(t, relayAddr, dir)
	p.untilEvent("push_up", 30*time.Second) // reconnected and resubscribed

	relay.Cmd.Process.Kill()
	relay.Wait(5 * time.Second)
	p.untilEvent("push_down", 30*time.Second)
	customer(t, base, "pay", created.SysSN)
	last, code := p.lastEvent(30 * time.Second)
	if code != 0 || last.Event != "paid" {
		t.Fatalf("exit %d, last %+v; want 0 and paid by polling", code, last)
	}
}
