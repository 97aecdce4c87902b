package payment

import (
	"context"
	"time"
)

// Code is a gateway's own response code as it sent it (QFPay's respcd,
// ScanForPay's code). The core never reads it: it travels with a
// transaction, a refusal and an order for the cashier, the screens, the
// logs and the journal. Each gateway client reads its codes into an Outcome.
type Code string

// Outcome is what the gateway's record of a transaction means for the sale.
// For a refund, Paid means the money was given back.
type Outcome int

const (
	// OutcomeUnknown is the zero value: the record states no outcome, so
	// nothing is decided by it and the gateway is asked again.
	OutcomeUnknown Outcome = iota
	OutcomePending         // not paid yet; may still be paid
	OutcomePaid            // money taken (refunds after it do not undo the sale)
	OutcomeFailed          // the payment attempt failed
	OutcomeClosed          // withdrawn at the gateway (reversal, close, cancel)
	OutcomeExpired         // the QR ran out at the gateway
)

func (o Outcome) String() string {
	switch o {
	case OutcomePaid:
		return "paid"
	case OutcomeFailed:
		return "failed"
	case OutcomeClosed:
		return "closed"
	case OutcomeExpired:
		return "expired"
	case OutcomePending:
		return "pending"
	default:
		return "unknown"
	}
}

// Final reports whether the outcome can no longer change by itself.
func (o Outcome) Final() bool { return o != OutcomePending && o != OutcomeUnknown }

// Transaction kinds.
const (
	TxnPayment = "payment"
	TxnRefund  = "refund"
)

// Transaction is one gateway record, as a query, a create or a notification
// reports it.
type Transaction struct {
	Kind       string // TxnPayment or TxnRefund
	SysSN      string // the gateway's own id of the transaction
	OutTradeNo string
	PayType    string
	TxAmt      int64  // minor units
	Currency   string // ISO 4217
	// Status is what the record means for the sale, as the gateway client
	// read it from its own codes and fields. It is the only part of the
	// record the order machine decides by.
	Status Outcome
	// Code, Text, ErrMsg and Cancel are the gateway's own words, carried
	// for the cashier, the screens, the logs and the journal: its code for
	// this transaction ("" where it has none), its words for that code for
	// the cashier ("" when it has none), the message it sent, and its flag
	// for a transaction withdrawn or refunded afterwards (QFPay's cancel,
	// ScanForPay's refunded status).
	Code      Code
	Text      string
	ErrMsg    string
	Cancel    int
	QRCode    string // only some gateways return it on query
	TxDtm     string
	SysDtm    string
	PayDtm    string
	OrigSysSN string // refunds: the payment refunded
	// ChnlSN is the wallet's own number of the transaction, where the
	// gateway gives it (QFPay's chnlsn): a POS keeps it as the payment's
	// reference.
	ChnlSN string
}

// Outcome is what the record means for the sale (Status).
func (t Transaction) Outcome() Outcome { return t.Status }

// CreateRequest is a new merchant-presented QR order.
type CreateRequest struct {
	OutTradeNo string // generated once per sale; the idempotency key
	Amount     Amount
	PayType    PayType
	Expiry     time.Duration // whole minutes, MinExpiryMinutes..MaxExpiryMinutes
	GoodsName  string
	TxTime     time.Time // when the sale was rung up; sent as txdtm
	// AuthCode is the customer's payment code the cashier scanned, for a
	// customer-presented (CPM) pay type. It is used once and never stored.
	AuthCode string
}

// Window is how long the sale is offered: the QR's expiry (the default
// when none is set), or for a scanned code the customer's time to confirm
// it on the phone.
func (r CreateRequest) Window() time.Duration {
	switch {
	case r.PayType.Mode == CPM:
		return CPMConfirmWindow
	case r.Expiry == 0:
		return DefaultExpiryMinutes * time.Minute
	}
	return r.Expiry
}

// Created is the gateway's answer to a create.
type Created struct {
	SysSN      string
	OutTradeNo string
	QRCode     string // the exact string to encode in the QR image
	Code       Code
	// Adopted: the create's outcome was unknown (timeout, dropped reply, 5xx)
	// and a query found the order already at the gateway.
	Adopted bool
	// Existing is the gateway's record when Adopted.
	Existing *Transaction
}

// OrderRef identifies an order at the gateway: its number, and what is
// known of it (a gateway may need the id it gave or the time it was rung
// up to find it).
type OrderRef struct {
	OutTradeNo string
	SysSN      string // "" until the gateway has answered the create
	Amount     Amount
	PayType    PayType
	TxTime     time.Time
}

// RefundRequest gives back all or part of a paid order.
type RefundRequest struct {
	// OutTradeNo is a NEW number for the refund, recorded before the call
	// and reused on every retry: the refund's idempotency key.
	OutTradeNo string
	// SysSN is the refund's own id at the gateway once it has answered
	// (for QueryRefund); "" before.
	SysSN  string
	Orig   OrderRef // the payment refunded
	Amount Amount   // at most what remains of the payment
	TxTime time.Time
}

// OrderGateway is what the order machine needs from a payment gateway.
type OrderGateway interface {
	// CreateMPM creates the order. An unknown outcome must be resolved by the
	// implementation (query, then adopt or re-send with the same OutTradeNo),
	// never by a second order.
	CreateMPM(ctx context.Context, req CreateRequest) (*Created, error)
	// QueryOrder returns the gateway's record of the order, or ErrNotFound.
	QueryOrder(ctx context.Context, ref OrderRef) (*Transaction, error)
	// CancelOrder withdraws an unpaid order the way its pay type allows;
	// ErrCancelUnsupported where the wallet has no cancel.
	CancelOrder(ctx context.Context, ref OrderRef) error
}

// Refunder gives money back.
type Refunder interface {
	// Refund sends the refund. An unknown outcome is an error wrapping
	// ErrOutcomeUnknown (settle it with QueryRefund, never by refunding
	// again); one that never reached the gateway wraps ErrNotSent.
	Refund(ctx context.Context, req RefundRequest) (*Transaction, error)
	// QueryRefund returns the gateway's record of a refund sent earlier,
	// or ErrNotFound.
	QueryRefund(ctx context.Context, req RefundRequest) (*Transaction, error)
}

// NotificationVerifier checks a pushed notification with the merchant's
// key and reads it. sign is the signature that came with the body (for
// gateways that sign the body in a header); a forged or malformed
// notification is an error and must change nothing.
type NotificationVerifier interface {
	VerifyNotification(body []byte, sign string) (*Transaction, error)
}

// Gateway is a payment gateway as the kiosk uses it: orders, refunds and
// notifications.
type Gateway interface {
	// Name is the gateway's short name, recorded with every order ("qfpay").
	Name() string
	OrderGateway
	Refunder
	NotificationVerifier
}

// CPMGateway is a gateway that charges a customer-presented payment code.
type CPMGateway interface {
	// ChargeCPM sends the payment once — never again: the code may already
	// be spent. It returns the gateway's record: paid, or pending while
	// the customer confirms on the phone. A refusal is an *Error; an unknown outcome an error wrapping ErrOutcomeUnknown
	// (settle it by query); one that never reached the gateway wraps
	// ErrNotSent.
	ChargeCPM(ctx context.Context, req CreateRequest) (*Transaction, error)
}

// CreateValidator is a gateway that can check a create request against its
// rules before anything is recorded or sent.
type CreateValidator interface {
	ValidateCreate(req CreateRequest) error
}

// DayLister is a gateway that can list a merchant's transactions of a
// period (reconcile uses it when the gateway has it).
type DayLister interface {
	ListTransactions(ctx context.Context, start, end time.Time) ([]Transaction, error)
}
