package relay

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"testing"
	"time"

	"qrkiosk/payment/scanforpay"
	"qrkiosk/relay/wire"
)

const sfpKey = "sfp-k3y-for-tests-only"

// sfpNotification is a ScanForPay notification: the response-shaped
// envelope, signed (independently of the code under test) as SHA-256 of
// the raw response text + key.
func sfpNotification(key, orderNo, otn string, status int) []byte {
	resp := fmt.Sprintf(`{"header":{"version":"1.0","partnerNo":"10001","respTime":"2025-03-14T10:00:05+08:00","signType":"SHA256"},`+
		`"body":{"code":1,"msg":"success","orderNo":%q,"partnerOrderNo":%q,"orderAmount":1500,"wallet":"Alipay","currency":"HKD","status":%d,"payTime":"2025-03-14T10:00:04+08:00"}}`,
		orderNo, otn, status)
	sum := sha256.Sum256([]byte(resp + key))
	return []byte(`{"response":` + resp + `,"signature":"` + hex.EncodeToString(sum[:]) + `"}`)
}

func bothGateways(c *Config) { c.ScanForPayKey = sfpKey }

// A genuine ScanForPay notification is journaled, answered "success" and
// pushed byte for byte to the kiosk following its order; a repeat is
// answered again without a second push; a later "refunded" for the same
// order is its own event.
func TestScanForPayNotification(t *testing.T) {
	tr := startRelay(t, t.TempDir(), "127.0.0.1:0", bothGateways)
	k := dialKiosk(t, tr, nil)
	k.subscribe("QK-SFP-1", "")
	paid := sfpNotification(sfpKey, "2025031410000400001", "QK-SFP-1", scanforpay.StatusPaid)
	for range 2 {
		if code, got := post(t, http.DefaultClient, tr.url("/notify/scanforpay"), paid, nil); code != 200 || got != "success" {
			t.Fatalf("genuine notification: %d %q, want 200 success", code, got)
		}
	}
	m, err := k.next(5 * time.Second)
	if err != nil || m.Type != wire.TypeNotification || m.OutTradeNo != "QK-SFP-1" || m.SysSN != "2025031410000400001" || !bytes.Equal(m.Body, paid) || m.Sign != "" {
		t.Fatalf("pushed %+v, %v", m, err)
	}
	// What the kiosk verifies again with its own key.
	if _, err := scanforpay.VerifyNotification(m.Body, sfpKey); err != nil {
		t.Fatalf("the pushed body no longer verifies: %v", err)
	}
	refunded := sfpNotification(sfpKey, "2025031410000400001", "QK-SFP-1", scanforpay.StatusRefunded)
	if code, _ := post(t, http.DefaultClient, tr.url("/notify/scanforpay"), refunded, nil); code != 200 {
		t.Fatalf("refunded: %d", code)
	}
	if m, err := k.next(5 * time.Second); err != nil || !bytes.Equal(m.Body, refunded) {
		t.Fatalf("second push %+v, %v; want the refunded notification (the duplicate is not pushed)", m, err)
	}
	if n := storedCount(t, tr.s); n != 2 {
		t.Fatalf("%d stored, want 2", n)
	}
	if got := counter(t, tr.s, resultDuplicate); got != 1 {
		t.Fatalf("duplicates %v, want 1", got)
	}
}

func TestScanForPayForgedNotifications(t *testing.T) {
	tr := startRelay(t, t.TempDir(), "127.0.0.1:0", bothGateways)
	k := dialKiosk(t, tr, nil)
	k.subscribe("QK-SFP-F", "")
	good := sfpNotification(sfpKey, "2025031410000400002", "QK-SFP-F", scanforpay.StatusPaid)
	for _, c := range []struct {
		name string
		body []byte
		want int
	}{
		{"another key", sfpNotification("not-the-key", "2025031410000400002", "QK-SFP-F", scanforpay.StatusPaid), 401},
		{"amount changed after signing", bytes.Replace(good, []byte(`"orderAmount":1500`), []byte(`"orderAmount":15`), 1), 401},
		{"QFPay's form with its header", notifBody("payment", "S", "QK-SFP-F", ""), 401},
		{"signed, but no order in it", func() []byte {
			resp := `{"header":{"version":"1.0"},"body":{"code":1,"status":1}}`
			sum := sha256.Sum256([]byte(resp + sfpKey))
			return []byte(`{"response":` + resp + `,"signature":"` + hex.EncodeToString(sum[:]) + `"}`)
		}(), 400},
	} {
		if code, _ := post(t, http.DefaultClient, tr.url("/notify/scanforpay"), c.body, nil); code != c.want {
			t.Errorf("%s: %d, want %d", c.name, code, c.want)
		}
	}
	if n := storedCount(t, tr.s); n != 0 {
		t.Fatalf("%d forged notifications stored", n)
	}
	// The first thing the kiosk receives must be the genuine one.
	post(t, http.DefaultClient, tr.url("/notify/scanforpay"), good, nil)
	if m, err := k.next(5 * time.Second); err != nil || !bytes.Equal(m.Body, good) {
		t.Fatalf("first message %+v, %v", m, err)
	}
}

// A relay serves the gateways it has keys for, one or both.
func TestRelayServesTheGatewaysItHasKeysFor(t *testing.T) {
	body := sfpNotification(sfpKey, "1", "QK", scanforpay.StatusPaid)
	qfOnly := startRelay(t, t.TempDir(), "127.0.0.1:0", nil)
	if code, _ := post(t, http.DefaultClient, qfOnly.url("/notify/scanforpay"), body, nil); code != http.StatusNotFound {
		t.Fatalf("QFPay-only relay on /notify/scanforpay: %d", code)
	}
	sfpOnly := startRelay(t, t.TempDir(), "127.0.0.1:0", func(c *Config) { c.Key, c.ScanForPayKey = "", sfpKey })
	if code, _ := post(t, http.DefaultClient, sfpOnly.url("/notify/qfpay"), notifBody("payment", "S", "O", ""), map[string]string{"X-QF-SIGN": "X"}); code != http.StatusNotFound {
		t.Fatalf("ScanForPay-only relay on /notify/qfpay: %d", code)
	}
	if code, got := post(t, http.DefaultClient, sfpOnly.url("/notify/scanforpay"), body, nil); code != 200 || got != "success" {
		t.Fatalf("ScanForPay-only relay: %d %q", code, got)
	}
	if _, err := NewServer(Config{Token: "t", Store: sqliteAt(t, t.TempDir())}); err == nil {
		t.Fatal("a relay without any gateway key started")
	}
}
