package relay

import (
	"encoding/json"
	"time"
)

// Websocket message types (JSON text frames; see README.md).
const (
	TypeSubscribe    = "subscribe"    // kiosk → relay
	TypeUnsubscribe  = "unsubscribe"  // kiosk → relay
	TypeSubscribed   = "subscribed"   // relay → kiosk: replay for that subscription is complete
	TypeNotification = "notification" // relay → kiosk
	TypeError        = "error"        // relay → kiosk
)

// Limits on what a kiosk may send: QFPay caps out_trade_no at 128 bytes and
// udid at 40.
const (
	maxOutTradeNo   = 128
	maxUDID         = 64
	maxInboundFrame = 1024
)

// request is a kiosk → relay message. At least one of OutTradeNo and UDID
// is set; with both, notifications matching either are delivered.
type request struct {
	Type       string `json:"type"`
	OutTradeNo string `json:"out_trade_no,omitempty"`
	UDID       string `json:"udid,omitempty"`
}

// wireMessage is a relay → kiosk message. An error about a subscription
// carries its out_trade_no and/or udid.
type wireMessage struct {
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
}

// encodeNotification is the frame that carries r to a kiosk.
func encodeNotification(r *Record, replay bool) ([]byte, error) {
	return json.Marshal(notificationMessage(r, replay))
}

func notificationMessage(r *Record, replay bool) wireMessage {
	at := r.ReceivedAt.UTC()
	return wireMessage{
		Type:       TypeNotification,
		ID:         r.ID,
		Merchant:   r.Merchant,
		Gateway:    r.Gateway,
		SysSN:      r.SysSN,
		NotifyType: r.NotifyType,
		OutTradeNo: r.OutTradeNo,
		UDID:       r.UDID,
		Body:       r.Body,
		Sign:       r.Sign,
		SignType:   r.SignType,
		ReceivedAt: &at,
		Replay:     replay,
	}
}

// Message is one notification as a kiosk receives it. Body and Sign are
// exactly what the gateway sent, so the kiosk can verify them again with
// its own key before trusting anything in Body.
type Message struct {
	Body       []byte // the raw notification body exactly as the gateway sent it
	Sign       string // its X-QF-SIGN (QFPay); "" where the signature is in the body (ScanForPay)
	SignType   string // "MD5" for QFPay (it signs notifications with MD5 only), "SHA256" for ScanForPay
	ReceivedAt time.Time

	// Convenience copies of the relay's index fields; unverified until
	// Body+Sign are.
	ID         int64
	Merchant   string // the relay's merchant id
	Gateway    string // "qfpay"
	SysSN      string
	NotifyType string
	OutTradeNo string
	UDID       string
	Replay     bool // sent from the journal on (re)subscribe, not live
}
