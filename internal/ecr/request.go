package ecr

import (
	"time"

	"qrkiosk/payment"
)

// FuncType is the instruction code of a request (the content's func_type).
type FuncType int

// The instructions of QFPay's ECR protocol.
const (
	FuncPayment       FuncType = 1001 // a sale
	FuncRefund        FuncType = 1002 // refund or void a sale
	FuncPrintReceipt  FuncType = 3001
	FuncPrintSummary  FuncType = 3002 // the day's transaction summary
	FuncInquiry       FuncType = 4001 // one transaction, by syssn or out_trade_no
	FuncCancelRequest FuncType = 5001 // abort the payment or refund in progress
)

// endpoints are the paths under /api/pos/ QFPay's docs give each
// instruction (Odoo uses trade, cancel and cancel_request).
var endpoints = map[FuncType]string{
	FuncPayment:       "trade",
	FuncRefund:        "cancel",
	FuncPrintReceipt:  "print_receipt",
	FuncPrintSummary:  "transaction_info",
	FuncInquiry:       "query_transaction",
	FuncCancelRequest: "cancel_request",
}

// Endpoint is the last element of the instruction's path, /api/pos/<it>.
func (f FuncType) Endpoint() string { return endpoints[f] }

// FuncTypeOf finds the instruction an endpoint (trade, cancel, ...) serves.
func FuncTypeOf(endpoint string) (FuncType, bool) {
	for f, e := range endpoints {
		if e == endpoint {
			return f, true
		}
	}
	return 0, false
}

// CheckEndpoint refuses a request sent to another instruction's endpoint
// (a refund POSTed to /api/pos/trade), which a POS only does by mistake.
func CheckEndpoint(endpoint string, r Request) error {
	if want := r.FuncType().Endpoint(); want != endpoint {
		return refuseField(ErrWrongEndpoint, "func_type", "", "is "+itoa(int(r.FuncType()))+", which goes to /api/pos/"+want+", not /api/pos/"+endpoint)
	}
	return nil
}

// Request is one decoded instruction: *Payment, *Refund, *PrintReceipt,
// *PrintSummary, *Inquiry or *CancelRequest.
type Request interface {
	FuncType() FuncType
	// Fields is the content as it was sent, every field in its order,
	// those this package does not read as well.
	Fields() []Field
}

type sent struct{ fields []Field }

func (s sent) Fields() []Field { return append([]Field(nil), s.fields...) }

// ScanType is who scans whom in a payment (scan_type).
type ScanType string

const (
	// ScanUnset: the POS did not say; QFPay's terminal uses the mode used
	// last, the kiosk decides.
	ScanUnset ScanType = ""
	// ShowQR (QRCODE_PAY): the customer scans the kiosk's QR (MPM).
	ShowQR ScanType = "QRCODE_PAY"
	// ScanCode (SCAN_PAY): the kiosk scans the customer's code (CPM).
	ScanCode ScanType = "SCAN_PAY"
)

// Payment is func_type 1001: take amt from the customer.
type Payment struct {
	Amount     payment.Amount
	AmountText string // amt exactly as sent ("12.34", "10", "10.0")
	Channel    Channel
	// OutTradeNo is the POS's reference (Odoo: uuid--session--method); the
	// gateway order must carry it, as the POS matches the result by it.
	// Empty when the POS sent none (QFPay's docs make it optional).
	OutTradeNo string
	Timeout    time.Duration // payment_timeout; 0 when not sent
	Scan       ScanType
	MoveToBack bool // moveToBack=1: return to the home screen afterwards
	FrontCam   bool // camera_id=1: scan with the front camera
	sent
}

// Refund is func_type 1002: refund (or void, the same day) a payment.
type Refund struct {
	OrderID string // orderId: the payment's syssn (QFPay also takes its out_trade_no)
	// Amount is refund_amount; nil when not sent, which QFPay's docs read
	// as "all that is left to refund".
	Amount      *payment.Amount
	AmountText  string // refund_amount exactly as sent; "" when not sent
	AllowModify bool   // allow_modify_flag=1: the amount may be changed at the terminal
	MoveToBack  bool
	sent
}

// PrintReceipt is func_type 3001.
type PrintReceipt struct {
	OrderID string // "" when not sent
	sent
}

// PrintSummary is func_type 3002.
type PrintSummary struct{ sent }

// Inquiry is func_type 4001: one transaction by orderId (syssn) or
// out_trade_no; at least one is set.
type Inquiry struct {
	OrderID    string
	OutTradeNo string
	sent
}

// CancelRequest is func_type 5001: abort the payment or refund in progress.
type CancelRequest struct{ sent }

func (*Payment) FuncType() FuncType       { return FuncPayment }
func (*Refund) FuncType() FuncType        { return FuncRefund }
func (*PrintReceipt) FuncType() FuncType  { return FuncPrintReceipt }
func (*PrintSummary) FuncType() FuncType  { return FuncPrintSummary }
func (*Inquiry) FuncType() FuncType       { return FuncInquiry }
func (*CancelRequest) FuncType() FuncType { return FuncCancelRequest }
