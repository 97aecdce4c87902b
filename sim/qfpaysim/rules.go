package qfpaysim

import (
	"maps"
	"slices"
	"strings"

	"qrkiosk/payment"
)

// The gateway's own rules per pay type. They are kept here, apart from the
// payment package's pay type table, on purpose: the simulator models what
// QFPay does, and must not follow the client's reading of the docs by
// construction (tests would then prove nothing).

// cancelRule says how the gateway withdraws an unfinished order.
type cancelRule struct {
	reversal bool // POST /trade/v1/reversal
	close    bool // POST /trade/v1/close
	// reversalRefunds: reversing an order that was already paid revokes
	// and refunds it (Alipay, seed 001) instead of failing.
	reversalRefunds bool
}

// cancelRules: QFPay's reversal/cancel page lists reversal for Alipay MPM
// (800101, 801501), WeChat MPM (800201) and Alipay CPM (800108), close for
// WeChat CPM (800208, 801008, and 800008 "for WeChat"). Older QFPay pages
// send WeChat MPM to close instead, so 800201 is accepted on both. A pay
// type missing here has no cancel: "Hong Kong PayTypes do not support
// transaction cancel" (PayMe 805801/805808, UnionPay 800701/800708, FPS
// 802001, Octopus 803701). An all-in-one (800008) order follows the rule of
// the wallet that took it (see txn.rulePayType): reversal for Alipay, close
// for WeChat, none for UnionPay and PayMe.
var cancelRules = map[string]cancelRule{
	"800101": {reversal: true, reversalRefunds: true},
	"801501": {reversal: true, reversalRefunds: true},
	"800108": {reversal: true, reversalRefunds: true},
	"800201": {reversal: true, close: true},
	"800208": {close: true},
	"801008": {close: true},
}

// hongKongNoCancel is the gateway's answer text for a cancel of a pay type
// without one.
const hongKongNoCancel = "Hong Kong PayTypes do not support transaction cancel"

// honoursExpiredTime: the pay types whose orders expire at the merchant's
// expired_time; every other one expires at the gateway's own expiry.
var honoursExpiredTime = map[string]bool{
	"800201": true, "800101": true, "801512": true, "801501": true,
	"801107": true, "801101": true, "801010": true, "801510": true,
}

// notRefundable: "Payment method does not support refunds" (FPS).
var notRefundable = map[string]bool{"802001": true}

// Customer-presented (CPM) payments: the cashier scans the payment code in
// the customer's wallet and sends it as auth_code.

// wallet is the wallet that issued a customer's payment code.
type wallet int

const (
	walletWeChat wallet = iota + 1
	walletAlipay
	walletUnionPay
	walletPayMe
)

func (w wallet) String() string {
	switch w {
	case walletWeChat:
		return "WeChat Pay"
	case walletAlipay:
		return "Alipay"
	case walletUnionPay:
		return "UnionPay"
	case walletPayMe:
		return "PayMe"
	}
	return "no wallet"
}

// codePrefixes: how wallets' payment codes begin, by their first two
// digits. WeChat Pay 10-15, Alipay 25-30 and UnionPay 62 are the
// wallets' published ranges (QFPay's own samples: 134857…, 280438…).
// PayMe publishes none; the simulator gives it 88.
var codePrefixes = map[string]wallet{
	"10": walletWeChat, "11": walletWeChat, "12": walletWeChat, "13": walletWeChat, "14": walletWeChat, "15": walletWeChat,
	"25": walletAlipay, "26": walletAlipay, "27": walletAlipay, "28": walletAlipay, "29": walletAlipay, "30": walletAlipay,
	"62": walletUnionPay,
	"88": walletPayMe,
}

// codePrefixHelp says which codes the simulator takes, for answers that
// refuse one.
const codePrefixHelp = "WeChat Pay codes begin 10-15, Alipay 25-30, UnionPay 62, PayMe 88"

// Payment codes are 16 to 24 digits (WeChat and Alipay 18, UnionPay 19).
const (
	minCodeLen = 16
	maxCodeLen = 24
)

// walletOfCode tells the wallet from a well-formed code's prefix.
func walletOfCode(code string) (wallet, bool) {
	w, ok := codePrefixes[code[:2]]
	return w, ok
}

// wellFormedCode: 16 to 24 ASCII digits.
func wellFormedCode(code string) bool {
	if len(code) < minCodeLen || len(code) > maxCodeLen {
		return false
	}
	return strings.Trim(code, "0123456789") == ""
}

// cpmPayType is a CPM pay type: which wallets' codes it takes.
type cpmPayType struct {
	payment.PayType
	wallets []wallet
}

// allInOne is the pay type that takes every wallet's code and lets the
// gateway tell them apart.
const allInOne = "800008"

// cpmPayTypes are the CPM pay types the gateway takes (QFPay's CPM page).
// They are the simulator's own table, like the rules above, and include
// WeChat Pay HK (801008), for merchants settled by WeChat HK directly.
var cpmPayTypes = map[string]cpmPayType{
	allInOne: {cpm(allInOne, "All-in-one", "多合一"), []wallet{walletWeChat, walletAlipay, walletUnionPay, walletPayMe}},
	"800108": {cpm("800108", "Alipay", "支付寶"), []wallet{walletAlipay}},
	"800208": {cpm("800208", "WeChat Pay", "微信支付"), []wallet{walletWeChat}},
	"801008": {cpm("801008", "WeChat Pay HK", "微信支付香港"), []wallet{walletWeChat}},
	"805808": {cpm("805808", "PayMe", "PayMe"), []wallet{walletPayMe}},
	"800708": {cpm("800708", "UnionPay QuickPass", "銀聯雲閃付"), []wallet{walletUnionPay}},
}

func cpm(code, en, zh string) payment.PayType {
	return payment.PayType{Code: code, Mode: payment.CPM, Name: payment.Names{En: en, ZhHant: zh, ZhHans: zh}, Refundable: true}
}

// walletPayType is the CPM pay type of each wallet on its own: an
// all-in-one order is that wallet's payment underneath (its cancel rule,
// and with Config.AllInOneNamesWallet its pay_type on the wire).
var walletPayType = map[wallet]string{
	walletWeChat:   "800208",
	walletAlipay:   "800108",
	walletUnionPay: "800708",
	walletPayMe:    "805808",
}

// takes reports whether the pay type accepts codes of wallet w.
func (c cpmPayType) takes(w wallet) bool {
	for _, x := range c.wallets {
		if x == w {
			return true
		}
	}
	return false
}

// cpmCodes lists the CPM pay types, for parameter errors.
func cpmCodes() string {
	return strings.Join(slices.Sorted(maps.Keys(cpmPayTypes)), ", ")
}

// Magic codes: the last four digits of a well-formed code choose what the
// customer does, for tests and the demo. Any other ending confirms after
// Config.CPMConfirmAfter.
const (
	suffixPaidAtOnce   = "0000" // paid at once: the answer is 0000
	suffixNeverConfirm = "9999" // never confirmed: 1145 until withdrawn
	suffixBadCode      = "1202" // the wallet refuses the code: 1202
	suffixNoBalance    = "1201" // insufficient balance: 1201
	suffixPassword     = "1143" // 1143 (entering the password), then confirmed as by default
)
