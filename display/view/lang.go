package view

import (
	"fmt"
	"slices"
	"strings"

	"qrkiosk/payment"
)

// Lang is one of the three languages of every customer text.
type Lang int

const (
	En     Lang = iota // English
	ZhHant             // Traditional Chinese, as Hong Kong writes it
	ZhHans             // Simplified Chinese, as mainland visitors read it
)

// Tag is the language's name in the languages setting and its BCP 47 tag
// on a web page ("en", "zh-Hant", "zh-Hans").
func (l Lang) Tag() string {
	switch l {
	case ZhHant:
		return "zh-Hant"
	case ZhHans:
		return "zh-Hans"
	}
	return "en"
}

func (l Lang) of(n payment.Names) string {
	switch l {
	case ZhHant:
		return n.ZhHant
	case ZhHans:
		return n.ZhHans
	}
	return n.En
}

// Order is the order a text's languages are stacked in, the first the
// largest. Every order has all three: English is always there.
type Order [3]Lang

var (
	// DefaultOrder is for what no wallet is known for: the welcome, a
	// request for a payment code, a scanned code whose wallet the gateway
	// tells from the code.
	DefaultOrder = Order{En, ZhHant, ZhHans}
	// hongKong is for Hong Kong's wallets: Traditional Chinese first.
	hongKong = Order{ZhHant, En, ZhHans}
	// mainland is for the mainland's wallets, whose customers read
	// Simplified Chinese.
	mainland = Order{ZhHans, En, ZhHant}
)

// walletOrders says whose customers read what, by the catalog's wallet key.
// UnionPay QuickPass (云闪付) is a mainland app: with WeChat Pay and Alipay
// it is how mainland visitors pay. A wallet not listed (the all-in-one
// scanned code, whose wallet is not known) gets DefaultOrder.
var walletOrders = map[string]Order{
	"alipay":       mainland,
	"wechat":       mainland,
	"unionpay":     mainland,
	"alipay-cpm":   mainland,
	"wechat-cpm":   mainland,
	"unionpay-cpm": mainland,

	"alipayhk":     hongKong,
	"payme":        hongKong,
	"fps":          hongKong,
	"octopus":      hongKong,
	"wechathk-cpm": hongKong,
	"payme-cpm":    hongKong,
}

// Languages is the shop's choice of order: follow each order's wallet (the
// zero value), or one fixed order on every screen.
type Languages struct {
	fixed Order
	isSet bool
}

// FollowWallet is the setting's value for "the order of each wallet".
const FollowWallet = "wallet"

// Fixed is the fixed order o.
func Fixed(o Order) Languages { return Languages{fixed: o, isSet: true} }

// ParseLanguages reads the languages setting: "wallet" (or empty) follows
// each order's wallet; otherwise the three tags "en", "zh-Hant" and
// "zh-Hans", each once, in the order to show them (case and spaces do not
// matter).
func ParseLanguages(s string) (Languages, error) {
	s = strings.TrimSpace(s)
	if s == "" || strings.EqualFold(s, FollowWallet) {
		return Languages{}, nil
	}
	parts := strings.Split(s, ",")
	if len(parts) != 3 {
		return Languages{}, fmt.Errorf("%q: must be %q or the three languages en, zh-Hant and zh-Hans in the order to show them, separated by commas", s, FollowWallet)
	}
	var o Order
	seen := map[Lang]bool{}
	for i, p := range parts {
		l, ok := parseTag(strings.TrimSpace(p))
		if !ok {
			return Languages{}, fmt.Errorf("%q: %q is not a language: use en, zh-Hant and zh-Hans", s, strings.TrimSpace(p))
		}
		if seen[l] {
			return Languages{}, fmt.Errorf("%q: %s is named twice: name each of en, zh-Hant and zh-Hans once", s, l.Tag())
		}
		seen[l], o[i] = true, l
	}
	return Fixed(o), nil
}

func parseTag(s string) (Lang, bool) {
	for _, l := range []Lang{En, ZhHant, ZhHans} {
		if strings.EqualFold(s, l.Tag()) {
			return l, true
		}
	}
	return 0, false
}

// String is the setting that parses back to l.
func (l Languages) String() string {
	if !l.isSet {
		return FollowWallet
	}
	return l.fixed[0].Tag() + "," + l.fixed[1].Tag() + "," + l.fixed[2].Tag()
}

// For is the order for an order paid with p.
func (l Languages) For(p payment.PayType) Order {
	if l.isSet {
		return l.fixed
	}
	if o, ok := walletOrders[p.Wallet]; ok {
		return o
	}
	return DefaultOrder
}

// Default is the order where no wallet is known.
func (l Languages) Default() Order {
	if l.isSet {
		return l.fixed
	}
	return DefaultOrder
}

// Lines are the texts to stack for n in order o, each language once: a
// line the same as one above it is left out (most wallet names, and many
// short texts, are written the same in both Chinese scripts).
func Lines(n payment.Names, o Order) []string { return TextOf(n, o, Ink).Lines }

// TextOf is n's lines in order o, each with its language, in tone.
func TextOf(n payment.Names, o Order, tone Tone) Text {
	t := Text{Tone: tone}
	for _, l := range o {
		s := l.of(n)
		if s != "" && !slices.Contains(t.Lines, s) {
			t.Lines = append(t.Lines, s)
			t.Langs = append(t.Langs, l)
		}
	}
	return t
}

// Inline joins a short label's languages on one line.
func Inline(n payment.Names, o Order) string { return strings.Join(Lines(n, o), "   ") }
