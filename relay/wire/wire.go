// Package wire is the websocket protocol between a kiosk and the notify
// relay: the JSON text frames each side sends on /ws, and their limits.
//
// Both sides import it and nothing else of each other, so a kiosk links
// no server code and the relay no client. A new kind of frame is a Type
// constant and the optional fields it carries; a peer that does not know
// a type ignores it (the client) or answers it with an error (the relay).
package wire

import "time"

// Frame types (see relay/README.md).
const (
	TypeSubscribe    = "subscribe"    // kiosk → relay
	TypeUnsubscribe  = "unsubscribe"  // kiosk → relay
	TypeSubscribed   = "subscribed"   // relay → kiosk: replay for that subscription is complete
	TypeNotification = "notification" // relay → kiosk
	TypeError        = "error"        // relay → kiosk
	// TypeReceipt stores an e-receipt (KioskFrame.Receipt) for the
	// customer to open; the relay answers TypeReceiptStored with its URL,
	// or TypeError, each carrying the frame's Ref.
	TypeReceipt       = "receipt"        // kiosk → relay
	TypeReceiptStored = "receipt_stored" // relay → kiosk
)

// HeaderUDID is the handshake header in which a kiosk names its device
// (QRKIOSK_UDID); ?udid= for clients that cannot set headers.
const HeaderUDID = "X-QRKiosk-UDID"

// Limits on what a kiosk may send: QFPay caps out_trade_no at 128 bytes
// and udid at 40.
const (
	MaxOutTradeNo = 128
	MaxUDID       = 64
	// MaxInboundFrame is one kiosk → relay frame, in bytes: a receipt's
	// eight texts of MaxReceiptText bytes fit even escaped as JSON.
	MaxInboundFrame = 16 << 10
)

// KioskFrame is a kiosk → relay frame. A subscription names at least one
// of OutTradeNo and UDID; with both, notifications matching either are
// delivered.
type KioskFrame struct {
	Type       string `json:"type"`
	OutTradeNo string `json:"out_trade_no,omitempty"`
	UDID       string `json:"udid,omitempty"`
	// Ref names a receipt frame; the relay's answer carries it back.
	Ref     string   `json:"ref,omitempty"`
	Receipt *Receipt `json:"receipt,omitempty"`
}

// RelayFrame is a relay → kiosk frame. An error about a subscription
// carries its out_trade_no and/or udid.
type RelayFrame struct {
	Type       string     `json:"type"`
	ID         int64      `json:"id,omitempty"`
	Merchant   string     `json:"merchant,omitempty"`
	Gateway    string     `json:"gateway,omitempty"`
	SysSN      string     `json:"syssn,omitempty"`
	NotifyType string     `json:"notify_type,omitempty"`
	OutTradeNo string     `json:"out_trade_no,omitempty"`
	UDID       string     `json:"udid,omitempty"`
	Body       []byte     `json:"body,omitempty"` // base64 of the raw body, byte for byte
	Sign       string     `json:"sign,omitempty"`
	SignType   string     `json:"sign_type,omitempty"`
	ReceivedAt *time.Time `json:"received_at,omitempty"`
	Replay     bool       `json:"replay,omitempty"`
	Replayed   *int       `json:"replayed,omitempty"`
	Error      string     `json:"error,omitempty"`
	// Ref and URL answer a receipt frame: where the customer opens it.
	Ref string `json:"ref,omitempty"`
	URL string `json:"url,omitempty"`
}
