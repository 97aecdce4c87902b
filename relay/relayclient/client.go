// Package relayclient is the kiosk's side of the notify relay: one
// websocket kept up to it, over which the kiosk follows its orders'
// notifications.
package relayclient

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"qrkiosk/relay/wire"
)

// Config configures the kiosk side of the relay.
type Config struct {
	URL        string // ws:// or wss:// address of the relay's /ws
	Token      string // the kiosk's own token (qrkiosk-relay token add), or the relay's shared one
	UDID       string // this kiosk's device id (QRKIOSK_UDID): must be the token's device
	Logger     *slog.Logger
	MinBackoff time.Duration // 0 = 0.5s
	MaxBackoff time.Duration // 0 = 10s
	// PingInterval is how often the client pings the relay; a link silent
	// for 2.5× this is declared down. 0 = 20s.
	PingInterval time.Duration
}

// Client keeps one websocket to the relay, reconnecting with jittered
// exponential backoff and resubscribing every active subscription. The
// relay replays stored notifications on each (re)subscribe, so a
// subscriber may see one notification more than once.
type Client struct {
	cfg Config
	log *slog.Logger

	mu      sync.Mutex
	subs    map[string]map[*Subscription]struct{} // by out_trade_no
	ws      *websocket.Conn                       // nil while down
	pending map[string]bool                       // resubscriptions not yet acknowledged
	up      bool
	// receipts are the receipt frames waiting for the relay's answer, by
	// ref (receipt.go).
	receipts   map[string]chan receiptAnswer
	receiptSeq uint64

	writeMu  sync.Mutex // one writer of data frames at a time
	linkMu   sync.Mutex
	watchers map[chan bool]struct{} // WatchLink's channels
}

// NewClient returns a client; call Run to connect.
func NewClient(cfg Config) *Client {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = 500 * time.Millisecond
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 10 * time.Second
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = cfg.MinBackoff
	}
	if cfg.PingInterval <= 0 {
		cfg.PingInterval = 20 * time.Second
	}
	if rest, ok := strings.CutPrefix(cfg.URL, "http"); ok {
		cfg.URL = "ws" + rest // http:// → ws://, https:// → wss://
	}
	return &Client{
		cfg:      cfg,
		log:      cfg.Logger,
		subs:     make(map[string]map[*Subscription]struct{}),
		watchers: make(map[chan bool]struct{}),
	}
}

// Up reports whether the client is connected and every subscription it
// had when it (re)connected has been acknowledged (replay included).
func (c *Client) Up() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.up
}

// WatchLink returns a channel that receives true each time the link comes
// up and false each time it goes down, until stop is called. Every watcher
// (one per order being followed) gets every change; each channel holds only
// the latest state, so a slow reader misses intermediate flips, never the
// current one.
func (c *Client) WatchLink() (changes <-chan bool, stop func()) {
	ch := make(chan bool, 1)
	c.linkMu.Lock()
	c.watchers[ch] = struct{}{}
	c.linkMu.Unlock()
	return ch, func() {
		c.linkMu.Lock()
		delete(c.watchers, ch)
		c.linkMu.Unlock()
	}
}

func (c *Client) signal(up bool) {
	c.linkMu.Lock()
	defer c.linkMu.Unlock()
	for ch := range c.watchers {
		latest(ch, up)
	}
}

// latest replaces what ch holds with v; ch has room for one and the
// caller is its only writer.
func latest(ch chan bool, v bool) {
	select {
	case <-ch:
	default:
	}
	ch <- v
}

// Run connects and keeps the link up until ctx ends. Call it once.
func (c *Client) Run(ctx context.Context) {
	attempt := 0
	for {
		if c.session(ctx) {
			attempt = 0
		}
		if ctx.Err() != nil {
			return
		}
		d := backoff(attempt, c.cfg.MinBackoff, c.cfg.MaxBackoff)
		attempt++
		c.log.Debug("relay: reconnecting", "attempt", attempt, "in", d)
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// backoff is exponential from min to max with equal jitter: at least half
// the step, so a fleet of kiosks does not reconnect in lockstep after a
// relay restart.
func backoff(attempt int, min, max time.Duration) time.Duration {
	d := max
	if attempt < 30 {
		if e := min << attempt; e > 0 && e < max {
			d = e
		}
	}
	return d/2 + rand.N(d/2+1)
}

// session runs one connection; connected reports whether the dial worked.
func (c *Client) session(ctx context.Context) (connected bool) {
	ws, err := c.dial(ctx)
	if err != nil {
		var ref *ConnectRefusedError
		if errors.As(err, &ref) {
			c.log.Warn("relay: connect failed", "err", ref.Err, "status", ref.Status, "relay_says", ref.RelaySays)
		} else {
			c.log.Warn("relay: connect failed", "err", err, "status", 0, "relay_says", "")
		}
		return false
	}
	ws.SetReadLimit(1 << 20) // a 64 KiB body, base64-encoded, in JSON
	wait := c.cfg.PingInterval * 5 / 2
	ws.SetReadDeadline(time.Now().Add(wait))
	ws.SetPongHandler(func(string) error { return ws.SetReadDeadline(time.Now().Add(wait)) })
	ws.SetPingHandler(func(data string) error {
		ws.SetReadDeadline(time.Now().Add(wait))
		return ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(10*time.Second))
	})

	c.mu.Lock()
	c.ws = ws
	c.pending = make(map[string]bool, len(c.subs))
	keys := make([]string, 0, len(c.subs))
	for k := range c.subs {
		c.pending[k] = true
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		c.up = true
	}
	c.mu.Unlock()
	c.log.Info("relay: connected", "subscriptions", len(keys))
	if len(keys) == 0 {
		c.signal(true)
	}
	for _, k := range keys {
		if c.write(ws, wire.KioskFrame{Type: wire.TypeSubscribe, OutTradeNo: k}) != nil {
			break // the read below fails too
		}
	}

	stop := make(chan struct{})
	var pinger sync.WaitGroup
	pinger.Add(1)
	go func() {
		defer pinger.Done()
		t := time.NewTicker(c.cfg.PingInterval)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-ctx.Done():
				ws.WriteControl(websocket.CloseMessage,
					websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
				ws.Close()
				return
			case <-t.C:
				if ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(10*time.Second)) != nil {
					ws.Close()
					return
				}
			}
		}
	}()

	for {
		_, data, err := ws.ReadMessage()
		if err != nil {
			if ctx.Err() == nil {
				c.log.Warn("relay: link lost", "err", err)
			}
			break
		}
		ws.SetReadDeadline(time.Now().Add(wait))
		c.handle(data)
	}
	close(stop)
	ws.Close()
	pinger.Wait()
	c.mu.Lock()
	c.ws, c.pending = nil, nil
	c.dropReceipts()
	wasUp := c.up
	c.up = false
	c.mu.Unlock()
	if wasUp {
		c.signal(false)
	}
	return true
}

func (c *Client) handle(data []byte) {
	var m wire.RelayFrame
	if err := json.Unmarshal(data, &m); err != nil {
		c.log.Warn("relay: undecodable message", "err", err)
		return
	}
	switch m.Type {
	case wire.TypeNotification:
		msg := Message{
			Body:       m.Body,
			Sign:       m.Sign,
			SignType:   m.SignType,
			ID:         m.ID,
			SysSN:      m.SysSN,
			NotifyType: m.NotifyType,
			OutTradeNo: m.OutTradeNo,
			UDID:       m.UDID,
			Merchant:   m.Merchant,
			Gateway:    m.Gateway,
			Replay:     m.Replay,
		}
		if m.ReceivedAt != nil {
			msg.ReceivedAt = *m.ReceivedAt
		}
		c.mu.Lock()
		for s := range c.subs[m.OutTradeNo] {
			select {
			case s.ch <- msg:
			default:
				c.log.Warn("relay: subscriber not reading, notification dropped",
					"out_trade_no", m.OutTradeNo, "syssn", m.SysSN)
			}
		}
		c.mu.Unlock()
	case wire.TypeSubscribed:
		c.mu.Lock()
		c.setRefused(m.OutTradeNo, false)
		becameUp := false
		if c.pending != nil && !c.up {
			delete(c.pending, m.OutTradeNo)
			if len(c.pending) == 0 {
				c.up, becameUp = true, true
			}
		}
		c.mu.Unlock()
		if becameUp {
			c.signal(true)
		}
	case wire.TypeReceiptStored:
		c.mu.Lock()
		c.answerReceipt(m.Ref, receiptAnswer{url: m.URL})
		c.mu.Unlock()
	case wire.TypeError:
		c.log.Warn("relay: error from relay", "error", m.Error, "out_trade_no", m.OutTradeNo, "ref", m.Ref)
		if m.Ref != "" {
			c.mu.Lock()
			c.answerReceipt(m.Ref, receiptAnswer{err: &RefusedError{Msg: m.Error}})
			c.mu.Unlock()
			return
		}
		// A refused subscription is never acknowledged: stop waiting for it
		// so the link can count as up, and tell its followers, whose
		// order then gets no push and must be polled as if the link were
		// down. The error's text is the relay's to word; naming an order
		// this client follows is what makes it a refusal.
		c.mu.Lock()
		if m.OutTradeNo != "" {
			c.setRefused(m.OutTradeNo, true)
		}
		becameUp := false
		if m.OutTradeNo != "" && c.pending[m.OutTradeNo] && !c.up {
			delete(c.pending, m.OutTradeNo)
			if len(c.pending) == 0 {
				c.up, becameUp = true, true
			}
		}
		c.mu.Unlock()
		if becameUp {
			c.signal(true)
		}
	}
}

func (c *Client) write(ws *websocket.Conn, req wire.KioskFrame) error {
	data, err := json.Marshal(req)
	if err != nil {
		return err
	}
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return ws.WriteMessage(websocket.TextMessage, data)
}
