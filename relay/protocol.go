package relay

import (
	"encoding/json"

	"qrkiosk/relay/store"
	"qrkiosk/relay/wire"
)

// encodeNotification is the frame that carries r to a kiosk.
func encodeNotification(r *store.Record, replay bool) ([]byte, error) {
	return json.Marshal(notificationFrame(r, replay))
}

func notificationFrame(r *store.Record, replay bool) wire.RelayFrame {
	at := r.ReceivedAt.UTC()
	return wire.RelayFrame{
		Type:       wire.TypeNotification,
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
