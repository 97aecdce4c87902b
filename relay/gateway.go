package relay

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"qrkiosk/payment/qfpay"
	"qrkiosk/payment/scanforpay"
)

// A Gateway is one payment gateway's notification rule: how a notify
// request is proven genuine with a merchant's key, what the relay indexes
// it by, and the reply that stops the gateway's retries. QFPay's is
// below; another gateway is one more implementation registered in
// gateways, served at /notify/{Name}/{merchant}.
type Gateway interface {
	// Name is the notify path segment and the stored gateway name.
	Name() string
	// Verify checks the raw body and the request's headers with the
	// merchant's key, exactly as the kiosk will check them again, and
	// extracts the index fields. (A gateway whose notifications do not say
	// which device an order is from may take it from the notify URL the
	// kiosk gave with the order: r carries it.) Errors wrap ErrNotGenuine
	// (answered 401) or ErrMalformed (signature good, body unusable: 400).
	Verify(raw []byte, r *http.Request, key string) (Notice, error)
	// Reply is the answer, once stored, that tells the gateway to stop.
	Reply() (contentType, body string)
	// AllowListed reports whether the notifier allow-list (--allow-ip)
	// applies: the gateway publishes the addresses it notifies from.
	AllowListed() bool
}

// Notice is what a Gateway extracts from a genuine notification.
type Notice struct {
	EventID    string // the gateway's transaction id (QFPay syssn); with Kind the de-duplication key
	Kind       string // payment, refund, …
	OutTradeNo string
	UDID       string // the device the order was created on, if the gateway reports it ("" if not)
	Sign       string // the signature as sent, forwarded to the kiosk ("" if it is inside the body)
	SignType   string
}

// maxIndexField bounds each index field of a notice: QFPay's own limits
// are far lower (out_trade_no 128 bytes, udid 40).
const maxIndexField = 256

// check refuses index fields no store can keep as text (PostgreSQL
// rejects NUL) or that no gateway sends; the relay answers such a
// notification as malformed instead of failing the batch it would be in.
func (n Notice) check() error {
	for name, v := range map[string]string{"syssn": n.EventID, "notify_type": n.Kind, "out_trade_no": n.OutTradeNo, "udid": n.UDID} {
		switch {
		case len(v) > maxIndexField:
			return fmt.Errorf("%w: %s longer than %d bytes", ErrMalformed, name, maxIndexField)
		case strings.ContainsRune(v, 0) || !utf8.ValidString(v):
			return fmt.Errorf("%w: %s is not clean UTF-8 text", ErrMalformed, name)
		}
	}
	return nil
}

var (
	// ErrNotGenuine: the signature is missing or wrong for this merchant.
	ErrNotGenuine = errors.New("relay: notification signature missing or invalid")
	// ErrMalformed: genuinely signed, but not a notification we can index.
	ErrMalformed = errors.New("relay: malformed notification")
)

// gateways are the notification rules the relay knows, by Name.
var gateways = map[string]Gateway{
	qfpayGateway{}.Name():      qfpayGateway{},
	scanforpayGateway{}.Name(): scanforpayGateway{},
}

// qfpayGateway is QFPay's rule (spec "Asynchronous notification"):
// X-QF-SIGN = UPPERCASE(MD5(raw body + client_key)), MD5 only, and the
// reply "SUCCESS".
type qfpayGateway struct{}

func (qfpayGateway) Name() string { return "qfpay" }

func (qfpayGateway) Reply() (string, string) { return "text/plain", "SUCCESS" }

func (qfpayGateway) AllowListed() bool { return true }

// Verify accepts exactly what the kiosk's qfpay.Client.VerifyNotification
// accepts (the same function, MD5): a notification the kiosk would reject
// is not stored, answered SUCCESS or forwarded. QFPay documents MD5 only
// for notifications, so a sign-type header other than MD5 is refused
// rather than honoured.
func (qfpayGateway) Verify(raw []byte, r *http.Request, key string) (Notice, error) {
	h := r.Header
	if st := strings.TrimSpace(h.Get(qfpay.HeaderSignType)); st != "" && !strings.EqualFold(st, string(qfpay.SignMD5)) {
		return Notice{}, fmt.Errorf("%w: %s %q: QFPay signs notifications with MD5 only", ErrNotGenuine, qfpay.HeaderSignType, st)
	}
	sign := h.Get(qfpay.HeaderSign)
	if err := qfpay.VerifyNotification(raw, sign, key, qfpay.SignMD5); err != nil {
		return Notice{}, fmt.Errorf("%w: %v", ErrNotGenuine, err)
	}
	n, err := qfpay.ParseNotification(raw)
	if err != nil {
		return Notice{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return Notice{EventID: n.SysSN, Kind: n.Kind, OutTradeNo: n.OutTradeNo, UDID: n.UDID, Sign: sign,
		SignType: string(qfpay.SignMD5)}, nil
}

// scanforpayGateway is ScanForPay's rule (spec "Notification"): the
// signature is inside the response-shaped envelope, over the raw text of
// its response object, checked by the same function the kiosk uses
// (scanforpay.VerifyNotification); the reply is "success". ScanForPay
// publishes no notifier addresses, so --allow-ip does not apply. Its
// notifications name no device: a kiosk token sees them for the orders
// its device claimed (Store.Claim).
type scanforpayGateway struct{}

func (scanforpayGateway) Name() string { return scanforpay.Name }

func (scanforpayGateway) Reply() (string, string) { return "text/plain", scanforpay.Reply }

func (scanforpayGateway) AllowListed() bool { return false }

func (scanforpayGateway) Verify(raw []byte, r *http.Request, key string) (Notice, error) {
	n, err := scanforpay.VerifyNotification(raw, key)
	switch {
	case errors.Is(err, scanforpay.ErrMalformedNotification):
		return Notice{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	case err != nil:
		return Notice{}, fmt.Errorf("%w: %v", ErrNotGenuine, err)
	}
	// The same order is notified once paid and again once refunded: each
	// event is its own record.
	return Notice{EventID: n.EventID(), Kind: n.Event(), OutTradeNo: n.OutTradeNo, SignType: scanforpay.SignType}, nil
}
