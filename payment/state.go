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
	// Code is the gateway's own code on the record that ended the order
	// (opaque: shown and journaled); Code and Reason explain a Failed order
	// (and a failed create).
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
	// An order that ended unpaid (Expired, Cancelled) either was Withdrawn
	// at the gateway — its QR can no longer be paid — or, on a wallet
	// without cancel, stays payable at the gateway until PayableUntil (zero:
	// until the gateway's own expiry, not known here). A payment after that
	// is reported as paid late.
	Withdrawn    bool
	PayableUntil time.Time
	// Confirming: a customer-presented payment waits for the customer to
	// confirm it on the phone (a password, a large amount).
	Confirming bool
	// ConfirmingPaid: a push says the order is paid and the gateway is
	// being asked to confirm it. A push is signed with the merchant's key,
	// which the relay holds too, so only the gateway's own answer turns an
	// order Paid; until it does the order is not paid.
	ConfirmingPaid bool
	// NotConfirmed: a customer-presented payment ended Failed because the
	// customer did not confirm it on the phone within CPMConfirmWindow.
	// Withdrawn says whether the gateway took it back; if not, the customer
	// can still confirm it, and it turns Paid late.
	NotConfirmed bool
	// Replaces is the out_trade_no of the order this one replaced: its
	// create answer was lost and a query cannot give its QR back, so it
	// was withdrawn and this one created instead (EventReissued).
	Replaces string
}

// Event is one change of an order, delivered to observers in order.
type Event struct {
	Snapshot
	Kind EventKind
	At   time.Time
}

// EventKind names what changed. Each kind has one meaning; the journal
// records it and the CLI prints it (charge --json's "event").
type EventKind string

const (
	// EventCreating: a new order's machine started; the create call is on its way.
	EventCreating EventKind = "creating"
	// EventResumed: a machine started on an order recorded before a
	// restart; it is not created again.
	EventResumed EventKind = "resumed"
	// EventChecking: the create's outcome is unknown (timeout, lost reply)
	// and the gateway is being asked whether the order exists.
	EventChecking EventKind = "checking"
	// EventCreated: the order exists at the gateway; its QR can be shown.
	EventCreated EventKind = "created"
	// EventReissued: the order was found at the gateway without its QR
	// (its create answer was lost); it is withdrawn and a new order, with a
	// new out_trade_no (the snapshot's; Replaces names the old one), is
	// being created for the same sale.
	EventReissued EventKind = "reissued"
	// EventConfirming: a customer-presented payment waits for the customer
	// to confirm it on the phone.
	EventConfirming EventKind = "confirming"
	// EventConfirmingPaid: a push says the order is paid; the gateway is
	// being asked whether it is (ConfirmingPaid) before the order turns Paid.
	EventConfirmingPaid EventKind = "confirming_paid"
	// EventPushDisputed: the gateway answered that an order a push said
	// was paid (or had failed) is not; the order goes on waiting and is
	// asked every PollFast. A forged push, or one the gateway's records
	// have not caught up with.
	EventPushDisputed EventKind = "push_disputed"
	// EventCancelling: the cashier asked to cancel, or the deadline passed;
	// the order is being withdrawn and settled by a final query.
	EventCancelling EventKind = "cancelling"
	// The final states.
	EventPaid      EventKind = "paid"
	EventFailed    EventKind = "failed"
	EventExpired   EventKind = "expired"
	EventCancelled EventKind = "cancelled"
	// EventPaidLate: an order shown Expired or Cancelled turned out paid.
	EventPaidLate EventKind = "paid_late"
	// EventPushUp and EventPushDown: the push link (relay) changed.
	EventPushUp   EventKind = "push_up"
	EventPushDown EventKind = "push_down"
	// EventGatewayUnreachable: several queries in a row failed while the
	// order is live; EventGatewayReachable: the gateway answers again.
	EventGatewayUnreachable EventKind = "gateway_unreachable"
	EventGatewayReachable   EventKind = "gateway_reachable"
)

// finalKind is the event kind of reaching a final state.
func finalKind(s State) EventKind {
	switch s {
	case StatePaid:
		return EventPaid
	case StateFailed:
		return EventFailed
	case StateExpired:
		return EventExpired
	case StateCancelled:
		return EventCancelled
	}
	panic("payment: not a final state: " + s.String())
}
