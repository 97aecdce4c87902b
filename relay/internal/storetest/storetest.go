// Package storetest makes the notifications the relay's store tests
// store: QFPay-shaped bodies signed as QFPay signs them.
package storetest

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"qrkiosk/relay/store"
)

// Key signs the notifications Record makes.
const Key = "k3y-for-tests-only"

// MD5Sign computes X-QF-SIGN independently of the code under test.
func MD5Sign(body []byte, key string) string {
	sum := md5.Sum(append(append([]byte{}, body...), key...))
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// NotifBody is a QFPay payment or refund notification's body.
func NotifBody(kind, syssn, otn, udid string) []byte {
	return fmt.Appendf(nil, `{"notify_type":%q,"status":"1","respcd":"0000","syssn":%q,"out_trade_no":%q,`+
		`"txamt":"1500","txcurrcd":"HKD","pay_type":"800101","udid":%q,"sysdtm":"2025-01-02 10:00:00"}`,
		kind, syssn, otn, udid)
}

// Record is a QFPay notification of merchant's, signed with Key, as
// received at at.
func Record(merchant, syssn, kind, otn, udid string, at time.Time) *store.Record {
	body := NotifBody(kind, syssn, otn, udid)
	return &store.Record{Merchant: merchant, Gateway: "qfpay", SysSN: syssn, NotifyType: kind, OutTradeNo: otn, UDID: udid,
		Body: body, Sign: MD5Sign(body, Key), SignType: "MD5", ReceivedAt: at}
}

// MustAppend appends r, failing t on an error; it reports whether r was
// inserted (not a duplicate).
func MustAppend(t testing.TB, st store.Store, r *store.Record) bool {
	t.Helper()
	ok, err := st.Append(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// SysSNs lists the records' syssns in order.
func SysSNs(rs []*store.Record) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.SysSN)
	}
	return out
}
