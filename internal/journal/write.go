package journal

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ErrCannotRecord: the journal cannot write (disk full, read-only, damaged).
// No new charge starts until it can: nothing may reach the gateway that the
// journal has not recorded first.
var ErrCannotRecord = errors.New("the journal cannot record")

// A write is one transaction's statements. One that fails (disk full) is
// kept, in order, and tried again before every later write, every
// writeRetry and at Close: an order that is live when the disk fills still
// settles at the gateway and is recorded once the journal can write.
type write func(ctx context.Context, tx *sql.Tx) error

// writeRetry is how often writes kept after a failure are tried again.
const writeRetry = 5 * time.Second

// write runs w in a transaction after the writes kept earlier; when it
// fails it is kept too and the journal refuses new orders (Broken).
func (j *Journal) write(w write) error {
	if j.readOnly {
		return fmt.Errorf("%w: opened read-only", ErrCannotRecord)
	}
	j.wmu.Lock()
	defer j.wmu.Unlock()
	j.backlog = append(j.backlog, w)
	return j.flushLocked()
}

// flushLocked runs the kept writes in order, stopping at the first that
// fails. Caller holds j.wmu.
func (j *Journal) flushLocked() error {
	kept := len(j.backlog)
	for len(j.backlog) > 0 {
		if err := j.tx(j.backlog[0]); err != nil {
			if j.broken == nil {
				j.log.Error("journal: cannot write; no new charges until it can", "path", j.path, "err", err, "kept", len(j.backlog))
			}
			j.broken = err
			return fmt.Errorf("%w: %v", ErrCannotRecord, err)
		}
		j.backlog = j.backlog[1:]
	}
	if j.broken != nil && kept > 0 {
		// (A refused new order keeps nothing: there is no news then.)
		j.log.Warn("journal: writing again; kept writes recorded", "path", j.path, "kept", kept)
	}
	j.broken = nil
	return nil
}

// tx runs one transaction.
func (j *Journal) tx(w write) error {
	ctx := context.Background()
	tx, err := j.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := w(ctx, tx); err != nil {
		return err
	}
	return tx.Commit()
}

// Broken says why the journal cannot record (nil when it can): new orders
// are refused until a write goes through again.
func (j *Journal) Broken() error {
	j.wmu.Lock()
	defer j.wmu.Unlock()
	if j.broken == nil {
		return nil
	}
	return fmt.Errorf("%w: %v (%d writes kept to record when it can)", ErrCannotRecord, j.broken, len(j.backlog))
}

// retryKept tries the kept writes again every writeRetry until stop.
func (j *Journal) retryKept(stop <-chan struct{}) {
	t := time.NewTicker(writeRetry)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			j.wmu.Lock()
			if len(j.backlog) > 0 {
				j.flushLocked()
			}
			j.wmu.Unlock()
		}
	}
}
