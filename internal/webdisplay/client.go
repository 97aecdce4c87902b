package webdisplay

import (
	"encoding/json"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"qrkiosk/display/view"
)

// Close codes the page acts on: closeUnpaired makes it forget its token and
// ask to be paired again; the others make it reconnect.
const (
	closeGoingAway = websocket.CloseGoingAway
	closeListens   = websocket.ClosePolicyViolation
	closeUnpaired  = 4401
	closeReplaced  = 4409
)

// maxRead bounds what a display may send (nothing, but a control frame).
const maxRead = 512

// urgentMs is when the page's countdown turns red, as on the Fyne screen.
var urgentMs = view.UrgentBelow.Milliseconds()

type cueAt struct {
	name string
	at   time.Time
}

// client is one display's websocket: one writer goroutine sends it the
// hub's latest view, heartbeats, cues and pings with a deadline on every
// write; the reader only takes pongs.
type client struct {
	hub     *Hub
	ws      *websocket.Conn
	display Display
	since   time.Time

	wake chan struct{} // cap 1: the hub has a newer view
	cues chan cueAt    // cap 2: sounds to play now

	once   sync.Once
	stop   chan struct{} // closed by end
	code   int
	reason string
}

func newClient(h *Hub, ws *websocket.Conn, d Display) *client {
	return &client{hub: h, ws: ws, display: d, since: time.Now(),
		wake: make(chan struct{}, 1), cues: make(chan cueAt, 2), stop: make(chan struct{})}
}

// wakeUp tells the writer a newer view is there; never blocks, and any
// number of wake-ups before the writer looks are one.
func (c *client) wakeUp() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// end has the writer close the link with code and reason (first call
// wins); it never blocks.
func (c *client) end(code int, reason string) {
	c.once.Do(func() {
		c.code, c.reason = code, reason
		close(c.stop)
	})
}

// run serves the link until it ends: the writer on its own goroutine, the
// reader on the caller's.
func (c *client) run() {
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.write()
	}()
	c.read()
	<-done
	c.hub.remove(c)
}

// read takes pongs (each extends the deadline) until the link fails. A
// display has nothing to say: a data message ends the link.
func (c *client) read() {
	t := c.hub.timing
	c.ws.SetReadLimit(maxRead)
	c.ws.SetReadDeadline(time.Now().Add(t.PongWait))
	c.ws.SetPongHandler(func(string) error {
		return c.ws.SetReadDeadline(time.Now().Add(t.PongWait))
	})
	for {
		if _, _, err := c.ws.NextReader(); err != nil {
			c.end(closeGoingAway, "")
			return
		}
		c.hub.refused("a display sent a message; displays only listen", "display", c.display.Name)
		c.end(closeListens, "displays only listen")
		return
	}
}

func (c *client) write() {
	defer c.ws.Close()
	t := c.hub.timing
	hb := time.NewTicker(t.Heartbeat)
	defer hb.Stop()
	ping := time.NewTicker(t.PongWait / 3)
	defer ping.Stop()

	var sent uint64
	send := func(m any) bool {
		b, err := json.Marshal(m)
		if err != nil {
			return false
		}
		c.ws.SetWriteDeadline(time.Now().Add(t.WriteWait))
		return c.ws.WriteMessage(websocket.TextMessage, b) == nil
	}
	// sendView sends the hub's current view unless it is the one sent
	// last: only the latest view matters, never one in between.
	sendView := func() bool {
		v := c.hub.Current()
		if v.Seq == sent {
			return true
		}
		sent = v.Seq
		return send(viewMessage(v, c.hub.now(), c.hub.logo))
	}
	ok := send(helloMsg{T: "hello", HeartbeatMs: t.Heartbeat.Milliseconds(), StaleMs: t.Stale.Milliseconds(), UrgentMs: urgentMs}) && sendView()
	for ok {
		select {
		case <-c.stop:
			c.ws.SetWriteDeadline(time.Now().Add(time.Second))
			c.ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(c.code, c.reason))
			return
		case <-c.wake:
			ok = sendView()
		case cu := <-c.cues:
			if c.hub.now().Sub(cu.at) < cueFresh {
				ok = send(cueMsg{T: "cue", Cue: cu.name})
			}
		case <-hb.C:
			v := c.hub.Current()
			if v.Seq != sent {
				ok = sendView()
				continue
			}
			ok = send(hbMsg{T: "hb", Seq: v.Seq, LeftMs: left(v, c.hub.now()).Milliseconds()})
		case <-ping.C:
			ok = c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(t.WriteWait)) == nil
		}
	}
	// A failed write (a slow or gone display): the reader ends with the
	// connection.
	c.end(closeGoingAway, "")
}
