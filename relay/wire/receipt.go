package wire

import (
	"fmt"
	"time"
	"unicode/utf8"
)

// Receipt is what a paper slip says about a sale or a refund, sent for
// the customer to open as a web page: no personal data, only the sale.
type Receipt struct {
	Kind     string `json:"kind"`               // ReceiptSale or ReceiptRefund
	Merchant string `json:"merchant,omitempty"` // the shop's name
	// Time is when it was paid (or refunded), in the shop's zone: the
	// page shows it as written.
	Time     time.Time `json:"time"`
	Amount   int64     `json:"amount"`   // minor units of Currency
	Currency string    `json:"currency"` // ISO 4217
	Wallet   Names     `json:"wallet"`
	// Status is a sale's: ReceiptPaid, ReceiptRefunded or
	// ReceiptPartlyRefunded; Refunded what was given back (minor units).
	Status     string `json:"status,omitempty"`
	Refunded   int64  `json:"refunded,omitempty"`
	SysSN      string `json:"syssn"`        // the gateway's number (of the refund, on a refund)
	OutTradeNo string `json:"out_trade_no"` // the kiosk's
	POSRef     string `json:"pos_ref,omitempty"`
	OrigSysSN  string `json:"orig_syssn,omitempty"` // the refunded sale's (refunds)
}

// Names is a text in English, Traditional and Simplified Chinese.
type Names struct {
	En     string `json:"en"`
	ZhHant string `json:"zh_hant,omitempty"`
	ZhHans string `json:"zh_hans,omitempty"`
}

// Receipt kinds and a sale's statuses.
const (
	ReceiptSale           = "sale"
	ReceiptRefund         = "refund"
	ReceiptPaid           = "paid"
	ReceiptRefunded       = "refunded"
	ReceiptPartlyRefunded = "partly_refunded"
)

// Receipt limits: a slip's texts are short, so one receipt stays well
// inside MaxInboundFrame and the relay's storage per receipt is bounded.
const (
	MaxReceiptText = 200            // bytes of any one text
	MaxAmount      = 99_999_999_999 // minor units: the gateways' 11 digits
)

// Check says what is wrong with a receipt, naming the field (nil: none).
// The relay stores nothing that fails it; the kiosk checks before sending.
func (r Receipt) Check() error {
	bad := func(field, rule string) error { return fmt.Errorf("receipt %s: %s", field, rule) }
	switch {
	case r.Kind != ReceiptSale && r.Kind != ReceiptRefund:
		return bad("kind", "must be sale or refund")
	case r.Kind == ReceiptSale && r.Status != ReceiptPaid && r.Status != ReceiptRefunded && r.Status != ReceiptPartlyRefunded:
		return bad("status", "must be paid, refunded or partly_refunded")
	case r.Kind == ReceiptRefund && (r.Status != "" || r.Refunded != 0):
		return bad("status", "a refund has neither status nor refunded")
	case r.Amount <= 0 || r.Amount > MaxAmount:
		return bad("amount", "must be from 1 to 99999999999 minor units")
	case r.Refunded < 0 || r.Refunded > r.Amount:
		return bad("refunded", "must be from 0 to the amount")
	case r.Status == ReceiptPartlyRefunded && (r.Refunded == 0 || r.Refunded == r.Amount):
		return bad("refunded", "must be part of the amount when partly refunded")
	case r.Status == ReceiptPaid && r.Refunded != 0:
		return bad("refunded", "must be 0 when paid")
	case r.Time.IsZero() || r.Time.Year() < 2000 || r.Time.Year() > 9999:
		return bad("time", "must be a date from 2000")
	case len(r.Currency) != 3 || !upper(r.Currency):
		return bad("currency", "must be 3 capital letters")
	case r.SysSN == "" || r.OutTradeNo == "":
		return bad("syssn", "and out_trade_no are required")
	case r.Kind == ReceiptRefund && r.OrigSysSN == "":
		return bad("orig_syssn", "is required on a refund")
	case r.Wallet.En == "":
		return bad("wallet", "needs its English name")
	}
	for _, f := range [...]struct{ name, value string }{
		{"merchant", r.Merchant}, {"wallet.en", r.Wallet.En}, {"wallet.zh_hant", r.Wallet.ZhHant}, {"wallet.zh_hans", r.Wallet.ZhHans},
		{"syssn", r.SysSN}, {"out_trade_no", r.OutTradeNo}, {"pos_ref", r.POSRef}, {"orig_syssn", r.OrigSysSN},
	} {
		if len(f.value) > MaxReceiptText || !utf8.ValidString(f.value) || control(f.value) {
			return bad(f.name, "must be at most 200 bytes of printable UTF-8")
		}
	}
	return nil
}

func upper(s string) bool {
	for _, c := range []byte(s) {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}

// control reports a control character (a line break, an escape).
func control(s string) bool {
	for _, c := range s {
		if c < 0x20 || (c >= 0x7f && c < 0xa0) || c == 0x2028 || c == 0x2029 {
			return true
		}
	}
	return false
}
