package qfpaysim

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
// WeChat CPM (800008, 800208, 801008). Older QFPay pages send WeChat MPM to
// close instead, so 800201 is accepted on both. A pay type missing here has
// no cancel: "Hong Kong PayTypes do not support transaction cancel" (PayMe
// 805801/805808, UnionPay 800701/800708, FPS 802001, Octopus 803701).
var cancelRules = map[string]cancelRule{
	"800101": {reversal: true, reversalRefunds: true},
	"801501": {reversal: true, reversalRefunds: true},
	"800108": {reversal: true, reversalRefunds: true},
	"800201": {reversal: true, close: true},
	"800008": {close: true},
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
