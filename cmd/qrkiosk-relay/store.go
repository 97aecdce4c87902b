package main

import (
	"context"
	"log/slog"

	"qrkiosk/relay/pgstore"
	"qrkiosk/relay/sqlitestore"
	"qrkiosk/relay/store"
)

// openStore opens the relay's store: PostgreSQL at database when one is
// given, else SQLite in the data directory, locked against a second relay
// when lock is set (serve sets it; the token commands run beside a relay).
func openStore(ctx context.Context, database, data string, lock bool, log *slog.Logger) (store.Store, error) {
	if database != "" {
		st, err := pgstore.Open(ctx, database, pgstore.Options{Logger: log})
		if err != nil {
			return nil, err
		}
		return st, nil
	}
	st, err := sqlitestore.Open(data, sqlitestore.Options{Lock: lock})
	if err != nil {
		return nil, err
	}
	return st, nil
}
