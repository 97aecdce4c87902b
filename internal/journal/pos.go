package journal

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// posSchema records what a shop's POS sent (QFPay's ECR protocol): each
// sale under the POS's own reference, which refunds it asked for, and the
// outbox of notifications to the POS's webhook, kept until the POS answers
// SUCCESS so that neither a restart nor an offline POS loses one.
const posSchema = `
CREATE TABLE IF NOT EXISTS pos_sales (
	ref          TEXT PRIMARY KEY, -- the POS's out_trade_no as sent (or the kiosk's, when it sent none)
	out_trade_no TEXT NOT NULL,    -- the order recorded for it; a replacement follows replaced_by
	created      INTEGER NOT NULL,
	done         INTEGER NOT NULL DEFAULT 0 -- its result is in the outbox, or it ended unpaid
);
ALTER TABLE refunds ADD COLUMN pos INTEGER NOT NULL DEFAULT 0;
CREATE TABLE IF NOT EXISTS pos_notices (
	key        TEXT PRIMARY KEY,  -- payment:<ref> | refund:<refund out_trade_no>: one notice each, ever
	url        TEXT NOT NULL,
	body       BLOB NOT NULL,     -- the exact bytes signed and sent
	created    INTEGER NOT NULL,
	attempts   INTEGER NOT NULL DEFAULT 0,
	next_at    INTEGER NOT NULL,
	delivered  INTEGER NOT NULL DEFAULT 0, -- when the POS answered SUCCESS (0: not yet)
	given_up   INTEGER NOT NULL DEFAULT 0,
	last_error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS pos_notices_due ON pos_notices(next_at) WHERE delivered = 0 AND given_up = 0;
`

// POSSale is a sale a POS sent: its reference and the order that carries it.
type POSSale struct {
	Ref        string
	OutTradeNo string // the order first recorded for it
	Created    time.Time
	Done       bool
	// Order is the order that carries the sale now (a replacement, if its
	// first QR was lost); nil when none was recorded (the kiosk was busy).
	Order *Order
}

// RecordPOSSale notes, before its order is recorded, that the POS sent
// the sale ref, to be charged as order outTradeNo. A ref seen before keeps
// its first order: a POS that retries never makes a second one.
func (j *Journal) RecordPOSSale(ctx context.Context, ref, outTradeNo string) error {
	now := j.now().UnixNano()
	return j.write(func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "INSERT OR IGNORE INTO pos_sales (ref, out_trade_no, created) VALUES (?,?,?)", ref, outTradeNo, now)
		return err
	})
}

// POSSale is the sale the POS sent as ref, with its order as it stands;
// ErrNotFound when the POS never sent it.
func (j *Journal) POSSale(ctx context.Context, ref string) (POSSale, error) {
	var s POSSale
	var created int64
	err := j.db.QueryRowContext(ctx, "SELECT ref, out_trade_no, created, done FROM pos_sales WHERE ref = ?", ref).Scan(&s.Ref, &s.OutTradeNo, &created, &s.Done)
	if errors.Is(err, sql.ErrNoRows) {
		return POSSale{}, fmt.Errorf("POS sale %s: %w", ref, ErrNotFound)
	}
	if err != nil {
		return POSSale{}, err
	}
	s.Created = time.Unix(0, created)
	s.Order, err = j.latest(ctx, s.OutTradeNo)
	return s, err
}

// maxReplacements bounds following a sale's replacements (an order whose
// QR was lost is replaced at most a few times).
const maxReplacements = 16

// latest is the order that carries outTradeNo's sale now: itself, or what
// replaced it; nil when none was recorded.
func (j *Journal) latest(ctx context.Context, outTradeNo string) (*Order, error) {
	var last *Order
	for range maxReplacements {
		o, err := j.Order(ctx, outTradeNo)
		if errors.Is(err, ErrNotFound) {
			return last, nil
		}
		if err != nil {
			return nil, err
		}
		last = &o
		if o.ReplacedBy == "" {
			return last, nil
		}
		outTradeNo = o.ReplacedBy
	}
	return last, nil
}

// POSRef is the POS's reference of the sale an order carries (itself or
// as a replacement); "" when the POS did not send it.
func (j *Journal) POSRef(ctx context.Context, outTradeNo string) (string, error) {
	for range maxReplacements {
		var ref string
		err := j.db.QueryRowContext(ctx, "SELECT ref FROM pos_sales WHERE out_trade_no = ?", outTradeNo).Scan(&ref)
		if err == nil {
			return ref, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return "", err
		}
		var replaces string
		err = j.db.QueryRowContext(ctx, "SELECT replaces FROM orders WHERE out_trade_no = ?", outTradeNo).Scan(&replaces)
		if errors.Is(err, sql.ErrNoRows) || replaces == "" {
			return "", nil
		}
		if err != nil {
			return "", err
		}
		outTradeNo = replaces
	}
	return "", nil
}

// OpenPOSSales are the POS's sales whose result has not been settled for
// the POS yet (Done unset), oldest first.
func (j *Journal) OpenPOSSales(ctx context.Context) ([]POSSale, error) {
	rows, err := j.db.QueryContext(ctx, "SELECT ref FROM pos_sales WHERE done = 0 ORDER BY created, ref")
	if err != nil {
		return nil, err
	}
	var refs []string
	for rows.Next() {
		var ref string
		if err := rows.Scan(&ref); err != nil {
			rows.Close()
			return nil, err
		}
		refs = append(refs, ref)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]POSSale, 0, len(refs))
	for _, ref := range refs {
		s, err := j.POSSale(ctx, ref)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// MarkPOSSaleDone records that the sale's result needs nothing more: its
// notice is in the outbox, or it ended unpaid (QFPay notifies successes
// only; the POS had the failure in its answer).
func (j *Journal) MarkPOSSaleDone(ref string) error {
	return j.write(func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "UPDATE pos_sales SET done = 1 WHERE ref = ?", ref)
		return err
	})
}

// OrderBySysSN is the order the gateway numbered syssn (a POS names a
// payment by it); ErrNotFound when the journal has none.
func (j *Journal) OrderBySysSN(ctx context.Context, syssn string) (Order, error) {
	if syssn == "" {
		return Order{}, fmt.Errorf("syssn \"\": %w", ErrNotFound)
	}
	o, err := j.scanOrder(j.db.QueryRowContext(ctx, "SELECT "+orderCols+" FROM orders o WHERE o.syssn = ? ORDER BY o.tx_time DESC LIMIT 1", syssn))
	if errors.Is(err, sql.ErrNoRows) {
		return Order{}, fmt.Errorf("syssn %s: %w", syssn, ErrNotFound)
	}
	return o, err
}

// UnnotifiedPOSRefunds are the refunds a POS asked for that are done and
// have no notice in the outbox yet, oldest first.
func (j *Journal) UnnotifiedPOSRefunds(ctx context.Context) ([]Refund, error) {
	return j.refunds(ctx, "r.pos = 1 AND r.state = 'refunded' AND NOT EXISTS (SELECT 1 FROM pos_notices n WHERE n.key = 'refund:' || r.out_trade_no)")
}

// POSNotice is one notification to the POS's webhook, kept until the POS
// answers SUCCESS (or it is given up).
type POSNotice struct {
	Key       string // NoticeKeyPayment / NoticeKeyRefund: one notice per result, ever
	URL       string
	Body      []byte
	Created   time.Time
	Attempts  int
	NextAt    time.Time
	Delivered time.Time // zero: not yet
	GivenUp   bool
	LastError string
}

// NoticeKeyPayment and NoticeKeyRefund name a payment's notice (by the
// POS's reference) and a refund's (by the refund's number).
func NoticeKeyPayment(ref string) string       { return "payment:" + ref }
func NoticeKeyRefund(outTradeNo string) string { return "refund:" + outTradeNo }

// AddPOSNotice puts a notice in the outbox, due at once, unless one with
// its key is there already (added false): a result is notified once, and
// never as two different results.
func (j *Journal) AddPOSNotice(ctx context.Context, n POSNotice) (added bool, err error) {
	now := j.now()
	err = j.write(func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "INSERT OR IGNORE INTO pos_notices (key, url, body, created, next_at) VALUES (?,?,?,?,?)",
			n.Key, n.URL, n.Body, now.UnixNano(), now.UnixNano())
		if err != nil {
			return err
		}
		c, err := res.RowsAffected()
		added = c == 1
		return err
	})
	return added, err
}

const noticeCols = "key, url, body, created, attempts, next_at, delivered, given_up, last_error"

func scanNotice(s scanner) (POSNotice, error) {
	var n POSNotice
	var created, next, delivered int64
	if err := s.Scan(&n.Key, &n.URL, &n.Body, &created, &n.Attempts, &next, &delivered, &n.GivenUp, &n.LastError); err != nil {
		return POSNotice{}, err
	}
	n.Created, n.NextAt = time.Unix(0, created), time.Unix(0, next)
	if delivered != 0 {
		n.Delivered = time.Unix(0, delivered)
	}
	return n, nil
}

// DuePOSNotices are the undelivered notices due by now, soonest first, at
// most limit; next is when the first one not yet due is (zero: none).
func (j *Journal) DuePOSNotices(ctx context.Context, now time.Time, limit int) (due []POSNotice, next time.Time, err error) {
	rows, err := j.db.QueryContext(ctx, "SELECT "+noticeCols+" FROM pos_notices WHERE delivered = 0 AND given_up = 0 ORDER BY next_at, key LIMIT ?", limit+1)
	if err != nil {
		return nil, time.Time{}, err
	}
	defer rows.Close()
	for rows.Next() {
		n, err := scanNotice(rows)
		if err != nil {
			return nil, time.Time{}, err
		}
		if n.NextAt.After(now) || len(due) == limit {
			return due, n.NextAt, nil
		}
		due = append(due, n)
	}
	return due, time.Time{}, rows.Err()
}

// LookupPOSNotice is the notice with this key; ErrNotFound when none.
func (j *Journal) LookupPOSNotice(ctx context.Context, key string) (POSNotice, error) {
	n, err := scanNotice(j.db.QueryRowContext(ctx, "SELECT "+noticeCols+" FROM pos_notices WHERE key = ?", key))
	if errors.Is(err, sql.ErrNoRows) {
		return POSNotice{}, fmt.Errorf("notice %s: %w", key, ErrNotFound)
	}
	return n, err
}

// RecordPOSNoticeAttempt records one delivery attempt: delivered, or the
// error and when to try again (given up: never).
func (j *Journal) RecordPOSNoticeAttempt(key string, delivered bool, lastErr string, next time.Time, givenUp bool) error {
	now := j.now().UnixNano()
	return j.write(func(ctx context.Context, tx *sql.Tx) error {
		var err error
		if delivered {
			_, err = tx.ExecContext(ctx, "UPDATE pos_notices SET attempts = attempts + 1, delivered = ?, last_error = '' WHERE key = ?", now, key)
		} else {
			_, err = tx.ExecContext(ctx, "UPDATE pos_notices SET attempts = attempts + 1, next_at = ?, given_up = ?, last_error = ? WHERE key = ?",
				next.UnixNano(), givenUp, lastErr, key)
		}
		return err
	})
}
