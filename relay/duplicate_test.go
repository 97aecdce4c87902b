package relay

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"qrkiosk/payment/scanforpay"
)

// lockedBuffer is a log written by the relay's handlers and read by the
// test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// A genuinely signed notification whose body gives a key twice is answered
// as malformed (400) on both gateways' paths, logged without the key or
// the signature, and neither stored nor forwarded: the relay would store
// text that a reader taking the first copy reads otherwise than the kiosk.
func TestNotificationWithADuplicatedKeyIsNotStored(t *testing.T) {
	var logs lockedBuffer
	tr := startRelay(t, t.TempDir(), "127.0.0.1:0", func(c *Config) {
		bothGateways(c)
		c.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	k := dialKiosk(t, tr, nil)
	k.subscribe("QK-DUP", "")

	qf := bytes.Replace(notifBody("payment", "S-DUP", "QK-DUP", ""), []byte(`"txamt":"1500"`), []byte(`"txamt":"1","txamt":"1500"`), 1)
	qfSign := md5Sign(qf, testKey)
	if code, _ := post(t, http.DefaultClient, tr.url("/notify/qfpay"), qf, map[string]string{"X-QF-SIGN": qfSign}); code != http.StatusBadRequest {
		t.Errorf("QFPay, txamt twice: %d, want 400", code)
	}
	good := sfpNotification(sfpKey, "2025031410000400009", "QK-DUP", scanforpay.StatusPaid)
	resp, sig, _ := strings.Cut(strings.TrimPrefix(string(good), `{"response":`), `,"signature":"`)
	sig = strings.TrimSuffix(sig, `"}`)
	unpaid := strings.Replace(resp, `"status":1`, `"status":0`, 1)
	statusTwice := strings.Replace(resp, `"status":1`, `"status":0,"status":1`, 1)
	sum := sha256.Sum256([]byte(statusTwice + sfpKey))
	for name, body := range map[string]string{
		"response twice":       `{"response":` + unpaid + `,"response":` + resp + `,"signature":"` + sig + `"}`,
		"status twice, signed": `{"response":` + statusTwice + `,"signature":"` + hex.EncodeToString(sum[:]) + `"}`,
	} {
		if code, _ := post(t, http.DefaultClient, tr.url("/notify/scanforpay"), []byte(body), nil); code != http.StatusBadRequest {
			t.Errorf("ScanForPay, %s: %d, want 400", name, code)
		}
	}
	if n := storedCount(t, tr.s); n != 0 {
		t.Fatalf("%d notifications with a key twice stored", n)
	}
	if got := counter(t, tr.s, resultMalformed); got != 3 {
		t.Errorf("malformed = %v, want 3", got)
	}
	log := logs.String()
	if strings.Count(log, "gives a key twice") != 3 {
		t.Errorf("log does not name each refusal:\n%s", log)
	}
	for _, secret := range []string{testKey, sfpKey, qfSign, sig, hex.EncodeToString(sum[:])} {
		if strings.Contains(log, secret) {
			t.Fatalf("log repeats a key or signature %q:\n%s", secret, log)
		}
	}
	// The first thing the kiosk receives is the genuine notification.
	if code, _ := post(t, http.DefaultClient, tr.url("/notify/scanforpay"), good, nil); code != 200 {
		t.Fatalf("genuine: %d", code)
	}
	if m, err := k.next(5 * time.Second); err != nil || !bytes.Equal(m.Body, good) {
		t.Fatalf("first message %+v, %v; want the genuine notification", m, err)
	}
}
