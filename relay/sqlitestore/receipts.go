package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"qrkiosk/relay/internal/storesql"
	"qrkiosk/relay/store"
)

// PutReceipt inserts the receipt, or finds the device's receipt of the
// same key and replaces its data; a new one is counted against the limits
// in the same transaction.
func (s *Store) PutReceipt(ctx context.Context, r *store.Receipt, limits store.ReceiptLimits) (string, error) {
	if len(r.Data) > store.MaxReceiptData {
		return "", fmt.Errorf("relay: receipt of %d bytes: more than %d", len(r.Data), store.MaxReceiptData)
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return "", fmt.Errorf("relay: receipt: %w", err)
	}
	defer tx.Rollback()
	now := time.Now()
	var id string
	err = tx.QueryRowContext(ctx, `INSERT INTO receipts (id, merchant, udid, rkey, data, created_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (merchant, udid, rkey) DO NOTHING RETURNING id`,
		r.ID, r.Merchant, r.UDID, r.Key, r.Data, now.UnixNano()).Scan(&id)
	switch {
	case errors.Is(err, sql.ErrNoRows): // sent before: the same receipt, up to date
		if err := tx.QueryRowContext(ctx, `UPDATE receipts SET data = ? WHERE merchant = ? AND udid = ? AND rkey = ? RETURNING id`,
			r.Data, r.Merchant, r.UDID, r.Key).Scan(&id); err != nil {
			return "", fmt.Errorf("relay: receipt: %w", err)
		}
	case err != nil:
		return "", fmt.Errorf("relay: receipt: %w", err)
	default:
		err = storesql.CountReceipt(limits, func(args ...any) (n int, err error) {
			return n, tx.QueryRowContext(ctx, storesql.ReceiptQuotaSQL, args...).Scan(&n)
		}, r.Merchant, r.UDID, now)
		if err != nil {
			return "", err
		}
	}
	if err := tx.Commit(); err != nil {
		return "", fmt.Errorf("relay: receipt: %w", err)
	}
	return id, nil
}

func (s *Store) Receipt(ctx context.Context, id string) (*store.Receipt, error) {
	r := &store.Receipt{ID: id}
	var created int64
	err := s.r.QueryRowContext(ctx, `SELECT merchant, udid, rkey, data, created_at FROM receipts WHERE id = ?`, id).
		Scan(&r.Merchant, &r.UDID, &r.Key, &r.Data, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrReceiptNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("relay: receipt: %w", err)
	}
	r.CreatedAt = time.Unix(0, created)
	return r, nil
}

func (s *Store) PruneReceipts(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	for {
		res, err := s.w.ExecContext(ctx, `DELETE FROM receipts WHERE id IN
			(SELECT id FROM receipts WHERE created_at < ? LIMIT ?)`, before.UnixNano(), storesql.PruneChunk)
		if err != nil {
			return total, fmt.Errorf("relay: receipts prune: %w", err)
		}
		n, _ := res.RowsAffected()
		total += n
		if n < storesql.PruneChunk {
			break
		}
	}
	if _, err := s.w.ExecContext(ctx, `DELETE FROM receipt_quota WHERE hour <= ?`,
		storesql.ClaimHour(time.Now())-storesql.ClaimHours(storesql.ReceiptDay)); err != nil {
		return total, fmt.Errorf("relay: receipts prune: %w", err)
	}
	return total, nil
}
