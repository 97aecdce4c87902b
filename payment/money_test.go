package payment_test

import (
	"errors"
	"math/big"
	"regexp"
	"strings"
	"testing"

	"qrkiosk/payment"
)

func cur(t *testing.T, code string) payment.Currency {
	t.Helper()
	c, err := payment.LookupCurrency(code)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestParseAmount(t *testing.T) {
	tests := []struct {
		in, currency string
		minor        int64
		display      string
	}{
		{"12.34", "HKD", 1234, "HK$12.34"},
		{"12.3", "HKD", 1230, "HK$12.30"},
		{"12", "HKD", 1200, "HK$12.00"},
		{"0.01", "HKD", 1, "HK$0.01"},
		{".5", "HKD", 50, "HK$0.50"},
		{"1,234.50", "HKD", 123450, "HK$1,234.50"},
		{"12,345,678", "HKD", 1234567800, "HK$12,345,678.00"},
		{"999,999,999.99", "HKD", 99999999999, "HK$999,999,999.99"},
		{"1,500", "JPY", 1500, "¥1,500"},
		{"1,234.", "HKD", 123400, "HK$1,234.00"},
		{" 7 ", "USD", 700, "US$7.00"},
		{"1500", "JPY", 1500, "¥1,500"},
		{"999999999.99", "HKD", 99999999999, "HK$999,999,999.99"},
		{"99999999999", "JPY", 99999999999, "¥99,999,999,999"},
		{"0001.10", "HKD", 110, "HK$1.10"},
		{"8.88", "RMB", 888, "¥8.88"},
	}
	for _, tt := range tests {
		a, err := payment.ParseAmount(tt.in, cur(t, tt.currency))
		if err != nil {
			t.Errorf("ParseAmount(%q, %s): %v", tt.in, tt.currency, err)
			continue
		}
		if a.Minor != tt.minor || a.Display() != tt.display {
			t.Errorf("ParseAmount(%q, %s) = %d %q, want %d %q", tt.in, tt.currency, a.Minor, a.Display(), tt.minor, tt.display)
		}
		// String is the exact inverse.
		b, err := payment.ParseAmount(a.String(), a.Currency)
		if err != nil || b != a {
			t.Errorf("round trip of %q via %q: %v %v", tt.in, a.String(), b, err)
		}
	}
}

func TestParseAmountRejects(t *testing.T) {
	tests := []struct{ in, currency, rule string }{
		{"", "HKD", "is required"},
		{"abc", "HKD", "must be a number"},
		{"12.3.4", "HKD", "at most one decimal point"},
		{"-5", "HKD", "must not have a sign"},
		{"+5", "HKD", "must not have a sign"},
		{"1e3", "HKD", "exponent"},
		{"0", "HKD", "greater than zero"},
		{"0.00", "HKD", "greater than zero"},
		{"1.234", "HKD", "more than 2 decimal places"},
		{"1.5", "JPY", "JPY has no decimal places"},
		{"1000000000.00", "HKD", "11-digit limit"},
		{"100000000000", "JPY", "11-digit limit"},
		{"12 34", "HKD", "must be a number"},
		{"١٢", "HKD", "must be a number"},
		// A comma is read only as a thousands separator: "1,00" is not
		// HK$100.00, nor "12,50" HK$1,250.00.
		{"1,00", "HKD", "a comma may only separate thousands (1,234.50); write the decimals after a point"},
		{"12,50", "HKD", "a comma may only separate thousands"},
		{"1,0,0", "HKD", "a comma may only separate thousands"},
		{"1,2345", "HKD", "a comma may only separate thousands"},
		{"1234,567", "HKD", "a comma may only separate thousands"},
		{"1,,234", "HKD", "a comma may only separate thousands"},
		{",100", "HKD", "a comma may only separate thousands"},
		{"100,", "HKD", "a comma may only separate thousands"},
		{",", "HKD", "a comma may only separate thousands"},
		{"0,500", "HKD", "a comma may only separate thousands"},
		{"1,234.5,0", "HKD", "a comma may only separate thousands"},
		{"12.5,0", "HKD", "a comma may only separate thousands"},
		{"1,50", "JPY", "a comma may only separate thousands"},
	}
	for _, tt := range tests {
		_, err := payment.ParseAmount(tt.in, cur(t, tt.currency))
		var fe *payment.FieldError
		if !errors.As(err, &fe) || fe.Field != "amount" || !strings.Contains(err.Error(), tt.rule) {
			t.Errorf("ParseAmount(%q, %s) error = %v, want an amount error containing %q", tt.in, tt.currency, err, tt.rule)
		}
	}
}

func TestCurrencies(t *testing.T) {
	for _, code := range payment.CurrencyCodes() {
		c := cur(t, code)
		want := 2
		if code == "JPY" {
			want = 0
		}
		if c.Exponent != want {
			t.Errorf("%s exponent %d, want %d (ISO 4217)", code, c.Exponent, want)
		}
	}
	if c := cur(t, "rmb"); c.Code != "CNY" {
		t.Errorf("RMB resolves to %s, want CNY", c.Code)
	}
	if _, err := payment.LookupCurrency("XYZ"); err == nil || !strings.Contains(err.Error(), "currency") {
		t.Errorf("unknown currency error = %v", err)
	}
}

// personReads is an amount in a form a person reads one way: plain digits
// with at most one point, or thousands grouped by commas (the first group
// 1–3 digits not starting with 0, then groups of three) before the point.
var personReads = regexp.MustCompile(`^(?:[0-9]*|[1-9][0-9]{0,2}(?:,[0-9]{3})+)(?:\.[0-9]*)?$`)

// referenceMinor is an independent reading of s: a decimal parse (math/big)
// of s without its thousands commas, in minor units; ok is false when s is
// not in a form personReads, or is not a whole number of minor units.
func referenceMinor(s string, cur payment.Currency) (minor *big.Int, ok bool) {
	s = strings.TrimSpace(s)
	if !personReads.MatchString(s) || strings.Trim(s, ".,") == "" {
		return nil, false
	}
	r, ok := new(big.Rat).SetString(strings.ReplaceAll(s, ",", ""))
	if !ok {
		return nil, false
	}
	r.Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(cur.Exponent)), nil)))
	if !r.IsInt() {
		return nil, false
	}
	return r.Num(), true
}

// FuzzParseAmount: whatever parses means to a person exactly what it means
// to ParseAmount, and everything a person reads one way that fits the
// gateway parses.
func FuzzParseAmount(f *testing.F) {
	for _, s := range []string{"12.34", "0.01", "1,000", "1e5", "-1", "99999999999", "", "1,00", "12,50", "1,0,0",
		"1,234.50", "12,345,678", "0,500", ",5", "1,234.", ".5", "0x10", "1_000", "1/2", " 7 ", "０１"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, cur := range []payment.Currency{{Code: "HKD", Exponent: 2}, {Code: "JPY", Exponent: 0}} {
			a, err := payment.ParseAmount(s, cur)
			want, readable := referenceMinor(s, cur)
			// More decimals than the currency has are refused even when
			// they are zeros ("1.230"), and JPY takes no point at all.
			if _, frac, point := strings.Cut(s, "."); point && (cur.Exponent == 0 || len(strings.TrimSpace(frac)) > cur.Exponent) {
				readable = false
			}
			if err != nil {
				if readable && want.Sign() > 0 && want.Cmp(big.NewInt(payment.MaxMinor)) <= 0 {
					t.Fatalf("%s %q: refused (%v), but it reads as %s minor units", cur.Code, s, err, want)
				}
				continue
			}
			if !readable {
				t.Fatalf("%s %q parsed to %d, but it is not in a form a person reads one way", cur.Code, s, a.Minor)
			}
			if want.Cmp(big.NewInt(a.Minor)) != 0 {
				t.Fatalf("%s %q parsed to %d minor units; a person reads %s", cur.Code, s, a.Minor, want)
			}
			if a.Minor <= 0 || a.Minor > payment.MaxMinor {
				t.Fatalf("%q parsed to out-of-range %d", s, a.Minor)
			}
			b, err := payment.ParseAmount(a.String(), cur)
			if err != nil || b != a {
				t.Fatalf("%q: round trip via %q gave %v, %v", s, a.String(), b, err)
			}
		}
	})
}

func TestPayTypeCatalog(t *testing.T) {
	for wallet, code := range map[string]string{
		"alipayhk": "801501", "alipay": "800101", "wechat": "800201", "payme": "805801",
		"unionpay": "800701", "fps": "802001", "octopus": "803701",
	} {
		p, err := payment.LookupPayType(wallet)
		if err != nil || p.Code != code || p.Mode != payment.MPM {
			t.Errorf("wallet %s = %+v, %v; want MPM %s", wallet, p, err, code)
		}
		if p.Name.En == "" || p.Name.ZhHant == "" || p.Name.ZhHans == "" {
			t.Errorf("%s lacks a name in some language: %+v", wallet, p.Name)
		}
	}
	fps, _ := payment.LookupPayType("802001")
	if fps.Refundable || fps.Cancel != payment.CancelNone {
		t.Errorf("FPS must be neither refundable nor cancellable: %+v", fps)
	}
	honours := map[string]bool{"800101": true, "801501": true, "800201": true}
	for _, p := range payment.MPMPayTypes() {
		if p.HonoursExpiry != honours[p.Code] {
			t.Errorf("%s HonoursExpiry = %v", p.Code, p.HonoursExpiry)
		}
	}
	if _, err := payment.LookupPayType("visa"); err == nil || !strings.Contains(err.Error(), "pay_type") {
		t.Errorf("unknown wallet error = %v", err)
	}
}

// A refusal shows the gateway's words for its code, else its message,
// and the hint about the kiosk's own settings in both.
func TestErrorReason(t *testing.T) {
	err := error(&payment.Error{Op: "create", Code: "1201", Text: "Insufficient balance, please use a different payment method"})
	var ge *payment.Error
	if !errors.As(err, &ge) || !strings.Contains(ge.Reason(), "Insufficient balance") {
		t.Errorf("typed error: %v", err)
	}
	if c, ok := payment.CodeOf(err); !ok || c != "1201" {
		t.Errorf("CodeOf: %q, %v", c, ok)
	}
	hinted := &payment.Error{Op: "create", Code: "1108", Text: "Signature error", Hint: "check QFPAY_ENV"}
	if !strings.Contains(hinted.Reason(), "Signature error — check QFPAY_ENV") || !strings.Contains(hinted.Error(), "check QFPAY_ENV") {
		t.Errorf("hint not shown: %q / %q", hinted.Reason(), hinted.Error())
	}
	if bare := (&payment.Error{Op: "refund", Code: "77", Message: "no"}); bare.Reason() != "no" || !strings.Contains(bare.Error(), "respcd 77: no") {
		t.Errorf("a code the gateway has no words for: %q / %q", bare.Reason(), bare.Error())
	}
}

func TestFormatMinor(t *testing.T) {
	hkd, jpy := cur(t, "HKD"), cur(t, "JPY")
	for _, c := range []struct {
		minor         int64
		cur           payment.Currency
		plain, people string
	}{
		{0, hkd, "0.00", "HK$0.00"}, {5, hkd, "0.05", "HK$0.05"}, {-5, hkd, "-0.05", "−HK$0.05"},
		{-1234, hkd, "-12.34", "−HK$12.34"}, {123456789, hkd, "1234567.89", "HK$1,234,567.89"},
		{1500, jpy, "1500", "¥1,500"}, {-7, jpy, "-7", "−¥7"},
	} {
		if got := payment.FormatMinor(c.minor, c.cur); got != c.plain {
			t.Errorf("FormatMinor(%d, %s) = %q, want %q", c.minor, c.cur.Code, got, c.plain)
		}
		if got := payment.DisplayMinor(c.minor, c.cur); got != c.people {
			t.Errorf("DisplayMinor(%d, %s) = %q, want %q", c.minor, c.cur.Code, got, c.people)
		}
	}
	// The cashier's amount shows exactly what was typed.
	for typed, want := range map[string]string{"": "HK$", "12.": "HK$12.", "1234.5": "HK$1,234.5", "1000000": "HK$1,000,000"} {
		if got := payment.DisplayDecimal(typed, hkd); got != want {
			t.Errorf("DisplayDecimal(%q) = %q, want %q", typed, got, want)
		}
	}
}

// A gateway that takes fewer wallets, or treats them otherwise, declares
// its own catalog; lookups through it find only what it takes.
type twoWalletGateway struct{}

func (twoWalletGateway) PayTypes() payment.Catalog {
	var c payment.Catalog
	for _, w := range []string{"alipay", "wechat"} {
		p, _ := payment.LookupPayType(w)
		p.HonoursExpiry, p.Cancel = false, payment.CancelNone
		c = append(c, p)
	}
	return c
}

func TestGatewayCatalog(t *testing.T) {
	if got := payment.PayTypesOf(struct{}{}); len(got) != len(payment.AllPayTypes()) {
		t.Fatalf("a gateway without a catalog takes %d pay types, want the whole catalog", len(got))
	}
	c := payment.PayTypesOf(twoWalletGateway{})
	if got := strings.Join(c.MPMWallets(), ","); got != "alipay,wechat" {
		t.Fatalf("wallets %s, want alipay,wechat", got)
	}
	p, err := c.Lookup("800201")
	if err != nil || p.Wallet != "wechat" || p.Cancel != payment.CancelNone || p.HonoursExpiry {
		t.Fatalf("lookup by code: %+v, %v; want the gateway's own WeChat Pay (no cancel, no expiry)", p, err)
	}
	if _, err := c.Lookup("payme"); err == nil || !strings.Contains(err.Error(), "alipay, wechat") {
		t.Fatalf("a wallet the gateway does not take: %v; want an error naming the ones it does", err)
	}
	// The whole catalog is a copy: changing it changes nothing for others.
	all := payment.AllPayTypes()
	all[0].Cancel = payment.CancelNone
	if p, _ := payment.LookupPayType(all[0].Code); p.Cancel == payment.CancelNone {
		t.Fatal("AllPayTypes handed out the catalog itself")
	}
}

// The core decides by the outcome its gateway client read, never by the
// gateway's code: a record that states none decides nothing.
func TestTransactionStatus(t *testing.T) {
	for _, c := range []struct {
		txn  payment.Transaction
		want payment.Outcome
	}{
		{payment.Transaction{Status: payment.OutcomePending}, payment.OutcomePending},
		{payment.Transaction{Status: payment.OutcomePaid}, payment.OutcomePaid},
		{payment.Transaction{Status: payment.OutcomeFailed, Code: "0000"}, payment.OutcomeFailed},
		{payment.Transaction{Code: "0000"}, payment.OutcomeUnknown}, // a code alone says nothing to the core
		{payment.Transaction{}, payment.OutcomeUnknown},
	} {
		if got := c.txn.Outcome(); got != c.want {
			t.Errorf("%+v: outcome %s, want %s", c.txn, got, c.want)
		}
	}
	if payment.OutcomeUnknown.Final() || !payment.OutcomeFailed.Final() || payment.OutcomePending.Final() {
		t.Error("Final: only decided outcomes are final")
	}
}
