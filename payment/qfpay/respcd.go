package qfpay

import "qrkiosk/payment"

// QFPay's vocabulary: its response codes (respcd) with their texts and what
// each means for an order, and its cancel flag. The client reads every
// answer through Outcome, so the order machine sees outcomes only; the code
// and its text travel with the transaction as opaque data for the cashier,
// the screens and the journal.

// Class is what a respcd means for a call.
type Class int

const (
	ClassFailure Class = iota
	ClassSuccess
	// ClassPending: the payment (or refund, or withdrawal) is in progress;
	// keep querying.
	ClassPending
)

func (c Class) String() string {
	switch c {
	case ClassSuccess:
		return "success"
	case ClassPending:
		return "pending"
	default:
		return "failure"
	}
}

// Named response codes. The full table with texts is respcdTexts.
const (
	CodeSuccess              payment.Code = "0000"
	CodeMaintenance          payment.Code = "1100"
	CodeReversalError        payment.Code = "1101"
	CodeDuplicateRequest     payment.Code = "1102"
	CodeFormatError          payment.Code = "1103"
	CodeParamError           payment.Code = "1104"
	CodeSignatureError       payment.Code = "1108"
	CodeAlreadyRefunded      payment.Code = "1125"
	CodeNoSuchTransaction    payment.Code = "1136"
	CodeOrderClosed          payment.Code = "1142"
	CodeUserPaying           payment.Code = "1143"
	CodeProcessing           payment.Code = "1145"
	CodeRefundDenied         payment.Code = "1155"
	CodeUnknownResult        payment.Code = "1161"
	CodeOrderExpired         payment.Code = "1181"
	CodeInsufficientBalance  payment.Code = "1201"
	CodeBadPaymentCode       payment.Code = "1202"
	CodeOrderAlreadyPaid     payment.Code = "1260"
	CodeOrderNotPaid         payment.Code = "1261"
	CodeOrderRefunded        payment.Code = "1262"
	CodeOrderCancelled       payment.Code = "1263"
	CodeOrderAlreadyClosed   payment.Code = "1264"
	CodeAmountWrong          payment.Code = "1266"
	CodeOrderMismatch        payment.Code = "1267"
	CodeOrderNotFound        payment.Code = "1268"
	CodeNoPartialRefundCurr  payment.Code = "1270"
	CodeNoPartialRefund      payment.Code = "1271"
	CodeRefundTooLarge       payment.Code = "1272"
	CodeBankBusy             payment.Code = "1297"
	CodeSlowNetworkDontRepay payment.Code = "1298"
	CodeBadCustomerCode      payment.Code = "2005"
	CodeDuplicateSerial      payment.Code = "2011"
)

// respcdTexts is QFPay's transaction status code table (seed 003), whole.
var respcdTexts = map[payment.Code]string{
	"0000": "Transaction successful",
	"1100": "System under maintenance",
	"1101": "Reversal error",
	"1102": "Duplicate request",
	"1103": "Request format error",
	"1104": "Request parameter error",
	"1105": "Device not activated",
	"1106": "Invalid device",
	"1107": "Device not allowed",
	"1108": "Signature error",
	"1125": "Transaction has been refunded already",
	"1136": "The transaction does not exist or is not operational",
	"1142": "Order already closed",
	"1143": "The order has not been paid for, the password is currently being entered",
	"1145": "Please wait while processing",
	"1147": "Wechat pay transaction error",
	"1150": "Your billing method is T0 and does not support canceling transactions.",
	"1155": "Refund request denied",
	"1161": "Unknown result, the transaction must be queried again",
	"1181": "Order expired",
	"1201": "Insufficient balance, please use a different payment method",
	"1202": "Incorrect or expired payment code, please show the correct payment code or refresh the payment code and retry",
	"1203": "Merchant account error, confirm that the payment account is configured correctly",
	"1204": "Bank error, confirm that the payment wallet is functionable",
	"1205": "The transaction failed. Please try again later",
	"1212": "Please use the UnionPay overseas payment code",
	"1241": "The store does not exist or the status is incorrect. Do not conduct payments",
	"1242": "The store has not been configured correctly, unable to conduct payments",
	"1243": "The store has been disabled. Do not conduct payments, contact the owner to confirm",
	"1250": "The transaction is forbidden. For more information please contact QFPay Customer Service Team",
	"1251": "The store has not been configured correctly, we are currently working to fix this problem",
	"1252": "System error when making the order request",
	"1254": "A problem occured. We are currently resolving the issue",
	"1260": "The order has already been paid for, please confirm the transaction result before conducting more transactions",
	"1261": "The order has not been paid for, please confirm the transaction result before conducting more transactions",
	"1262": "The order has been refunded, please confirm the order status before conducting more transactions",
	"1263": "The order has been cancelled, please confirm the order status before conducting more transactions",
	"1264": "The order has been closed, please confirm the order status before conducting more transactions",
	"1265": "The transaction cannot be refunded. Refunds for transactions between 11:30pm to 0:30am and special promotions cannot be processed.",
	"1266": "The transaction amount is wrong, please confirm the order status",
	"1267": "The order information does not match, please confirm the order status",
	"1268": "The order does not exist, please confirm the order status",
	"1269": "Today's unsettled transaction amount is insufficient. Refunds cannot be processed. Please confirm that the balance is sufficient",
	"1270": "This currency does not support partial refunds",
	"1271": "The selected transaction does not support partial refunds",
	"1272": "The refund amount is greater than the maximum amount that can be refunded for the original transaction",
	"1294": "The transaction may be non-compliant and has been prohibited by the bank",
	"1295": "The connection is slow, waiting for a network response",
	"1296": "The connection is slow, waiting for a network response. Please try again later or use other payment methods",
	"1297": "The banking system is busy. Please try again later or use other payment methods",
	"1298": "The connection is slow, waiting for a network response. In case you have already paid, do not repeat the payment. Please confirm the result later",
	"2005": "The customer payment code is incorrect or has expired, please refresh and restart the transaction process",
	"2011": "Transaction serial number repeats",
}

// ClassOf says whether the code means paid, still in progress, or failed.
// 1161 ("unknown result", QFPay's 2017 table) is not a failure: the
// outcome is not known yet, so it is asked again like 1143/1145.
func ClassOf(c payment.Code) Class {
	switch c {
	case CodeSuccess:
		return ClassSuccess
	case CodeUserPaying, CodeProcessing, CodeUnknownResult:
		return ClassPending
	default:
		return ClassFailure
	}
}

// Text is QFPay's description of the code, or "" when unknown.
func Text(c payment.Code) string { return respcdTexts[c] }

// Known reports whether the code is in QFPay's table.
func Known(c payment.Code) bool { _, ok := respcdTexts[c]; return ok }

// Uncertain reports codes after which the customer may have paid even
// though the call did not say so: the order must be confirmed by query,
// and never paid again.
func Uncertain(c payment.Code) bool {
	switch c {
	case "1295", "1296", CodeBankBusy, CodeSlowNetworkDontRepay, "1252", "1254", CodeMaintenance:
		return true
	}
	return ClassOf(c) == ClassPending
}

// Codes returns every code in the table.
func Codes() []payment.Code {
	out := make([]payment.Code, 0, len(respcdTexts))
	for c := range respcdTexts {
		out = append(out, c)
	}
	return out
}

// QFPay's cancel flag on a transaction (query and notification field
// "cancel"), carried as payment.Transaction.Cancel.
const (
	CancelFlagNone            = 0
	CancelFlagCPMReversed     = 1
	CancelFlagMPMCancelled    = 2
	CancelFlagRefunded        = 3
	CancelFlagPreAuthFinished = 4
	CancelFlagPartlyRefunded  = 5
)

// Outcome is what a transaction QFPay reports with this respcd and cancel
// flag means for the sale: withdrawn (cancel 1 or 2), pending while the
// customer confirms or the gateway processes (1143, 1145, 1161: ask
// again), paid (0000), expired (1181), closed, or else failed. A refund
// answered 1143 is pending here, and stays pending until a query says
// otherwise.
func Outcome(c payment.Code, cancel int) payment.Outcome {
	switch cancel {
	case CancelFlagMPMCancelled, CancelFlagCPMReversed:
		// Withdrawn; a reversal of a paid order also gives the money back.
		return payment.OutcomeClosed
	}
	if ClassOf(c) == ClassPending {
		return payment.OutcomePending
	}
	switch c {
	case CodeSuccess:
		return payment.OutcomePaid
	case CodeOrderExpired:
		return payment.OutcomeExpired
	case CodeOrderClosed, CodeOrderCancelled, CodeOrderAlreadyClosed:
		return payment.OutcomeClosed
	default:
		return payment.OutcomeFailed
	}
}

// scannedCodeReasons word the answers to a scanned code for the cashier:
// what to do, not only what went wrong.
var scannedCodeReasons = map[payment.Code]string{
	CodeBadPaymentCode:  "The customer's payment code is wrong or has expired: ask the customer to refresh the code, then scan it again.",
	CodeBadCustomerCode: "The customer's payment code is wrong or has expired: ask the customer to refresh the code, then scan it again.",
}

// Describe is the cashier's words for a respcd ("" when QFPay's table has
// none): what to do about a wrong payment code, else the table's text.
func Describe(c payment.Code) string {
	if r, ok := scannedCodeReasons[c]; ok {
		return r
	}
	return Text(c)
}

// read completes a transaction whose Code and Cancel are QFPay's: its
// outcome and the cashier's words for its code.
func read(t *payment.Transaction) {
	t.Status, t.Text = Outcome(t.Code, t.Cancel), Describe(t.Code)
}

// notFound reports the query answers that mean "no such transaction"
// rather than a failed query (QFPay documents 0000 with no data; older
// tables name these codes).
func notFound(c payment.Code) bool {
	return c == CodeNoSuchTransaction || c == CodeOrderNotFound
}

// duplicate reports the answers to a request whose out_trade_no the
// gateway has seen before (QFPay answers a repeated refund number with
// 1251 in production, whatever its table says 1251 means).
func duplicate(c payment.Code) bool {
	return c == CodeDuplicateRequest || c == CodeDuplicateSerial || c == "1251"
}
