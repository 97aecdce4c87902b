// Package storesql is what the relay's two SQL stores share: the group
// commit of appends, and the queries written once for both dialects.
package storesql

import (
	"crypto/rand"
	"fmt"
	"strings"
	"time"

	"qrkiosk/relay/store"
)

// ClaimHours is a claim TTL in whole hours, at least 1: claims are
// counted in hourly buckets.
func ClaimHours(ttl time.Duration) int64 { return max(1, int64((ttl+time.Hour-1)/time.Hour)) }

// ClaimHour is the bucket a claim made at t is counted in.
func ClaimHour(t time.Time) int64 { return t.Unix() / 3600 }

// ClaimQuotaSQL counts one new claim in its hour's bucket of a device
// (or, with udid "", of the merchant), ?1-?3, and returns the bucket's
// count plus the earlier ones after hour ?4: the claims within TTL.
// Written with ?N placeholders; PostgreSQL's are $N.
const ClaimQuotaSQL = `INSERT INTO claim_quota (merchant, udid, hour, claims) VALUES (?1, ?2, ?3, 1)
	ON CONFLICT (merchant, udid, hour) DO UPDATE SET claims = claim_quota.claims + 1
	RETURNING claims + (SELECT coalesce(sum(q.claims), 0) FROM claim_quota q
		WHERE q.merchant = ?1 AND q.udid = ?2 AND q.hour > ?4 AND q.hour < ?3)`

// CountClaim counts a new claim of udid's, and of its merchant's, inside
// the claim's transaction; past one of l's limits it returns the limit's
// error and the caller rolls the claim back. quota runs ClaimQuotaSQL
// with args.
func CountClaim(l store.ClaimLimits, quota func(args ...any) (int, error), merchant, udid string, now time.Time) error {
	if l.TTL <= 0 {
		return nil
	}
	return countQuota(quota, merchant, now, ClaimHours(l.TTL), "new orders within "+l.TTL.String(),
		limit{udid, l.PerDevice, store.ErrDeviceClaimLimit}, limit{"", l.PerMerchant, store.ErrMerchantClaimLimit})
}

// ReceiptQuotaSQL is ClaimQuotaSQL for the receipts' own counts.
var ReceiptQuotaSQL = strings.ReplaceAll(ClaimQuotaSQL, "claim_quota", "receipt_quota")

// ReceiptDay is the window the receipt limits count in.
const ReceiptDay = 24 * time.Hour

// CountReceipt is CountClaim for a new receipt, within a day; quota runs
// ReceiptQuotaSQL.
func CountReceipt(l store.ReceiptLimits, quota func(args ...any) (int, error), merchant, udid string, now time.Time) error {
	return countQuota(quota, merchant, now, ClaimHours(ReceiptDay), "new receipts within 24h",
		limit{udid, l.PerDevice, store.ErrDeviceReceiptLimit}, limit{"", l.PerMerchant, store.ErrMerchantReceiptLimit})
}

// limit is one count a quota keeps: a device's (or, udid "", the
// merchant's), at most max (0 = unbounded), err past it.
type limit struct {
	udid string
	max  int
	err  error
}

// countQuota counts one more in each limit's hourly bucket and checks the
// sum of the last hours buckets.
func countQuota(quota func(args ...any) (int, error), merchant string, now time.Time, hours int64, what string, limits ...limit) error {
	hour := ClaimHour(now)
	for _, c := range limits {
		if c.max <= 0 {
			continue
		}
		n, err := quota(merchant, c.udid, hour, hour-hours)
		if err != nil {
			return fmt.Errorf("relay: quota: %w", err)
		}
		if n > c.max {
			return fmt.Errorf("%w: %d %s, at most %d", c.err, n-1, what, c.max)
		}
	}
	return nil
}

// ProbeBody is what Store.Probe writes: as large as the largest notification,
// and random, so that no compression makes it smaller.
func ProbeBody() []byte {
	b := make([]byte, store.MaxNotifyBody)
	rand.Read(b)
	return b
}

// PruneChunk is how many rows one pruning transaction deletes: small, so
// notifications arriving meanwhile wait for the writer a few ms at most.
const PruneChunk = 500

// ReplayWhere builds the WHERE … LIMIT of a replay page for either SQL
// dialect: style "?" (SQLite) or "$" ($1, $2… in PostgreSQL).
func ReplayWhere(q store.ReplayQuery, style string, after int64, limit int, at func(time.Time) any) (string, []any) {
	var args []any
	ph := func(v any) string {
		args = append(args, v)
		if style == "?" {
			return "?"
		}
		return fmt.Sprintf("$%d", len(args))
	}
	var b strings.Builder
	b.WriteString("WHERE merchant = " + ph(q.Scope.Merchant) + " AND id > " + ph(after))
	if q.Scope.UDID != "" {
		// A correlated EXISTS is a primary-key probe per candidate row; an
		// IN over the device's claims would scan the merchant's claims.
		b.WriteString(" AND (udid = " + ph(q.Scope.UDID) + " OR (udid = '' AND EXISTS (SELECT 1 FROM order_claims c" +
			" WHERE c.merchant = notifications.merchant AND c.out_trade_no = notifications.out_trade_no AND c.udid = " +
			ph(q.Scope.UDID) + ")))")
	}
	var match []string
	if q.OutTradeNo != "" {
		match = append(match, "out_trade_no = "+ph(q.OutTradeNo))
	}
	if q.UDID != "" {
		match = append(match, "(udid = "+ph(q.UDID)+" AND received_at >= "+ph(at(q.Since.Truncate(time.Microsecond)))+")")
	}
	if len(match) == 0 {
		match = append(match, "false")
	}
	b.WriteString(" AND (" + strings.Join(match, " OR ") + ") ORDER BY id LIMIT " + ph(limit))
	return b.String(), args
}
