package relay

import (
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// outbound is one frame queued for a connection's writer.
type outbound struct {
	data       []byte
	receivedAt time.Time // set for live notifications: delivery latency is measured from it
}

// hub indexes the connected kiosks by what they subscribed to. Broadcast
// never blocks: it offers each frame to the connection's bounded queue and
// drops a connection whose queue is full.
type hub struct {
	mu     sync.RWMutex
	closed bool
	conns  map[*wsConn]struct{}
	byOTN  map[string][]*wsConn // usually one kiosk per key: a slice is a fraction of a map's size
	byUDID map[string][]*wsConn
}

func newHub() *hub {
	return &hub{
		conns:  make(map[*wsConn]struct{}),
		byOTN:  make(map[string][]*wsConn),
		byUDID: make(map[string][]*wsConn),
	}
}

// add registers c and counts its two goroutines in wg; false once the
// hub is shutting down. Adding under the lock that closeAll takes keeps
// wg.Add ordered before the shutdown's wg.Wait.
func (h *hub) add(c *wsConn, wg *sync.WaitGroup) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	h.conns[c] = struct{}{}
	wg.Add(2)
	return true
}

// remove forgets c and its subscriptions; reports whether c was registered.
func (h *hub) remove(c *wsConn) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.conns[c]; !ok {
		return false
	}
	delete(h.conns, c)
	for k := range c.otns {
		unindex(h.byOTN, k, c)
	}
	for k := range c.udids {
		unindex(h.byUDID, k, c)
	}
	return true
}

// subscribe is synchronous so that a notification committed after it
// returns is certain to be broadcast to c: the replay that follows covers
// everything committed before.
func (h *hub) subscribe(c *wsConn, otn, udid string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.conns[c]; !ok {
		return
	}
	if otn != "" {
		index(h.byOTN, otn, c)
		c.otns[otn] = struct{}{}
	}
	if udid != "" {
		index(h.byUDID, udid, c)
		if c.udids == nil {
			c.udids = make(map[string]struct{}, 1)
		}
		c.udids[udid] = struct{}{}
	}
}

func (h *hub) unsubscribe(c *wsConn, otn, udid string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if otn != "" {
		unindex(h.byOTN, otn, c)
		delete(c.otns, otn)
	}
	if udid != "" {
		unindex(h.byUDID, udid, c)
		delete(c.udids, udid)
	}
}

// broadcast queues frame for every connection subscribed to the record's
// out_trade_no or udid, once each, and returns how many it reached and
// the connections it had to drop because their queues were full.
func (h *hub) broadcast(r *Record, frame []byte) (sent int, dropped []*wsConn) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	m := &outbound{data: frame, receivedAt: r.ReceivedAt}
	offer := func(c *wsConn) {
		select {
		case c.send <- m:
			sent++
		default:
			dropped = append(dropped, c)
		}
	}
	for _, c := range h.byOTN[r.OutTradeNo] {
		offer(c)
	}
	if r.UDID != "" {
		for _, c := range h.byUDID[r.UDID] {
			if _, both := c.otns[r.OutTradeNo]; !both {
				offer(c)
			}
		}
	}
	return sent, dropped
}

// closeAll marks the hub closed and returns every connection, for shutdown.
func (h *hub) closeAll() []*wsConn {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	out := make([]*wsConn, 0, len(h.conns))
	for c := range h.conns {
		out = append(out, c)
	}
	return out
}

func index(m map[string][]*wsConn, k string, c *wsConn) {
	for _, have := range m[k] {
		if have == c {
			return
		}
	}
	m[k] = append(m[k], c)
}

func unindex(m map[string][]*wsConn, k string, c *wsConn) {
	cs := m[k]
	for i, have := range cs {
		if have == c {
			cs[i] = cs[len(cs)-1]
			cs[len(cs)-1] = nil
			cs = cs[:len(cs)-1]
			break
		}
	}
	if len(cs) == 0 {
		delete(m, k)
	} else {
		m[k] = cs
	}
}

// wsConn is one kiosk connection: a reader goroutine (subscriptions, pongs)
// and a writer goroutine (the only one writing data frames).
type wsConn struct {
	ws     *websocket.Conn
	send   chan *outbound
	remote string
	udid   string // as the kiosk announced itself, for logs

	// Subscriptions, guarded by hub.mu.
	otns, udids map[string]struct{}

	stopOnce  sync.Once
	stop      chan struct{}
	closeCode int // written before stop is closed
	closeText string
}

func newWSConn(ws *websocket.Conn, queue int, remote, udid string) *wsConn {
	return &wsConn{
		ws:     ws,
		send:   make(chan *outbound, queue),
		remote: remote,
		udid:   udid,
		otns:   make(map[string]struct{}, 1),
		stop:   make(chan struct{}),
	}
}

// close asks the writer to send a close frame and hang up. With abort the
// socket is closed at once, which also unblocks a writer stuck on a peer
// that stopped reading.
func (c *wsConn) close(code int, text string, abort bool) {
	c.stopOnce.Do(func() {
		c.closeCode, c.closeText = code, text
		close(c.stop)
		if abort {
			c.ws.Close()
		}
	})
}
