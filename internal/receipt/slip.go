// Package receipt draws the slips a kiosk prints on a thermal printer — a
// sale, a refund, the end-of-day summary and a test slip — as 1-bit images
// one dot per pixel, with the bundled font, so that Chinese (traditional
// and simplified) prints right on every printer.
package receipt

import (
	"image"
	"strconv"
	"time"

	"qrkiosk/payment"
)

// Kind says what a slip records.
type Kind int

const (
	Sale Kind = iota
	Refund
)

// Status is a sale's state as its slip states it.
type Status int

const (
	Paid Status = iota
	Refunded
	PartlyRefunded
)

// Slip is one sale or one refund, as printed for the customer.
type Slip struct {
	Kind     Kind
	Merchant string
	Time     time.Time // when it was paid (or refunded); printed in Options.Zone
	// Amount is the sale's (or the refund's) amount in minor units of
	// Currency: exact, never a float.
	Amount   int64
	Currency payment.Currency
	Wallet   payment.Names // the wallet as the customer knows it
	// Status and Refunded (what has been given back, minor units) are a
	// sale's; a refund slip has neither.
	Status   Status
	Refunded int64
	// SysSN is the gateway's number for this payment (or this refund);
	// OutTradeNo ours.
	SysSN      string
	OutTradeNo string
	POSRef     string // the POS's reference when the sale came from a POS
	// OrigSysSN is the refunded sale's syssn (refund slips).
	OrigSysSN string
	// Copy marks a reprint: the customer already had the original.
	Copy bool
}

// Options say how a slip is printed.
type Options struct {
	// Width is the printable width in dots: escpos.Width58mm (384) or
	// escpos.Width80mm (576); any multiple of 8 from 384 to 832.
	Width int
	// Zone is the shop's time zone; nil prints times in their own zone.
	Zone *time.Location
	// Logo is the merchant's logo (nil for none), scaled to fit and
	// dithered to dots.
	Logo image.Image
}

// Widths the layout is made for: 58 mm paper to 112 mm.
const (
	MinWidth = 384
	MaxWidth = 832
)

// maxText bounds free text (a merchant name, a reference) so a bad value
// cannot print metres of paper.
const maxText = 200

func (o Options) check() error {
	if o.Width < MinWidth || o.Width > MaxWidth || o.Width%8 != 0 {
		return &payment.FieldError{Field: "width", Value: strconv.Itoa(o.Width), Rule: "must be a multiple of 8 dots from 384 (58 mm paper) to 832"}
	}
	return nil
}

func (o Options) local(t time.Time) time.Time {
	if o.Zone == nil {
		return t
	}
	return t.In(o.Zone)
}

func (s Slip) check() error {
	bad := func(field, value, rule string) error {
		return &payment.FieldError{Field: field, Value: value, Rule: rule}
	}
	switch {
	case s.Kind != Sale && s.Kind != Refund:
		return bad("kind", strconv.Itoa(int(s.Kind)), "must be Sale or Refund")
	case s.Kind == Sale && (s.Status < Paid || s.Status > PartlyRefunded):
		return bad("status", strconv.Itoa(int(s.Status)), "must be Paid, Refunded or PartlyRefunded")
	case s.Amount <= 0 || s.Amount > payment.MaxMinor:
		return bad("amount", strconv.FormatInt(s.Amount, 10), "must be from 1 to the gateway's 11-digit limit, in minor units")
	case s.Currency.Code == "":
		return bad("currency", "", "is required")
	case s.Refunded < 0 || s.Refunded > s.Amount:
		return bad("refunded", strconv.FormatInt(s.Refunded, 10), "must be from 0 to the amount")
	case s.Kind == Sale && s.Status == PartlyRefunded && (s.Refunded == 0 || s.Refunded == s.Amount):
		return bad("refunded", strconv.FormatInt(s.Refunded, 10), "must be part of the amount for a partly refunded sale")
	case s.SysSN == "":
		return bad("syssn", "", "is required: it is the number a refund is found by")
	case s.Kind == Refund && s.OrigSysSN == "":
		return bad("orig_syssn", "", "is required on a refund slip")
	case s.Time.IsZero():
		return bad("time", "", "is required")
	}
	return checkLengths([][2]string{{"merchant", s.Merchant}, {"syssn", s.SysSN}, {"out_trade_no", s.OutTradeNo}, {"pos_ref", s.POSRef}, {"orig_syssn", s.OrigSysSN}})
}

// checkLengths refuses a field (name, value) longer than maxText.
func checkLengths(fields [][2]string) error {
	for _, f := range fields {
		if len(f[1]) > maxText {
			return &payment.FieldError{Field: f[0], Rule: "must be at most 200 bytes"}
		}
	}
	return nil
}
