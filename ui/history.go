package ui

import (
	"sync"

	"qrkiosk/payment"
)

// history is where the cashier pane records finished charges and reads the
// recent ones back. It is in memory for now; the journal will implement the
// same two methods so the pane does not change.
type history interface {
	// Record stores an order's final snapshot, replacing an earlier one of
	// the same order (a late payment turns Expired into Paid).
	Record(payment.Snapshot)
	// Recent returns up to n orders, newest first.
	Recent(n int) []payment.Snapshot
}

// memHistory keeps the last charges of this run.
type memHistory struct {
	mu    sync.Mutex
	items []payment.Snapshot // oldest first
}

// memHistoryCap bounds what a long day at the counter keeps in memory.
const memHistoryCap = 200

func (h *memHistory) Record(s payment.Snapshot) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i := range h.items {
		if h.items[i].OutTradeNo == s.OutTradeNo {
			h.items[i] = s
			return
		}
	}
	h.items = append(h.items, s)
	if len(h.items) > memHistoryCap {
		h.items = h.items[len(h.items)-memHistoryCap:]
	}
}

func (h *memHistory) Recent(n int) []payment.Snapshot {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []payment.Snapshot
	for i := len(h.items) - 1; i >= 0 && len(out) < n; i-- {
		out = append(out, h.items[i])
	}
	return out
}
