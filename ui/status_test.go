package ui

import (
	"strings"
	"testing"

	"qrkiosk/payment"
	"qrkiosk/payment/scanforpay"
)

// On a gateway that cannot withdraw a QR (ScanForPay; FPS and Octopus on
// QFPay) the cashier is told the QR stays payable after the kiosk stops
// offering it; where the gateway withdraws it, nothing is added.
func TestStatusTextSaysTheQRStaysPayable(t *testing.T) {
	hkd, _ := payment.LookupCurrency("HKD")
	sfpAlipay, _ := scanforpay.PayTypes().Lookup("alipay")
	qfAlipay, _ := payment.LookupPayType("alipay")
	for _, st := range []payment.State{payment.StateExpired, payment.StateCancelled} {
		s := payment.Snapshot{State: st, Amount: payment.Amount{Minor: 1234, Currency: hkd}, PayType: sfpAlipay}
		if got := statusText(s); !strings.Contains(got, "stay payable") || strings.Contains(got, "withdrawn") {
			t.Errorf("%s on ScanForPay: %q", st, got)
		}
		s.PayType, s.Withdrawn = qfAlipay, true
		if got := statusText(s); strings.Contains(got, "payable") || !strings.Contains(got, "QR withdrawn") {
			t.Errorf("%s on a wallet the gateway withdrew: %q", st, got)
		}
	}
	s := payment.Snapshot{State: payment.StateAwaitingPayment, Cancelling: true, Amount: payment.Amount{Minor: 1234, Currency: hkd}, PayType: sfpAlipay}
	if got := statusText(s); !strings.Contains(got, "cannot withdraw") {
		t.Errorf("cancelling on ScanForPay: %q", got)
	}
}

// While the gateway is asked about a payment a push reported, the cashier
// is told it is not paid yet (for a QR and for a scanned code).
func TestStatusTextConfirmingPaid(t *testing.T) {
	hkd, _ := payment.LookupCurrency("HKD")
	qr, _ := payment.LookupPayType("alipayhk")
	code, _ := payment.LookupCPMPayType("")
	for _, pt := range []payment.PayType{qr, code} {
		s := payment.Snapshot{State: payment.StateAwaitingPayment, ConfirmingPaid: true, Confirming: pt.Mode == payment.CPM,
			PushUp: true, Amount: payment.Amount{Minor: 1234, Currency: hkd}, PayType: pt}
		if got := statusText(s); !strings.Contains(got, "confirming") || !strings.Contains(got, "not paid yet") {
			t.Errorf("%s, a push says paid: %q", pt.Wallet, got)
		}
	}
}
