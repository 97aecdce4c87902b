package relay

import (
	"context"
	"time"

	"github.com/gorilla/websocket"

	"qrkiosk/relay/store"
)

// maxReplay bounds how many stored notifications one subscribe replays.
const maxReplay = 1000

// replayPage is how many stored notifications a replay reads at a time
// (fewer when they are large: store.ReplayPageBytes): a subscription streams
// its replay instead of loading every match.
const replayPage = 8

// replayPageCost is the most memory one replay page takes: its records'
// bodies (store.ReplayPageBytes, plus the record that passed it) and their
// frames, base64 in JSON, queued for the writer.
const replayPageCost = 320 << 10

// replayWait is how long a subscription waits for room to replay before
// its connection is closed with "try again later": under a flood of
// replays the kiosk polls and comes back instead of holding a goroutine.
const replayWait = 30 * time.Second

// replay streams what is stored for q to c, a page at a time, and
// returns how many it sent; ok is false when c is gone (or was dropped).
// A page takes a slot of s.replaySlots from its read until the writer
// has put its last frame on the socket, so the replays of kiosks that do
// not read hold at most ReplayMemory together, and each one page.
func (s *Server) replay(c *wsConn, q store.ReplayQuery) (n int, ok bool) {
	var after int64
	for n < maxReplay {
		limit := min(replayPage, maxReplay-n)
		if !s.replaySlot(c) {
			return n, false
		}
		page, err := onShortGoroutine(func() ([]*store.Record, error) {
			s.replaySem <- struct{}{}
			defer func() { <-s.replaySem }()
			ctx, cancel := context.WithTimeout(context.Background(), s.cfg.WriteTimeout)
			defer cancel()
			return s.st.Replay(ctx, q, after, limit)
		})
		if err != nil {
			<-s.replaySlots
			s.log.Error("ws: replay", "out_trade_no", q.OutTradeNo, "udid", q.UDID, "err", err)
			return n, true
		}
		sent, ok := s.sendPage(c, page)
		<-s.replaySlots
		n += sent
		if !ok {
			return n, false
		}
		if len(page) > 0 {
			after = page[len(page)-1].ID
		}
		// Still here and reading: a long replay is not a silent peer.
		c.ws.SetReadDeadline(time.Now().Add(2 * s.cfg.PingInterval))
		if len(page) < limit && !pageFull(page) {
			return n, true
		}
	}
	return n, true
}

// pageFull reports whether a page ended for its size, not for lack of
// matches.
func pageFull(page []*store.Record) bool {
	size := 0
	for _, r := range page {
		size += len(r.Body)
	}
	return size >= store.ReplayPageBytes
}

// replaySlot waits for room to replay a page; past replayWait it closes
// c (1013, try again later).
func (s *Server) replaySlot(c *wsConn) bool {
	select {
	case s.replaySlots <- struct{}{}:
		return true
	default:
	}
	t := time.NewTimer(replayWait)
	defer t.Stop()
	select {
	case s.replaySlots <- struct{}{}:
		return true
	case <-c.stop:
	case <-t.C:
		s.m.KioskDisconnected(reasonReplayBusy)
		s.log.Warn("ws: relay busy replaying, the kiosk is asked to come back", "remote", c.remote, "udid", c.udid,
			"token_id", c.cred.tokenID)
		c.close(websocket.CloseTryAgainLater, "relay busy replaying: reconnect later", false)
	}
	return false
}

// sendPage queues a page's frames and waits until the writer has written
// the last (or c is gone).
func (s *Server) sendPage(c *wsConn, page []*store.Record) (sent int, ok bool) {
	frames := make([]*outbound, 0, len(page))
	for _, r := range page {
		if frame, err := encodeNotification(r, true); err == nil {
			frames = append(frames, &outbound{data: frame})
		}
	}
	if len(frames) == 0 {
		return 0, true
	}
	written := make(chan struct{})
	frames[len(frames)-1].written = written
	for _, m := range frames {
		if !s.enqueue(c, m) {
			return sent, false
		}
		sent++
	}
	select {
	case <-written:
		return sent, true
	case <-c.stop:
		return sent, false
	}
}
