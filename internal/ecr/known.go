package ecr

import (
	"slices"
	"strings"
)

// known are the content fields each instruction takes, as QFPay's docs
// list them (camera_id and wait_card_timeout concern a terminal's camera
// and card reader; they are taken and ignored).
var known = map[FuncType][]string{
	FuncPayment:       {"amt", "camera_id", "channel", "func_type", "moveToBack", "out_trade_no", "payment_timeout", "scan_type", "wait_card_timeout"},
	FuncRefund:        {"allow_modify_flag", "func_type", "moveToBack", "orderId", "refund_amount"},
	FuncPrintReceipt:  {"func_type", "orderId"},
	FuncPrintSummary:  {"func_type"},
	FuncInquiry:       {"func_type", "orderId", "out_trade_no"},
	FuncCancelRequest: {"func_type"},
}

// CheckFields refuses a request carrying a field its instruction does not
// take: Decode keeps such fields (a newer POS may send more), but a
// terminal that acted on a request it half understood could charge what
// the POS did not mean.
func CheckFields(r Request) error {
	want := known[r.FuncType()]
	for _, f := range r.Fields() {
		if !slices.Contains(want, f.Key) {
			return refuseField(ErrUnknownField, f.Key, "", "is not a field of func_type "+itoa(int(r.FuncType()))+" (it takes "+strings.Join(want, ", ")+")")
		}
	}
	return nil
}
