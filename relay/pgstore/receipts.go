package pgstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"qrkiosk/relay/internal/storesql"
	"qrkiosk/relay/store"
)

// pgReceiptQuotaSQL is storesql.ReceiptQuotaSQL with PostgreSQL's
// placeholders.
var pgReceiptQuotaSQL = strings.ReplaceAll(storesql.ReceiptQuotaSQL, "?", "$")

// PutReceipt inserts the receipt, or finds the device's receipt of the
// same key and replaces its data; a new one is counted against the limits
// in the same transaction (the quota rows' locks order instances).
func (s *Store) PutReceipt(ctx context.Context, r *store.Receipt, limits store.ReceiptLimits) (string, error) {
	if len(r.Data) > store.MaxReceiptData {
		return "", fmt.Errorf("relay: receipt of %d bytes: more than %d", len(r.Data), store.MaxReceiptData)
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return "", fmt.Errorf("relay: receipt: %w", err)
	}
	defer tx.Rollback(context.Background())
	var id string
	err = tx.QueryRow(ctx, `INSERT INTO receipts (id, merchant, udid, rkey, data) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (merchant, udid, rkey) DO NOTHING RETURNING id`, r.ID, r.Merchant, r.UDID, r.Key, r.Data).Scan(&id)
	switch {
	case errors.Is(err, pgx.ErrNoRows): // sent before: the same receipt, up to date
		if err := tx.QueryRow(ctx, `UPDATE receipts SET data = $4 WHERE merchant = $1 AND udid = $2 AND rkey = $3 RETURNING id`,
			r.Merchant, r.UDID, r.Key, r.Data).Scan(&id); err != nil {
			return "", fmt.Errorf("relay: receipt: %w", err)
		}
	case err != nil:
		return "", fmt.Errorf("relay: receipt: %w", err)
	default:
		err = storesql.CountReceipt(limits, func(args ...any) (n int, err error) {
			return n, tx.QueryRow(ctx, pgReceiptQuotaSQL, args...).Scan(&n)
		}, r.Merchant, r.UDID, time.Now())
		if err != nil {
			return "", err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return "", fmt.Errorf("relay: receipt: %w", err)
	}
	return id, nil
}

func (s *Store) Receipt(ctx context.Context, id string) (*store.Receipt, error) {
	r := &store.Receipt{ID: id}
	err := s.pool.QueryRow(ctx, `SELECT merchant, udid, rkey, data, created_at FROM receipts WHERE id = $1`, id).
		Scan(&r.Merchant, &r.UDID, &r.Key, &r.Data, &r.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.ErrReceiptNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("relay: receipt: %w", err)
	}
	return r, nil
}

func (s *Store) PruneReceipts(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	for {
		tag, err := s.pool.Exec(ctx, `DELETE FROM receipts WHERE id IN
			(SELECT id FROM receipts WHERE created_at < $1 LIMIT $2)`, before, storesql.PruneChunk)
		if err != nil {
			return total, fmt.Errorf("relay: receipts prune: %w", err)
		}
		total += tag.RowsAffected()
		if tag.RowsAffected() < storesql.PruneChunk {
			break
		}
	}
	if _, err := s.pool.Exec(ctx, `DELETE FROM receipt_quota WHERE hour <= $1`,
		storesql.ClaimHour(time.Now())-storesql.ClaimHours(storesql.ReceiptDay)); err != nil {
		return total, fmt.Errorf("relay: receipts prune: %w", err)
	}
	return total, nil
}
