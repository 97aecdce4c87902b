package posclient

import (
	"crypto/md5"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
)

// maxNotice bounds a notification read.
const maxNotice = 64 << 10

// ErrBadSign: X-QF-SIGN is not MD5(raw body + notification key).
var ErrBadSign = errors.New("posclient: notification signature mismatch")

// Verify checks a notification's X-QF-SIGN as Odoo's /qfpay/notify does:
// upper-case hex MD5 of the raw body followed by the notification key,
// compared exactly (so a lower-case signature fails, as in Odoo) and in
// constant time.
func Verify(body []byte, sign, notifyKey string) error {
	sum := md5.Sum(append(append([]byte(nil), body...), notifyKey...))
	want := strings.ToUpper(hex.EncodeToString(sum[:]))
	if subtle.ConstantTimeCompare([]byte(want), []byte(sign)) != 1 {
		return ErrBadSign
	}
	return nil
}

// Notice is a notification as Odoo reads it.
type Notice struct {
	Raw    []byte
	Fields map[string]any
	// TradeNo is orig_out_trade_no when the key is present (a refund),
	// else out_trade_no; Odoo splits it into the payment line's uuid, the
	// session and the payment method.
	TradeNo, LineUUID, SessionID, PaymentMethodID string
	NotifyType, Status, SysSN, ChnlSN             string
}

// Paid is what Odoo's handleQFPayStatusResponse takes as success.
func (n *Notice) Paid() bool { return n.Status == "1" }

// Refund is what Odoo matches against the refunded order's payment lines.
func (n *Notice) Refund() bool { return n.NotifyType == "cancel" }

// ParseNotice reads a notification as Odoo's controller does before it
// checks the signature: JSON, then the trade number split on "--" into
// exactly three parts, the last two integers. Odoo drops (or fails on) a
// notification that breaks any of this.
func ParseNotice(body []byte) (*Notice, error) {
	n := &Notice{Raw: body}
	if err := json.Unmarshal(body, &n.Fields); err != nil {
		return nil, fmt.Errorf("posclient: notification is not a JSON object: %v", err)
	}
	tn, ok := n.Fields["orig_out_trade_no"]
	if !ok {
		tn = n.Fields["out_trade_no"]
	}
	if n.TradeNo, ok = tn.(string); !ok {
		return nil, errors.New("posclient: notification has no out_trade_no string")
	}
	parts := strings.Split(n.TradeNo, "--")
	if len(parts) != 3 || !isInt(parts[1]) || !isInt(parts[2]) {
		return nil, fmt.Errorf("posclient: trade number %q is not uuid--session--method", n.TradeNo)
	}
	n.LineUUID, n.SessionID, n.PaymentMethodID = parts[0], parts[1], parts[2]
	n.NotifyType, _ = n.Fields["notify_type"].(string)
	n.Status, _ = n.Fields["status"].(string)
	n.SysSN, _ = n.Fields["syssn"].(string)
	n.ChnlSN, _ = n.Fields["chnlsn"].(string)
	return n, nil
}

func isInt(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// Receiver is a POS's webhook (Odoo's /qfpay/notify): it reads and checks
// each notification as Odoo does, hands a good one to OnNotice and answers
// "SUCCESS"; anything else is answered 400 with the reason, which makes
// the sender try again.
type Receiver struct {
	NotifyKey string
	OnNotice  func(*Notice)
	Log       *slog.Logger // nil: slog.Default()
}

func (r *Receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	log := r.Log
	if log == nil {
		log = slog.Default()
	}
	if req.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, maxNotice))
	if err != nil {
		http.Error(w, "body unreadable or too large", http.StatusBadRequest)
		return
	}
	n, err := ParseNotice(body)
	if err == nil {
		err = Verify(body, req.Header.Get("X-QF-SIGN"), r.NotifyKey)
	}
	if err != nil {
		log.Warn("webhook notification refused", "err", err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	log.Info("webhook notification", "trade_no", n.TradeNo, "notify_type", n.NotifyType, "status", n.Status, "syssn", n.SysSN)
	if r.OnNotice != nil {
		r.OnNotice(n)
	}
	_, _ = io.WriteString(w, "SUCCESS")
}
