package pgstore

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// listen keeps a connection LISTENing and signals Changed for every
// notification, and once after each (re)connect so the instance catches
// up on whatever was committed while it was not listening.
func (s *Store) listen(ctx context.Context) {
	defer close(s.stopped)
	wait := 250 * time.Millisecond
	for ctx.Err() == nil {
		err := s.listenOnce(ctx)
		s.listening.Store(false)
		if ctx.Err() != nil {
			return
		}
		s.log.Warn("database listener lost; catching up by polling until it is back", "err", err, "retry_in", wait)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, 5*time.Second)
		if err == nil {
			wait = 250 * time.Millisecond
		}
	}
}

func (s *Store) listenOnce(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	conn, err := pgx.ConnectConfig(cctx, s.listenC)
	cancel()
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, `LISTEN `+notifyChannel); err != nil {
		return err
	}
	s.listening.Store(true)
	s.signal()
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		s.signal()
	}
}

func (s *Store) signal() {
	select {
	case s.changed <- struct{}{}:
	default:
	}
}

func (s *Store) Changed() <-chan struct{} { return s.changed }

// Kind is "postgres".
func (s *Store) Kind() string { return "postgres" }

// Listener reports whether the LISTEN connection is up.
func (s *Store) Listener() (has, up bool) { return true, s.listening.Load() }
