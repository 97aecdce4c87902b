package relay

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"qrkiosk/relay/store"
)

// outbound is one frame queued for a connection's writer.
type outbound struct {
	data       []byte
	receivedAt time.Time     // set for live notifications: delivery latency is measured from it
	written    chan struct{} // if set, closed by the writer once it has written (or failed to write) the frame
}

// credential is who a connection authenticated as.
type credential struct {
	tokenID int64 // 0: the shared --token (or no auth)
	scope   store.Scope
	limit   int // connections allowed at once on this credential, on this instance
}

var (
	errHubClosed       = errors.New("relay shutting down")
	errRelayFull       = errors.New("relay full")
	errTooManyConns    = errors.New("too many connections")
	errTooManySubs     = errors.New("too many subscriptions")
	errNotSubscribable = errors.New("connection gone")
)

// hub indexes the connected kiosks by what they subscribed to and by
// credential. Broadcast never blocks: it offers each frame to the
// connection's bounded queue and drops a connection whose queue is full.
type hub struct {
	mu      sync.RWMutex
	closed  bool
	conns   map[*wsConn]struct{}
	byOTN   map[string][]*wsConn // usually one kiosk per key: a slice is a fraction of a map's size
	byUDID  map[string][]*wsConn
	byToken map[int64][]*wsConn
}

func newHub() *hub {
	return &hub{
		conns:   make(map[*wsConn]struct{}),
		byOTN:   make(map[string][]*wsConn),
		byUDID:  make(map[string][]*wsConn),
		byToken: make(map[int64][]*wsConn),
	}
}

// admits reports whether one more connection of cred fits: at most
// total in all, and cred's limit. Checked before the upgrade, so a
// refusal is a cheap HTTP answer; add checks again.
func (h *hub) admits(cred *credential, total int) error {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.fits(cred, total)
}

func (h *hub) fits(cred *credential, total int) error {
	if n := len(h.conns); total > 0 && n >= total {
		return fmt.Errorf("%w: %d kiosk connections open here (the limit)", errRelayFull, n)
	}
	if n := len(h.byToken[cred.tokenID]); cred.limit > 0 && n >= cred.limit {
		return fmt.Errorf("%w: this token already has %d open (the limit)", errTooManyConns, n)
	}
	return nil
}

// add registers c and counts its two goroutines in wg. It fails once the
// hub is shutting down, or when c does not fit (admits). Adding under the
// lock that closeAll takes keeps wg.Add ordered before the shutdown's
// wg.Wait.
func (h *hub) add(c *wsConn, total int, wg *sync.WaitGroup) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return errHubClosed
	}
	if err := h.fits(c.cred, total); err != nil {
		return err
	}
	h.conns[c] = struct{}{}
	index(h.byToken, c.cred.tokenID, c)
	wg.Add(2)
	return nil
}

// remove forgets c and its subscriptions; reports whether c was registered.
func (h *hub) remove(c *wsConn) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.conns[c]; !ok {
		return false
	}
	delete(h.conns, c)
	unindex(h.byToken, c.cred.tokenID, c)
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
// everything committed before. At most max subscriptions per connection.
func (h *hub) subscribe(c *wsConn, otn, udid string, max int) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.conns[c]; !ok {
		return errNotSubscribable
	}
	if err := c.room(otn, udid, max); err != nil {
		return err
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
	return nil
}

// room reports whether c may add the subscription without passing max;
// subscribe checks again, this only spares the store a claim for a
// subscription that would be refused anyway.
func (h *hub) room(c *wsConn, otn, udid string, max int) error {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return c.room(otn, udid, max)
}

func (c *wsConn) room(otn, udid string, max int) error {
	adds := 0
	if _, have := c.otns[otn]; otn != "" && !have {
		adds++
	}
	if _, have := c.udids[udid]; udid != "" && !have {
		adds++
	}
	if n := len(c.otns) + len(c.udids); max > 0 && n+adds > max {
		return fmt.Errorf("%w: %d on this connection, at most %d: unsubscribe finished orders", errTooManySubs, n, max)
	}
	return nil
}

func (h *hub) unsubscribe(c *wsConn, otn, udid string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.conns[c]; !ok {
		return
	}
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
// out_trade_no or udid whose credential may see it, once each. It returns
// the connections it had to drop because their queues were full, and
// those subscribed to the out_trade_no that may not see it (the gateway
// names another device, or it is another merchant's): the caller refuses
// those subscriptions.
func (h *hub) broadcast(r *store.Record, frame []byte) (dropped, foreign []*wsConn) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	m := &outbound{data: frame, receivedAt: r.ReceivedAt}
	offer := func(c *wsConn) {
		select {
		case c.send <- m:
		default:
			dropped = append(dropped, c)
		}
	}
	for _, c := range h.byOTN[r.OutTradeNo] {
		// Subscribed by out_trade_no: with a device's token, only after
		// the device claimed the order.
		if c.cred.scope.AllowsClaimed(r) {
			offer(c)
		} else {
			foreign = append(foreign, c)
		}
	}
	if r.UDID != "" {
		for _, c := range h.byUDID[r.UDID] {
			if _, both := c.otns[r.OutTradeNo]; !both && c.cred.scope.Allows(r) {
				offer(c)
			}
		}
	}
	return dropped, foreign
}

// withTokens returns the connections authenticated with any of ids.
func (h *hub) withTokens(ids []int64) []*wsConn {
	h.mu.RLock()
	defer h.mu.RUnlock()
	var out []*wsConn
	for _, id := range ids {
		out = append(out, h.byToken[id]...)
	}
	return out
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

func index[K comparable](m map[K][]*wsConn, k K, c *wsConn) {
	for _, have := range m[k] {
		if have == c {
			return
		}
	}
	m[k] = append(m[k], c)
}

func unindex[K comparable](m map[K][]*wsConn, k K, c *wsConn) {
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
	udid   string      // as the kiosk announced itself, for logs
	host   string      // the Host it connected to: its receipts' links
	cred   *credential // shared by every connection of the shared token
	since  int64       // Unix seconds: kept small, there may be 10,000 of these

	// Subscriptions, guarded by hub.mu.
	otns, udids map[string]struct{}

	stopOnce  sync.Once
	stop      chan struct{}
	closeCode int // written before stop is closed
	closeText string
}

func newWSConn(ws *websocket.Conn, queue int, remote, udid string, cred *credential) *wsConn {
	return &wsConn{
		ws:     ws,
		send:   make(chan *outbound, queue),
		remote: remote,
		udid:   udid,
		cred:   cred,
		since:  time.Now().Unix(),
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

// closing reports whether close was called.
func (c *wsConn) closing() bool {
	select {
	case <-c.stop:
		return true
	default:
		return false
	}
}
