package payment

import (
	"context"
	"errors"
	"time"
)

// Outcome is what the gateway's record of a transaction means for the sale.
type Outcome int

const (
	OutcomePending Outcome = iota // not paid yet; may still be paid
	OutcomePaid                   // money taken (refunds after it do not undo the sale)
	OutcomeFailed                 // the payment attempt failed
	OutcomeClosed                 // withdrawn at the gateway (reversal, close, cancel)
	OutcomeExpired                // the QR ran out at the gateway
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
	default:
		return "pending"
	}
}

// Final reports whether the outcome can no longer change by itself.
func (o Outcome) Final() bool { return o != OutcomePending }

// QFPay's cancel flag on a transaction (query and notification field "cancel").
const (
	CancelFlagNone            = 0
	CancelFlagCPMReversed     = 1
	CancelFlagMPMCancelled    = 2
	CancelFlagRefunded        = 3
	CancelFlagPreAuthFinished = 4
	CancelFlagPartlyRefunded  = 5
)

// Transaction is one gateway record, as a query, a create or a notification
// reports it.
type Transaction struct {
	Kind       string // "payment" or "refund"
	SysSN      string
	OutTradeNo string
	PayType    string
	TxAmt      int64  // minor units
	Currency   string // ISO 4217
	Code       Code   // this transaction's own respcd
	Cancel     int    // CancelFlag*
	QRCode     string // only some gateways return it on query
	ErrMsg     string
	TxDtm      string
	SysDtm     string
	PayDtm     string
	OrigSysSN  string // refunds: the payment refunded
}

// Outcome classifies the transaction.
func (t Transaction) Outcome() Outcome {
	switch t.Cancel {
	case CancelFlagMPMCancelled, CancelFlagCPMReversed:
		// Withdrawn; a reversal of a paid order also gives the money back.
		return OutcomeClosed
	}
	switch t.Code {
	case CodeSuccess:
		return OutcomePaid
	case CodeUserPaying, CodeProcessing:
		return OutcomePending
	case CodeOrderExpired:
		return OutcomeExpired
	case CodeOrderClosed, CodeOrderCancelled, CodeOrderAlreadyClosed:
		return OutcomeClosed
	default:
		return OutcomeFailed
	}
}

// CreateRequest is a new merchant-presented QR order.
type CreateRequest struct {
	OutTradeNo string // generated once per sale; the idempotency key
	Amount     Amount
	PayType    PayType
	Expiry     time.Duration // whole minutes, MinExpiryMinutes..MaxExpiryMinutes
	GoodsName  string
	TxTime     time.Time // when the sale was rung up; sent as txdtm
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

// OrderRef identifies an order for a cancel.
type OrderRef struct {
	OutTradeNo string
	SysSN      string
	Amount     Amount
	PayType    PayType
	TxTime     time.Time
}

// Gateway is what the order machine needs from a payment gateway.
type Gateway interface {
	// CreateMPM creates the order. An unknown outcome must be resolved by the
	// implementation (query, then adopt or re-send with the same OutTradeNo),
	// never by a second order.
	CreateMPM(ctx context.Context, req CreateRequest) (*Created, error)
	// QueryOrder returns the gateway's record of the order, or ErrNotFound.
	QueryOrder(ctx context.Context, outTradeNo string) (*Transaction, error)
	// CancelOrder withdraws an unpaid order the way its pay type allows;
	// ErrCancelUnsupported where the wallet has no cancel.
	CancelOrder(ctx context.Context, ref OrderRef) error
}

// ErrCancelUnsupported: the wallet has no cancel; the order is left to expire.
var ErrCancelUnsupported = errors.New("this wallet cannot be cancelled at the gateway; the order is left to expire")
