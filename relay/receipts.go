package relay

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"

	"qrkiosk/payment"
	"qrkiosk/relay/store"
	"qrkiosk/relay/wire"
)

// maxReceiptRef bounds the kiosk's name for a receipt frame.
const maxReceiptRef = 64

// receiptIDBytes is the secret of a receipt's URL: 128 random bits, so a
// link cannot be guessed nor the receipts walked through.
const receiptIDBytes = 16

// newReceiptID is 128 bits from crypto/rand, base64url without padding
// (22 characters).
func newReceiptID() string {
	var b [receiptIDBytes]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// validReceiptID reports whether s could be an id newReceiptID made.
func validReceiptID(s string) bool {
	if len(s) != base64.RawURLEncoding.EncodedLen(receiptIDBytes) {
		return false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	return err == nil && len(b) == receiptIDBytes
}

// storeReceipt keeps a kiosk's e-receipt under a new secret id and answers
// with its link; a refusal answers an error carrying the frame's Ref, and
// nothing is stored. The receipt is the kiosk's credential's: its merchant,
// and its device (the shared token's: the device the kiosk announced).
func (s *Server) storeReceipt(c *wsConn, req wire.KioskFrame) {
	refuse := func(reason, msg string) {
		s.receiptLog.warn(s.log, "ws: receipt refused", "reason", reason, "remote", c.remote, "token_id", c.cred.tokenID,
			"merchant", c.cred.scope.Merchant, "udid", c.udid)
		s.reply(c, wire.RelayFrame{Type: wire.TypeError, Ref: req.Ref, Error: msg})
	}
	r := req.Receipt
	switch {
	case req.Ref == "" || len(req.Ref) > maxReceiptRef:
		refuse("bad_ref", "a receipt frame needs a ref of 1 to 64 bytes")
		return
	case s.cfg.ReceiptRetain < 0:
		refuse("off", "e-receipts are off on this relay")
		return
	case r == nil:
		refuse("malformed", "a receipt frame needs its receipt")
		return
	}
	if err := r.Check(); err != nil {
		refuse("malformed", err.Error())
		return
	}
	if _, err := payment.LookupCurrency(r.Currency); err != nil {
		refuse("malformed", "receipt currency: "+err.Error())
		return
	}
	data, err := json.Marshal(r) // as checked, not as sent
	if err != nil {
		refuse("malformed", "receipt: "+err.Error())
		return
	}
	udid := c.cred.scope.UDID
	if udid == "" {
		udid = c.udid
	}
	rec := &store.Receipt{ID: newReceiptID(), Merchant: c.cred.scope.Merchant, UDID: udid, Key: r.Kind + ":" + r.OutTradeNo, Data: data}
	id, err := onShortGoroutine(func() (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), s.cfg.WriteTimeout)
		defer cancel()
		return s.st.PutReceipt(ctx, rec, s.cfg.Receipts)
	})
	switch {
	case errors.Is(err, store.ErrDeviceReceiptLimit), errors.Is(err, store.ErrMerchantReceiptLimit):
		refuse("limit", err.Error())
		return
	case err != nil:
		s.log.Error("ws: storing a receipt", "out_trade_no", r.OutTradeNo, "err", err)
		refuse("unavailable", "relay storage unavailable")
		return
	}
	s.log.Info("receipt stored", "out_trade_no", r.OutTradeNo, "kind", r.Kind, "merchant", rec.Merchant, "udid", udid)
	s.reply(c, wire.RelayFrame{Type: wire.TypeReceiptStored, Ref: req.Ref, URL: s.receiptURL(c, id)})
}

// receiptURL is where a phone opens receipt id: under PublicURL, else
// over https at the host the kiosk reached.
func (s *Server) receiptURL(c *wsConn, id string) string {
	base := strings.TrimSuffix(s.cfg.PublicURL, "/")
	if base == "" {
		base = "https://" + c.host
	}
	return base + "/r/" + id
}
