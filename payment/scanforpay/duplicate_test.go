package scanforpay

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"qrkiosk/payment"
)

// A notification whose signed text gives a key twice is refused as
// malformed, at every depth and in every spelling Go's decoder folds
// together: Go reads the last copy, another reader the first, so the
// signature does not say which one the gateway meant.
func TestNotificationWithADuplicatedKeyIsRefused(t *testing.T) {
	paid := notification(t, testKey, queried("QK-D", 1234, StatusPaid))
	signed, _ := OpenResponse(paid, testKey)
	unpaid, _ := Marshal(Response{Header: Header{Version: Version, PartnerNo: "10001"}, Body: mustJSON(queried("QK-D", 1, StatusUnpaid))})
	for name, raw := range map[string][]byte{
		// The stored body means "unpaid, HK$0.01" to a reader that takes
		// the first copy; the last copy carries the signature.
		"response twice":          []byte(`{"response":` + string(unpaid) + `,"response":` + string(signed) + `,"signature":"` + Sign(signed, testKey) + `"}`),
		"Response, then response": []byte(`{"Response":` + string(unpaid) + `,"response":` + string(signed) + `,"signature":"` + Sign(signed, testKey) + `"}`),
		"signature twice":         bytes.Replace(paid, []byte(`,"signature":`), []byte(`,"signature":"00","signature":`), 1),
		"status twice, signed":    notificationText(t, bytes.Replace(signed, []byte(`"status":1`), []byte(`"status":0,"status":1`), 1)),
		"status, \\u0073tatus":    notificationText(t, bytes.Replace(signed, []byte(`"status":1`), []byte(`"status":0,"\u0073tatus":1`), 1)),
		"header twice":            notificationText(t, bytes.Replace(signed, []byte(`"header":`), []byte(`"header":{},"header":`), 1)),
	} {
		n, err := VerifyNotification(raw, testKey)
		if n != nil || !errors.Is(err, ErrMalformedNotification) || !errors.Is(err, ErrDuplicateKey) {
			t.Errorf("%s: %+v, %v; want ErrMalformedNotification for a key given twice", name, n, err)
		}
		if err != nil && strings.Contains(err.Error(), Sign(signed, testKey)) {
			t.Errorf("%s: the error repeats the signature: %v", name, err)
		}
	}
	// The same text without the first copy is the genuine notification.
	if n, err := VerifyNotification(paid, testKey); err != nil || n.Event() != "paid" {
		t.Fatalf("genuine: %+v, %v", n, err)
	}
}

// notificationText seals a response text as sent, duplicate keys and all.
func notificationText(t *testing.T, obj []byte) []byte {
	t.Helper()
	return SealResponse(obj, testKey)
}

// An answer whose signed text gives a key twice is not believed: the
// query is an error, never a payment, and the refusal is logged without
// the merchant's key or the signature.
func TestAnswerWithADuplicatedKeyIsNotBelieved(t *testing.T) {
	g := newFake(t)
	var sigs []string
	g.editSigned = func(obj []byte) []byte {
		obj = bytes.Replace(obj, []byte(`"status":1`), []byte(`"status":0,"status":1`), 1)
		sigs = append(sigs, Sign(obj, testKey))
		return obj
	}
	g.on(PathQuery, func(Header, json.RawMessage) (any, bool) { return queried("QK-D", 1234, StatusPaid), true })
	var logs bytes.Buffer
	c := g.client(t, WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	txn, err := c.QueryOrder(context.Background(), payment.OrderRef{OutTradeNo: "QK-D"})
	if txn != nil || !errors.Is(err, ErrDuplicateKey) {
		t.Fatalf("query answered with status twice: %+v, %v; want ErrDuplicateKey and nothing", txn, err)
	}
	if !strings.Contains(logs.String(), "gives a key twice") || strings.Contains(logs.String(), testKey) {
		t.Fatalf("log:\n%s\nwant the refusal, without the key", logs.String())
	}
	for _, s := range sigs {
		if strings.Contains(logs.String(), s) {
			t.Fatalf("log repeats a signature:\n%s", logs.String())
		}
	}
}
