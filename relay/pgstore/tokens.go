package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"qrkiosk/relay/store"
)

func (s *Store) AddToken(ctx context.Context, t *store.Token) error {
	err := s.pool.QueryRow(ctx, `INSERT INTO kiosk_tokens (hash, merchant, udid, note) VALUES ($1, $2, $3, $4)
		RETURNING id, created_at`, t.Hash, t.Merchant, t.UDID, t.Note).Scan(&t.ID, &t.CreatedAt)
	if err != nil {
		return fmt.Errorf("relay: add token: %w", err)
	}
	return nil
}

const pgTokenColumns = `id, hash, merchant, udid, note, created_at, revoked_at`

func scanPGToken(row pgx.Row) (*store.Token, error) {
	t := new(store.Token)
	var revoked *time.Time
	if err := row.Scan(&t.ID, &t.Hash, &t.Merchant, &t.UDID, &t.Note, &t.CreatedAt, &revoked); err != nil {
		return nil, err
	}
	if revoked != nil {
		t.RevokedAt = *revoked
	}
	return t, nil
}

func (s *Store) TokenByHash(ctx context.Context, hash []byte) (*store.Token, error) {
	t, err := scanPGToken(s.pool.QueryRow(ctx, `SELECT `+pgTokenColumns+` FROM kiosk_tokens WHERE hash = $1`, hash))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.ErrTokenNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("relay: token lookup: %w", err)
	}
	return t, nil
}

func (s *Store) ListTokens(ctx context.Context) ([]*store.Token, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+pgTokenColumns+` FROM kiosk_tokens ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("relay: list tokens: %w", err)
	}
	defer rows.Close()
	var out []*store.Token
	for rows.Next() {
		t, err := scanPGToken(rows)
		if err != nil {
			return nil, fmt.Errorf("relay: list tokens: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

func (s *Store) RevokeTokens(ctx context.Context, id int64, merchant, udid string) (int, error) {
	var err error
	var n int64
	if id != 0 {
		tag, e := s.pool.Exec(ctx, `UPDATE kiosk_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL`, id)
		n, err = tag.RowsAffected(), e
	} else {
		tag, e := s.pool.Exec(ctx, `UPDATE kiosk_tokens SET revoked_at = now()
			WHERE merchant = $1 AND udid = $2 AND revoked_at IS NULL`, merchant, udid)
		n, err = tag.RowsAffected(), e
	}
	if err != nil {
		return 0, fmt.Errorf("relay: revoke: %w", err)
	}
	return int(n), nil
}

func (s *Store) RevokedSince(ctx context.Context, since time.Time) ([]int64, time.Time, error) {
	var ids []int64
	var now time.Time
	err := s.pool.QueryRow(ctx, `SELECT now(), coalesce(array_agg(id), '{}') FROM kiosk_tokens
		WHERE revoked_at >= $1`, since).Scan(&now, &ids)
	if err != nil {
		return nil, since, fmt.Errorf("relay: revoked tokens: %w", err)
	}
	return ids, now, nil
}
