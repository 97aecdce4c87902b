package payment

import "time"

// State is where an order is in its life. Only the order Machine changes it.
type State int

const (
	StateCreating        State = iota // create call in flight (or its outcome being resolved)
	StateAwaitingPayment              // QR is showing; the customer may pay
	StatePaid
	StateFailed
	StateExpired
	StateCancelled
)

func (s State) String() string {
	switch s {
	case StateCreating:
		return "creating"
	case StateAwaitingPayment:
		return "awaiting_payment"
	case StatePaid:
		return "paid"
	case StateFailed:
		return "failed"
	case StateExpired:
		return "expired"
	case StateCancelled:
		return "cancelled"
	}
	return "unknown"
}

// Final reports whether the order's result is decided. A final state still
// turns into Paid if the gateway later proves the customer paid ("paid late"):
// the gateway's word wins over what the kiosk showed.
func (s State) Final() bool { return s >= StatePaid }

// Snapshot is a consistent, read-only view of an order for observers (the
// customer screen, the cashier pane, the CLI). Observers show it; they never
// derive a state of their own.
type Snapshot struct {
	OutTradeNo string
	SysSN      string
	QRCode     string
	Amount     Amount
	PayType    PayType
	GoodsName  string
	State      State
	Created    time.Time // when the sale was rung up
	// Deadline is when the kiosk stops offering the QR. It is taken from the
	// machine's clock, so with the real clock it carries a monotonic reading:
	// time.Until(Deadline) is immune to wall-clock jumps.
	Deadline time.Time
	// Cancelling: the cashier asked to cancel (or the deadline passed) and the
	// gateway is being asked to withdraw the order.
	Cancelling bool
	// Code and Reason explain a Failed order (and a failed create).
	Code   Code
	Reason string
	// Late: the order was Expired or Cancelled on screen and then turned out
	// to be paid. The cashier must see this at once.
	Late bool
	// PushUp: the push link (relay) is connected; otherwise polling is fast.
	PushUp bool
	// GatewayUnreachable: several queries in a row have failed; the order
	// is still live and will be settled when the gateway answers.
	GatewayUnreachable bool
}

// Event is one change of an order, delivered to observers in order.
type Event struct {
	Snapshot
	// Kind names the change: "created", "awaiting_payment", "paid", "failed",
	// "expired", "cancelled", "cancelling", "paid_late", "push_up",
	// "push_down".
	Kind string
	At   time.Time
}
