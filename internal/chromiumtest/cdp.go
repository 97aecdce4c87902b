package chromiumtest

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// callTimeout bounds one DevTools command; a browser that stops answering
// fails the test instead of hanging it.
const callTimeout = 30 * time.Second

// message is one DevTools protocol frame: a command, its answer or an event.
type message struct {
	ID        int64           `json:"id,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
	Method    string          `json:"method,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	Error     *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

// conn is the browser's DevTools websocket: commands go out with an id and
// a session (a page), one reader goroutine hands answers to their callers
// and events to the session's handler.
type conn struct {
	ws *websocket.Conn

	wmu  sync.Mutex // gorilla allows one writer at a time
	mu   sync.Mutex
	next int64
	wait map[int64]chan message
	// handlers get a session's events on the reader goroutine: they must
	// not block or call back into the browser.
	handlers map[string]func(method string, params json.RawMessage)
	done     chan struct{}
	err      error
}

func dial(url string) (*conn, error) {
	ws, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		return nil, err
	}
	c := &conn{ws: ws, wait: map[int64]chan message{}, handlers: map[string]func(string, json.RawMessage){}, done: make(chan struct{})}
	go c.read()
	return c, nil
}

func (c *conn) read() {
	for {
		var m message
		if err := c.ws.ReadJSON(&m); err != nil {
			c.mu.Lock()
			c.err = err
			c.mu.Unlock()
			close(c.done)
			return
		}
		c.mu.Lock()
		if m.ID != 0 {
			ch := c.wait[m.ID]
			delete(c.wait, m.ID)
			c.mu.Unlock()
			if ch != nil {
				ch <- m
			}
			continue
		}
		h := c.handlers[m.SessionID]
		c.mu.Unlock()
		if h != nil {
			h(m.Method, m.Params)
		}
	}
}

func (c *conn) on(session string, h func(method string, params json.RawMessage)) {
	c.mu.Lock()
	c.handlers[session] = h
	c.mu.Unlock()
}

// call sends method with params to session ("" is the browser) and
// decodes its result into result (nil: ignored).
func (c *conn) call(session, method string, params, result any) error {
	raw, err := json.Marshal(params)
	if err != nil {
		return err
	}
	if params == nil {
		raw = []byte("{}")
	}
	ch := make(chan message, 1)
	c.mu.Lock()
	c.next++
	id := c.next
	c.wait[id] = ch
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.wait, id)
		c.mu.Unlock()
	}()

	c.wmu.Lock()
	c.ws.SetWriteDeadline(time.Now().Add(callTimeout))
	err = c.ws.WriteJSON(message{ID: id, SessionID: session, Method: method, Params: raw})
	c.wmu.Unlock()
	if err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	t := time.NewTimer(callTimeout)
	defer t.Stop()
	select {
	case m := <-ch:
		if m.Error != nil {
			return fmt.Errorf("%s: %s (%d)", method, m.Error.Message, m.Error.Code)
		}
		if result != nil {
			return json.Unmarshal(m.Result, result)
		}
		return nil
	case <-c.done:
		c.mu.Lock()
		defer c.mu.Unlock()
		return fmt.Errorf("%s: the browser closed DevTools: %w", method, c.err)
	case <-t.C:
		return fmt.Errorf("%s: no answer within %v", method, callTimeout)
	}
}

func (c *conn) close() error {
	err := c.ws.Close()
	<-c.done
	if errors.Is(err, websocket.ErrCloseSent) {
		return nil
	}
	return err
}
