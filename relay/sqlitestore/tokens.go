package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"qrkiosk/relay/store"
)

func (s *Store) AddToken(ctx context.Context, t *store.Token) error {
	t.CreatedAt = time.Now().Truncate(time.Microsecond)
	err := s.w.QueryRowContext(ctx, `INSERT INTO kiosk_tokens (hash, merchant, udid, note, created_at)
		VALUES (?, ?, ?, ?, ?) RETURNING id`, t.Hash, t.Merchant, t.UDID, t.Note, t.CreatedAt.UnixNano()).Scan(&t.ID)
	if err != nil {
		return fmt.Errorf("relay: add token: %w", err)
	}
	return nil
}

const sqliteTokenColumns = `id, hash, merchant, udid, note, created_at, revoked_at`

func scanSQLiteToken(sc interface{ Scan(...any) error }) (*store.Token, error) {
	t := new(store.Token)
	var created int64
	var revoked sql.NullInt64
	if err := sc.Scan(&t.ID, &t.Hash, &t.Merchant, &t.UDID, &t.Note, &created, &revoked); err != nil {
		return nil, err
	}
	t.CreatedAt = time.Unix(0, created)
	if revoked.Valid {
		t.RevokedAt = time.Unix(0, revoked.Int64)
	}
	return t, nil
}

func (s *Store) TokenByHash(ctx context.Context, hash []byte) (*store.Token, error) {
	t, err := scanSQLiteToken(s.r.QueryRowContext(ctx, `SELECT `+sqliteTokenColumns+` FROM kiosk_tokens WHERE hash = ?`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrTokenNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("relay: token lookup: %w", err)
	}
	return t, nil
}

func (s *Store) ListTokens(ctx context.Context) ([]*store.Token, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+sqliteTokenColumns+` FROM kiosk_tokens ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("relay: list tokens: %w", err)
	}
	defer rows.Close()
	var out []*store.Token
	for rows.Next() {
		t, err := scanSQLiteToken(rows)
		if err != nil {
			return nil, fmt.Errorf("relay: list tokens: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

func (s *Store) RevokeTokens(ctx context.Context, id int64, merchant, udid string) (int, error) {
	now := time.Now().UnixNano()
	var res sql.Result
	var err error
	if id != 0 {
		res, err = s.w.ExecContext(ctx, `UPDATE kiosk_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, now, id)
	} else {
		res, err = s.w.ExecContext(ctx, `UPDATE kiosk_tokens SET revoked_at = ?
			WHERE merchant = ? AND udid = ? AND revoked_at IS NULL`, now, merchant, udid)
	}
	if err != nil {
		return 0, fmt.Errorf("relay: revoke: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

func (s *Store) RevokedSince(ctx context.Context, since time.Time) ([]int64, time.Time, error) {
	now := time.Now()
	rows, err := s.r.QueryContext(ctx, `SELECT id FROM kiosk_tokens WHERE revoked_at >= ?`, since.UnixNano())
	if err != nil {
		return nil, since, fmt.Errorf("relay: revoked tokens: %w", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, since, err
		}
		ids = append(ids, id)
	}
	return ids, now, rows.Err()
}
