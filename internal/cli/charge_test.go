package cli

import (
	"strings"
	"testing"
	"time"

	"qrkiosk/payment"
)

// While the gateway is asked about a payment a push reported, the charge
// says so and does not say PAID; if the gateway disputes it, it says that.
func TestChargePrintsConfirmingPaid(t *testing.T) {
	hkd, _ := payment.LookupCurrency("HKD")
	pt, _ := payment.LookupPayType("alipayhk")
	s := payment.Snapshot{OutTradeNo: "QK1", SysSN: "1", QRCode: "https://qr.example.invalid/QK1", Amount: payment.Amount{Minor: 1234, Currency: hkd},
		PayType: pt, State: payment.StateAwaitingPayment, Deadline: time.Now().Add(5 * time.Minute)}
	var out strings.Builder
	p := &printer{w: &out}
	p.event(payment.Event{Snapshot: s, Kind: payment.EventCreated})
	s.ConfirmingPaid = true
	p.event(payment.Event{Snapshot: s, Kind: payment.EventConfirmingPaid})
	s.ConfirmingPaid = false
	p.event(payment.Event{Snapshot: s, Kind: payment.EventPushDisputed})
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	last2 := strings.Join(lines[len(lines)-2:], "\n")
	if !strings.Contains(last2, "confirming it with the gateway") || !strings.Contains(last2, "does not confirm") || strings.Contains(out.String(), "PAID") {
		t.Fatalf("printed:\n%s", last2)
	}
}
