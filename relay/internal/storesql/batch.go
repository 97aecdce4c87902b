package storesql

import (
	"context"
	"time"

	"qrkiosk/relay/store"
)

// maxBatch bounds one group commit: enough to amortise the fsync under a
// burst, small enough that the first writer of a batch is not kept long.
const maxBatch = 256

// Batcher is the group commit both stores share: Append queues a
// request, one goroutine commits whatever is waiting in one transaction.
type Batcher struct {
	commit func([]*AppendReq) error

	mu     chan struct{} // 1-slot lock guarding closed against sends on reqs
	closed bool
	reqs   chan *AppendReq
	done   chan struct{}
}

// AppendReq is one Append waiting in a batch: commit sets Inserted, and
// Rec.ID when inserted.
type AppendReq struct {
	Rec      *store.Record
	Inserted bool
	err      error
	ready    chan struct{}
}

// NewBatcher starts the goroutine that calls commit with each batch: it
// stores them in one transaction, or fails them all.
func NewBatcher(commit func([]*AppendReq) error) *Batcher {
	b := &Batcher{commit: commit, mu: make(chan struct{}, 1), reqs: make(chan *AppendReq, maxBatch), done: make(chan struct{})}
	go b.loop()
	return b
}

// Append queues rec and returns once its batch is committed (or failed).
func (b *Batcher) Append(ctx context.Context, rec *store.Record) (bool, error) {
	rec.ReceivedAt = rec.ReceivedAt.Truncate(time.Microsecond)
	req := &AppendReq{Rec: rec, ready: make(chan struct{})}
	select {
	case b.mu <- struct{}{}:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	if b.closed {
		<-b.mu
		return false, store.ErrClosed
	}
	select {
	case b.reqs <- req:
	case <-ctx.Done():
		<-b.mu
		return false, ctx.Err()
	}
	<-b.mu
	// Once queued, wait for the commit regardless of ctx: the row may be
	// durable, and the caller must not report failure for a stored record.
	<-req.ready
	return req.Inserted, req.err
}

func (b *Batcher) loop() {
	defer close(b.done)
	batch := make([]*AppendReq, 0, maxBatch)
	for first := range b.reqs {
		batch = append(batch[:0], first)
	fill:
		for len(batch) < maxBatch {
			select {
			case req, ok := <-b.reqs:
				if !ok {
					break fill
				}
				batch = append(batch, req)
			default:
				break fill
			}
		}
		err := b.commit(batch)
		for _, req := range batch {
			if err != nil {
				req.Inserted, req.err = false, err
				req.Rec.ID = 0
			}
			close(req.ready)
		}
	}
}

// Close stops taking appends and waits for the queued ones to commit.
func (b *Batcher) Close() {
	b.mu <- struct{}{}
	if b.closed {
		<-b.mu
		<-b.done
		return
	}
	b.closed = true
	close(b.reqs)
	<-b.mu
	<-b.done
}
