package wire

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func okReceipt() Receipt {
	return Receipt{Kind: ReceiptSale, Merchant: "Tea", Time: time.Date(2026, 12, 7, 14, 32, 5, 0, time.FixedZone("HKT", 8*3600)),
		Amount: 1250, Currency: "HKD", Wallet: Names{En: "PayMe"}, Status: ReceiptPaid, SysSN: "S1", OutTradeNo: "QK1"}
}

// Each rule of a receipt is refused naming its field.
func TestReceiptCheck(t *testing.T) {
	if err := okReceipt().Check(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		field string
		edit  func(*Receipt)
	}{
		{"kind", func(r *Receipt) { r.Kind = "tip" }},
		{"status", func(r *Receipt) { r.Status = "" }},
		{"status", func(r *Receipt) { r.Kind, r.OrigSysSN = ReceiptRefund, "S0" }},
		{"amount", func(r *Receipt) { r.Amount = 0 }},
		{"amount", func(r *Receipt) { r.Amount = MaxAmount + 1 }},
		{"refunded", func(r *Receipt) { r.Status, r.Refunded = ReceiptPartlyRefunded, 1250 }},
		{"refunded", func(r *Receipt) { r.Refunded = 1 }},
		{"refunded", func(r *Receipt) { r.Status, r.Refunded = ReceiptRefunded, 2000 }},
		{"time", func(r *Receipt) { r.Time = time.Time{} }},
		{"currency", func(r *Receipt) { r.Currency = "hkd" }},
		{"syssn", func(r *Receipt) { r.SysSN = "" }},
		{"orig_syssn", func(r *Receipt) { r.Kind, r.Status = ReceiptRefund, "" }},
		{"wallet", func(r *Receipt) { r.Wallet.En = "" }},
		{"merchant", func(r *Receipt) { r.Merchant = strings.Repeat("茶", 67) }},
		{"merchant", func(r *Receipt) { r.Merchant = "a\nb" }},
		{"pos_ref", func(r *Receipt) { r.POSRef = "\xff" }},
	} {
		r := okReceipt()
		tc.edit(&r)
		if err := r.Check(); err == nil || !strings.Contains(err.Error(), "receipt "+tc.field) {
			t.Errorf("%s: %v", tc.field, err)
		}
	}
}

// FuzzReceiptCheck: a receipt that passes the check fits in one frame,
// however its texts are escaped, and keeps every rule.
func FuzzReceiptCheck(f *testing.F) {
	f.Add("sale", "paid", "Tea <&>", int64(1250), int64(0), "HKD", "PayMe", "S1", "QK1", "", "")
	f.Add("refund", "", "福星", int64(1), int64(0), "JPY", "微信", "R", "O", "P", "S")
	f.Fuzz(func(t *testing.T, kind, status, merchant string, amount, refunded int64, currency, wallet, syssn, otn, posRef, orig string) {
		r := Receipt{Kind: kind, Status: status, Merchant: merchant, Time: time.Now(), Amount: amount, Refunded: refunded,
			Currency: currency, Wallet: Names{En: wallet, ZhHant: wallet, ZhHans: wallet}, SysSN: syssn, OutTradeNo: otn, POSRef: posRef, OrigSysSN: orig}
		if r.Check() != nil {
			return
		}
		b, err := json.Marshal(KioskFrame{Type: TypeReceipt, Ref: "18446744073709551615", Receipt: &r})
		if err != nil || len(b) > MaxInboundFrame {
			t.Fatalf("a checked receipt makes a frame of %d bytes (%v)", len(b), err)
		}
		if r.Amount <= 0 || r.Amount > MaxAmount || r.Refunded < 0 || r.Refunded > r.Amount {
			t.Fatalf("amounts %d %d", r.Amount, r.Refunded)
		}
		var back KioskFrame
		if err := json.Unmarshal(b, &back); err != nil || back.Receipt.Check() != nil {
			t.Fatalf("a checked receipt does not read back as one: %v", err)
		}
	})
}
