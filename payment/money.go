package payment

import (
	"strconv"
	"strings"
)

// Currency is an ISO 4217 currency the gateway accepts, with the number of
// digits of its minor unit. Amounts travel as integers of that minor unit.
type Currency struct {
	Code     string // ISO 4217 code as sent to the gateway ("HKD")
	Exponent int    // digits after the decimal point (2 for HKD, 0 for JPY)
	Symbol   string // short prefix for display ("HK$")
}

// currencies lists the currencies of QFPay's currency table (seed 003) with
// their ISO 4217 minor units.
var currencies = map[string]Currency{
	"AED": {"AED", 2, "AED "},
	"AUD": {"AUD", 2, "A$"},
	"CAD": {"CAD", 2, "C$"},
	"CNY": {"CNY", 2, "¥"},
	"EUR": {"EUR", 2, "€"},
	"HKD": {"HKD", 2, "HK$"},
	"IDR": {"IDR", 2, "Rp "},
	"JPY": {"JPY", 0, "¥"},
	"MMK": {"MMK", 2, "K "},
	"MYR": {"MYR", 2, "RM "},
	"SGD": {"SGD", 2, "S$"},
	"THB": {"THB", 2, "฿"},
	"USD": {"USD", 2, "US$"},
}

// MaxMinor is the largest txamt the gateway takes: its field is Int(11).
const MaxMinor int64 = 99_999_999_999

// LookupCurrency finds a supported currency by code, case-insensitively.
// "RMB" (used in older QFPay pages) is accepted as CNY.
func LookupCurrency(code string) (Currency, error) {
	c := strings.ToUpper(strings.TrimSpace(code))
	if c == "RMB" {
		c = "CNY"
	}
	cur, ok := currencies[c]
	if !ok {
		return Currency{}, fieldErr("currency", code, "must be one of "+strings.Join(CurrencyCodes(), ", "))
	}
	return cur, nil
}

// CurrencyCodes lists the supported currency codes in a stable order.
func CurrencyCodes() []string {
	return []string{"AED", "AUD", "CAD", "CNY", "EUR", "HKD", "IDR", "JPY", "MMK", "MYR", "SGD", "THB", "USD"}
}

// Amount is an exact sum of money: an integer count of the currency's minor
// unit. There is deliberately no float anywhere on this path.
type Amount struct {
	Minor    int64
	Currency Currency
}

// NewAmount builds an amount from minor units, checking the gateway's bounds.
func NewAmount(minor int64, cur Currency) (Amount, error) {
	if minor <= 0 {
		return Amount{}, fieldErr("amount", "", "must be greater than zero")
	}
	if minor > MaxMinor {
		return Amount{}, fieldErr("amount", "", "must be at most "+Amount{MaxMinor, cur}.String()+" (the gateway's 11-digit limit)")
	}
	return Amount{Minor: minor, Currency: cur}, nil
}

// ruleThousands is the rule a misplaced comma breaks: "12,50" is 12.50 to
// much of the world and 1,250 to the rest, so only one reading is taken.
const ruleThousands = "a comma may only separate thousands (1,234.50); write the decimals after a point"

// ParseAmount reads a decimal amount typed by a person ("12.34", "1,000.5")
// in the given currency. It is exact: the digits are read as an integer of
// minor units. It rejects anything that could be misread: signs, exponents,
// zero, more decimals than the currency has, and a comma anywhere but
// between groups of thousands.
func ParseAmount(s string, cur Currency) (Amount, error) {
	in := strings.TrimSpace(s)
	if in == "" {
		return Amount{}, fieldErr("amount", "", "is required")
	}
	if strings.ContainsAny(in, "+-") {
		return Amount{}, fieldErr("amount", s, "must not have a sign")
	}
	if strings.ContainsAny(in, "eE") {
		return Amount{}, fieldErr("amount", s, "must be written in plain digits, not as an exponent")
	}
	whole, frac, hasPoint := strings.Cut(in, ".")
	if strings.Contains(frac, ".") {
		return Amount{}, fieldErr("amount", s, "must have at most one decimal point")
	}
	if !allDigits(strings.ReplaceAll(whole, ",", "")) || !allDigits(strings.ReplaceAll(frac, ",", "")) {
		return Amount{}, fieldErr("amount", s, "must be a number such as 12.34")
	}
	if strings.Contains(frac, ",") || !thousandsGrouped(whole) {
		return Amount{}, fieldErr("amount", s, ruleThousands)
	}
	whole = strings.ReplaceAll(whole, ",", "")
	if whole == "" && frac == "" {
		return Amount{}, fieldErr("amount", s, "must be a number such as 12.34")
	}
	if hasPoint && cur.Exponent == 0 {
		return Amount{}, fieldErr("amount", s, cur.Code+" has no decimal places")
	}
	if len(frac) > cur.Exponent {
		return Amount{}, fieldErr("amount", s, "has more than "+itoa(int64(cur.Exponent))+" decimal places for "+cur.Code)
	}
	frac += strings.Repeat("0", cur.Exponent-len(frac))
	whole = strings.TrimLeft(whole, "0")
	all := whole + frac
	// Eleven digits fit the gateway; anything longer is too large whatever it
	// is, and checking length first keeps the arithmetic below overflow-free.
	trimmed := strings.TrimLeft(all, "0")
	if len(trimmed) > 11 {
		return Amount{}, fieldErr("amount", s, "must be at most "+Amount{MaxMinor, cur}.String()+" (the gateway's 11-digit limit)")
	}
	var minor int64
	for _, r := range trimmed {
		minor = minor*10 + int64(r-'0')
	}
	a, err := NewAmount(minor, cur)
	if err != nil {
		err.(*FieldError).Value = s
	}
	return a, err
}

// String formats the amount as a plain decimal with exactly the currency's
// decimal places ("12.30", "1500"), the inverse of ParseAmount.
func (a Amount) String() string {
	s := itoa(a.Minor)
	if a.Currency.Exponent == 0 {
		return s
	}
	e := a.Currency.Exponent
	if len(s) <= e {
		s = strings.Repeat("0", e-len(s)+1) + s
	}
	return s[:len(s)-e] + "." + s[len(s)-e:]
}

// Display formats the amount for people: symbol, thousands separators and
// the currency's decimals ("HK$1,234.50").
func (a Amount) Display() string { return DisplayDecimal(a.String(), a.Currency) }

// FormatMinor writes a signed sum of minor units as an exact decimal with
// the currency's places ("-12.30", "1500"): a day's net can be negative
// when refunds of earlier sales exceed its takings.
func FormatMinor(minor int64, cur Currency) string {
	if minor < 0 {
		return "-" + Amount{Minor: -minor, Currency: cur}.String()
	}
	return Amount{Minor: minor, Currency: cur}.String()
}

// DisplayMinor is FormatMinor for people, as Display writes it, with a
// minus sign before the symbol when negative ("−HK$12.30").
func DisplayMinor(minor int64, cur Currency) string {
	if minor < 0 {
		return "−" + Amount{Minor: -minor, Currency: cur}.Display()
	}
	return Amount{Minor: minor, Currency: cur}.Display()
}

// DisplayDecimal writes a plain decimal ("1234.5", "12.") for people, with
// the currency's symbol and thousands separators, keeping its digits as
// they are: the cashier's amount shows exactly what has been typed.
func DisplayDecimal(plain string, cur Currency) string {
	whole, frac, hasPoint := strings.Cut(plain, ".")
	var b strings.Builder
	b.WriteString(cur.Symbol)
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if hasPoint {
		b.WriteByte('.')
		b.WriteString(frac)
	}
	return b.String()
}

// TxAmt is the amount as the gateway's txamt field.
func (a Amount) TxAmt() string { return itoa(a.Minor) }

// thousandsGrouped reports whether the commas in whole, if any, separate
// thousands: a first group of one to three digits not starting with 0
// ("0,500" reads as a half to many), then groups of exactly three.
func thousandsGrouped(whole string) bool {
	if !strings.Contains(whole, ",") {
		return true
	}
	groups := strings.Split(whole, ",")
	if first := groups[0]; len(first) < 1 || len(first) > 3 || first[0] == '0' {
		return false
	}
	for _, g := range groups[1:] {
		if len(g) != 3 {
			return false
		}
	}
	return true
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
