package e2e

import (
	"strings"
	"testing"
	"time"
)

// reconcile runs `qrkiosk reconcile` and returns its exit code and output.
func reconcile(t *testing.T, base, data string) (int, string, string) {
	t.Helper()
	p := start(t, kioskEnv(base, data), "qrkiosk", "reconcile")
	out := p.Rest(30 * time.Second)
	return p.Wait(30 * time.Second), strings.Join(out, "\n"), p.Stderr.String()
}

func TestReconcile(t *testing.T) {
	t.Parallel()
	base, _ := startSim(t)
	data := t.TempDir()
	paid := paidCharge(t, base, data, "--amount", "20.00")
	p, cancelled := charge(t, base, []string{"QRKIOSK_DATA=" + data}, "--amount", "3.00", "--wallet", "payme")
	customer(t, base, "decline", cancelled.SysSN)
	p.lastEvent(30 * time.Second)
	if code, _, _ := refund(t, base, data, "--out-trade-no", paid.OutTradeNo, "--amount", "5"); code != 0 {
		t.Fatal("refund failed")
	}

	code, out, stderr := reconcile(t, base, data)
	if code != 0 || out != "" || !strings.Contains(stderr, "agree (3 gateway transactions)") {
		t.Fatalf("nothing planted: exit %d\n%s\n%s", code, out, stderr)
	}

	// Another kiosk on the same merchant account sells: the gateway has an
	// order this journal does not.
	other := paidCharge(t, base, t.TempDir(), "--amount", "1.00")
	code, out, _ = reconcile(t, base, data)
	if code != 1 || !strings.Contains(out, "missing_in_journal payment "+other.OutTradeNo) || strings.Count(out, "\n") != 0 {
		t.Fatalf("planted missing_in_journal: exit %d\n%s", code, out)
	}

	// The same journal against a gateway that has never seen it.
	empty, _ := startSim(t)
	code, out, _ = reconcile(t, empty, data)
	for _, want := range []string{"missing_at_gateway payment " + paid.OutTradeNo, "missing_at_gateway payment " + cancelled.OutTradeNo, "missing_at_gateway refund RF"} {
		if code != 1 || !strings.Contains(out, want) {
			t.Fatalf("against an empty gateway: exit %d, no %q in\n%s", code, want, out)
		}
	}
}
