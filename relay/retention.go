package relay

import (
	"context"
	"time"
)

// pruneLoop deletes notifications older than cfg.Retain (unless they are
// kept for ever), unpaid claims older than cfg.Claims.TTL and receipts
// older than cfg.ReceiptRetain, now and then every cfg.PruneEvery, until
// Shutdown.
func (s *Server) pruneLoop(ctx context.Context) {
	defer s.bg.Done()
	t := time.NewTicker(s.cfg.PruneEvery)
	defer t.Stop()
	for {
		var before time.Time // zero: notifications are kept for ever (unpaid claims still expire)
		if s.cfg.Retain > 0 {
			before = time.Now().Add(-s.cfg.Retain)
		}
		n, ran, err := s.st.Prune(ctx, before, s.cfg.Claims.TTL, s.cfg.PruneEvery)
		s.m.Pruned(n)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			s.m.StoreError()
			s.log.Error("journal prune", "err", err)
		case n > 0:
			s.log.Info("journal pruned", "deleted", n, "received_before", before.UTC().Format(time.RFC3339))
		case !ran:
			s.log.Debug("journal prune: another instance did it")
		}
		s.pruneReceipts(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// pruneReceipts deletes the e-receipts past their days (every instance
// may: deleting what is gone twice costs nothing).
func (s *Server) pruneReceipts(ctx context.Context) {
	if s.cfg.ReceiptRetain < 0 {
		return
	}
	n, err := s.st.PruneReceipts(ctx, time.Now().Add(-s.cfg.ReceiptRetain))
	switch {
	case ctx.Err() != nil:
	case err != nil:
		s.m.StoreError()
		s.log.Error("receipts prune", "err", err)
	case n > 0:
		s.log.Info("receipts pruned", "deleted", n)
	}
}
