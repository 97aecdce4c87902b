package payment

import (
	"sort"
	"strings"
	"time"
)

// Mode says who scans whom.
type Mode int

const (
	// MPM: merchant-presented QR; the customer scans our screen.
	MPM Mode = iota
	// CPM: customer-presented code; the cashier scans the customer's wallet.
	CPM
)

// CancelMethod is how an unpaid order is withdrawn at the gateway.
type CancelMethod int

const (
	// CancelNone: the gateway has no cancel for this wallet (QFPay: "Hong
	// Kong PayTypes do not support transaction cancel" — PayMe, UnionPay,
	// FPS, Octopus); the order is left to expire at the gateway, a payment
	// after the kiosk stopped offering it is a paid-late sale, and the final
	// state is decided by query.
	CancelNone CancelMethod = iota
	// CancelReversal: POST /trade/v1/reversal.
	CancelReversal
	// CancelClose: POST /trade/v1/close.
	CancelClose
)

func (c CancelMethod) String() string {
	switch c {
	case CancelReversal:
		return "reversal"
	case CancelClose:
		return "close"
	default:
		return "none"
	}
}

// Names is a customer-facing text in the three languages the kiosk shows.
type Names struct {
	En     string
	ZhHant string // Traditional Chinese (Hong Kong)
	ZhHans string // Simplified Chinese (mainland visitors)
}

// PayType is one entry of the gateway's pay-type catalog.
type PayType struct {
	Code          string // pay_type as sent to the gateway ("801501")
	Wallet        string // short key used on the command line ("alipayhk")
	Mode          Mode
	Name          Names
	HonoursExpiry bool // the gateway applies our expired_time
	Cancel        CancelMethod
	Refundable    bool
}

// payTypes is the catalog from the spec (docs/spec: MPM and CPM tables).
var payTypes = []PayType{
	{"801501", "alipayhk", MPM, Names{"Alipay HK", "支付寶香港", "支付宝香港"}, true, CancelReversal, true},
	{"800101", "alipay", MPM, Names{"Alipay", "支付寶", "支付宝"}, true, CancelReversal, true},
	{"800201", "wechat", MPM, Names{"WeChat Pay", "微信支付", "微信支付"}, true, CancelReversal, true},
	{"805801", "payme", MPM, Names{"PayMe", "PayMe", "PayMe"}, false, CancelNone, true},
	{"800701", "unionpay", MPM, Names{"UnionPay QuickPass", "銀聯雲閃付", "银联云闪付"}, false, CancelNone, true},
	{"802001", "fps", MPM, Names{"FPS", "轉數快", "转数快"}, false, CancelNone, false},
	{"803701", "octopus", MPM, Names{"Octopus", "八達通", "八达通"}, false, CancelNone, true},

	{"800108", "alipay-cpm", CPM, Names{"Alipay", "支付寶", "支付宝"}, false, CancelReversal, true},
	{"800208", "wechat-cpm", CPM, Names{"WeChat Pay", "微信支付", "微信支付"}, false, CancelClose, true},
	{"801008", "wechathk-cpm", CPM, Names{"WeChat Pay HK", "微信支付香港", "微信支付香港"}, false, CancelClose, true},
	{"800008", "allinone-cpm", CPM, Names{"Scanned code", "付款碼", "付款码"}, false, CancelClose, true},
	{"805808", "payme-cpm", CPM, Names{"PayMe", "PayMe", "PayMe"}, false, CancelNone, true},
	{"800708", "unionpay-cpm", CPM, Names{"UnionPay QuickPass", "銀聯雲閃付", "银联云闪付"}, false, CancelNone, true},
}

// Catalog is a list of pay types: the whole catalog, or the part of it one
// gateway takes, with how each behaves at that gateway.
type Catalog []PayType

// AllPayTypes is the whole catalog, as the gateway that takes every pay type
// treats them. A gateway that takes fewer, or treats some otherwise (no
// expiry, no cancel), says so through PayTypeCatalog.
func AllPayTypes() Catalog { return append(Catalog(nil), payTypes...) }

// Lookup finds a pay type by its code or wallet key.
func (c Catalog) Lookup(codeOrWallet string) (PayType, error) {
	k := strings.ToLower(strings.TrimSpace(codeOrWallet))
	for _, p := range c {
		if p.Code == k || p.Wallet == k {
			return p, nil
		}
	}
	return PayType{}, fieldErr("pay_type", codeOrWallet, "must be one of "+strings.Join(c.MPMWallets(), ", ")+" or a pay_type code of the catalog")
}

// MPM returns the pay types a customer can scan from our screen, in the
// order a Hong Kong counter lists them.
func (c Catalog) MPM() Catalog {
	var out Catalog
	for _, p := range c {
		if p.Mode == MPM {
			out = append(out, p)
		}
	}
	return out
}

// CPMPayTypes returns the pay types the cashier scans from the customer's
// phone, the all-in-one first.
func CPMPayTypes() []PayType {
	var out []PayType
	for _, p := range payTypes {
		if p.Mode == CPM {
			out = append(out, p)
		}
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].Code == AllInOneCPM })
	return out
}

// AllInOneCPM is the customer-presented pay type whose gateway tells the
// wallet apart from the scanned code (WeChat, Alipay, UnionPay, PayMe).
const AllInOneCPM = "800008"

// LookupCPMPayType finds the customer-presented pay type for a wallet
// ("alipay", "wechat", "wechathk", "payme", "unionpay"; "" or "allinone" =
// AllInOneCPM) or a CPM pay_type code.
func LookupCPMPayType(walletOrCode string) (PayType, error) {
	k := strings.ToLower(strings.TrimSpace(walletOrCode))
	switch k {
	case "", "allinone", "all-in-one":
		k = AllInOneCPM
	case "alipayhk":
		k = "alipay"
	}
	for _, p := range payTypes {
		if p.Mode == CPM && (p.Code == k || p.Wallet == k+"-cpm") {
			return p, nil
		}
	}
	return PayType{}, fieldErr("wallet", walletOrCode, "must be one of "+strings.Join(CPMWallets(), ", ")+" for a scanned code")
}

// CPMWallets lists the wallet names LookupCPMPayType takes.
func CPMWallets() []string { return AllPayTypes().CPMWallets() }

// CPMWallets lists the wallet names of the catalog's scanned-code pay
// types (as --wallet takes them with a scanned code), the all-in-one first.
func (c Catalog) CPMWallets() []string {
	var w []string
	for _, p := range c {
		if p.Mode == CPM {
			w = append(w, strings.TrimSuffix(p.Wallet, "-cpm"))
		}
	}
	sort.SliceStable(w, func(a, b int) bool { return w[a] == "allinone" })
	return w
}

// CPMConfirmWindow is how long a customer-presented payment may wait for
// the customer to confirm it on the phone (a pending answer) before it is
// withdrawn and the cashier charges again (QFPay: "more than 2 minutes").
const CPMConfirmWindow = 2 * time.Minute

// ValidateAuthCode checks a scanned payment code: 16 to 24 digits, as the
// wallets' codes are. Nothing is sent for a code that is not.
func ValidateAuthCode(code string) error {
	if n := len(code); n < 16 || n > 24 || strings.Trim(code, "0123456789") != "" {
		return &FieldError{Field: "auth_code", Rule: "must be the 16 to 24 digits of the customer's payment code"}
	}
	return nil
}

// MPMWallets lists the wallet keys of the MPM pay types, sorted.
func (c Catalog) MPMWallets() []string {
	var w []string
	for _, p := range c.MPM() {
		w = append(w, p.Wallet)
	}
	sort.Strings(w)
	return w
}

// PayTypeCatalog is a gateway that takes only part of the catalog, or
// treats pay types otherwise than the catalog says (a gateway without an
// expiry parameter or a cancel call). A gateway without it takes the whole
// catalog as written.
type PayTypeCatalog interface {
	PayTypes() Catalog
}

// PayTypesOf is the catalog of gateway g.
func PayTypesOf(g any) Catalog {
	if c, ok := g.(PayTypeCatalog); ok {
		return c.PayTypes()
	}
	return AllPayTypes()
}

// LookupPayType finds a pay type of the whole catalog by its code or wallet
// key.
func LookupPayType(codeOrWallet string) (PayType, error) {
	return Catalog(payTypes).Lookup(codeOrWallet)
}

// MPMPayTypes returns the whole catalog's pay types a customer can scan
// from our screen, in the order a Hong Kong counter lists them.
func MPMPayTypes() []PayType { return Catalog(payTypes).MPM() }

// MPMWallets lists the wallet keys of the whole catalog's MPM pay types,
// sorted.
func MPMWallets() []string { return Catalog(payTypes).MPMWallets() }

// ExpiryLimits are the bounds on how long a QR is offered, in minutes.
const (
	MinExpiryMinutes     = 5
	MaxExpiryMinutes     = 120
	DefaultExpiryMinutes = 30
)

// ValidateExpiry checks how long a QR is offered: whole minutes from 5 to
// 120; zero means the default.
func ValidateExpiry(d time.Duration) error {
	if d == 0 {
		return nil
	}
	if d%time.Minute != 0 || d < MinExpiryMinutes*time.Minute || d > MaxExpiryMinutes*time.Minute {
		return &FieldError{Field: "expired_time", Value: d.String(), Rule: "must be a whole number of minutes from 5 to 120"}
	}
	return nil
}
