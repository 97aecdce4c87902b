package webdisplay

import (
	"log/slog"
	"sync"
	"time"

	"qrkiosk/display/view"
	"qrkiosk/payment"
)

// Timing is how the hub keeps a display's picture live. A page hides its QR
// when no message has come for Stale, so Heartbeat must be well under it.
type Timing struct {
	Heartbeat time.Duration // [600ms] a message at least this often
	Stale     time.Duration // [1.5s] a page silent this long hides its QR
	WriteWait time.Duration // [5s] a display that takes longer to take a message is dropped
	PongWait  time.Duration // [10s] a display that answers no ping this long is dropped
}

func (t Timing) withDefaults() Timing {
	if t.Heartbeat <= 0 {
		t.Heartbeat = 600 * time.Millisecond
	}
	if t.Stale <= 0 {
		t.Stale = 1500 * time.Millisecond
	}
	if t.WriteWait <= 0 {
		t.WriteWait = 5 * time.Second
	}
	if t.PongWait <= 0 {
		t.PongWait = 10 * time.Second
	}
	return t
}

// Connection caps: a display reconnecting may briefly hold two links (the
// old one not yet timed out), never more than perDisplay.
const (
	maxClients = 4 * MaxDisplays
	perDisplay = 4
)

// cueFresh: a cue not sent within this (a display slow to take it) is not
// played late.
const cueFresh = 2 * time.Second

// Hub is the customer screen the browser displays show: the kiosk calls
// Show, AskForCode and Idle on it as on its Fyne screen, and every
// connected display gets the current view at once and then each newer one.
// A display slow to take them gets the latest only, never a queue of past
// ones. The calls never block. It is safe for concurrent use.
type Hub struct {
	*refusals
	log    *slog.Logger
	now    func() time.Time
	after  func(time.Duration, func()) (stop func() bool)
	timing Timing
	logo   bool
	change func() // told when displays connect or leave

	mu       sync.Mutex
	model    *view.Model
	cur      view.View
	stopHold func() bool
	clients  map[*client]struct{}
	closed   bool
}

func newHub(cfg view.Config, timing Timing, logo bool, now func() time.Time, after func(time.Duration, func()) func() bool, log *slog.Logger, change func()) *Hub {
	m := view.NewModel(cfg)
	return &Hub{refusals: newRefusals(log, now), log: log, now: now, after: after, timing: timing.withDefaults(), logo: logo, change: change,
		model: m, cur: m.Current(), clients: map[*client]struct{}{}}
}

// Show shows an order's snapshot on every display.
func (h *Hub) Show(snap payment.Snapshot) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if v, changed := h.model.Show(snap); changed {
		h.set(v)
	}
}

// AskForCode asks the customer for the wallet's payment code for amount.
func (h *Hub) AskForCode(amount payment.Amount) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.set(h.model.AskForCode(amount))
}

// Idle shows the welcome at once.
func (h *Hub) Idle() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.set(h.model.Idle())
}

// ShowReceipt puts a paid sale's e-receipt link on its Paid result, as
// the Fyne screen does (view.Model.Receipt decides; otherwise nothing
// changes).
func (h *Hub) ShowReceipt(outTradeNo, link string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if v, ok := h.model.Receipt(outTradeNo, link); ok {
		h.set(v)
	}
}

// Cue has every display play a sound now ("paid", "problem"); a display
// that cannot take it within cueFresh does not play it late.
func (h *Hub) Cue(name string) {
	if soundFile(name) == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	at := h.now()
	for c := range h.clients {
		select {
		case c.cues <- cueAt{name: name, at: at}:
		default: // it has cues waiting: this one is not for later
		}
	}
}

// Current is the view the displays show now.
func (h *Hub) Current() view.View {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.cur
}

// set makes v current, with its hold, and wakes every display. Called
// with h.mu held.
func (h *Hub) set(v view.View) {
	if h.stopHold != nil {
		h.stopHold()
		h.stopHold = nil
	}
	h.cur = v
	if v.Hold > 0 {
		seq := v.Seq
		h.stopHold = h.after(v.Hold, func() {
			h.mu.Lock()
			defer h.mu.Unlock()
			if next, ok := h.model.EndHold(seq); ok {
				h.set(next)
			}
		})
	}
	for c := range h.clients {
		c.wakeUp()
	}
}

// add registers a display's connection: refused when the hub is closed or
// full; a display at its cap loses its oldest link (a stale one, left by a
// lost network).
func (h *Hub) add(c *client) bool {
	h.mu.Lock()
	if h.closed || len(h.clients) >= maxClients {
		h.mu.Unlock()
		return false
	}
	var oldest *client
	n := 0
	for o := range h.clients {
		if o.display.ID == c.display.ID {
			n++
			if oldest == nil || o.since.Before(oldest.since) {
				oldest = o
			}
		}
	}
	if n >= perDisplay {
		oldest.end(closeReplaced, "replaced by a newer connection")
	}
	h.clients[c] = struct{}{}
	h.mu.Unlock()
	h.change()
	return true
}

func (h *Hub) remove(c *client) {
	h.mu.Lock()
	_, ok := h.clients[c]
	delete(h.clients, c)
	h.mu.Unlock()
	if ok {
		h.change()
	}
}

// drop ends the links of display id at once (it was revoked).
func (h *Hub) drop(id string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.clients {
		if c.display.ID == id {
			c.end(closeUnpaired, "this display was removed on the kiosk")
		}
	}
}

// connected counts the open links of each display.
func (h *Hub) connected() map[string]int {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := map[string]int{}
	for c := range h.clients {
		out[c.display.ID]++
	}
	return out
}

// close ends every link and refuses new ones.
func (h *Hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	if h.stopHold != nil {
		h.stopHold()
		h.stopHold = nil
	}
	for c := range h.clients {
		c.end(closeGoingAway, "the kiosk is closing")
	}
}
