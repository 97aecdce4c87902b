package relay

import (
	"encoding/json"
	"errors"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"

	"qrkiosk/relay/wire"
)

func (s *Server) readPump(c *wsConn) {
	why := "closed"
	defer func() {
		if s.hub.remove(c) {
			s.m.Connections(-1)
		}
		if c.closing() && c.closeText != "" {
			why = c.closeText // the relay closed it, saying why
		}
		c.close(0, "", true)
		s.wg.Done()
		s.log.Info("kiosk disconnected", "remote", c.remote, "udid", c.udid, "token_id", c.cred.tokenID,
			"after", (time.Duration(time.Now().Unix()-c.since) * time.Second).String(), "why", why)
	}()
	wait := 2 * s.cfg.PingInterval
	c.ws.SetReadLimit(wire.MaxInboundFrame)
	c.ws.SetReadDeadline(time.Now().Add(wait))
	c.ws.SetPongHandler(func(string) error { return c.ws.SetReadDeadline(time.Now().Add(wait)) })
	for {
		kind, data, err := c.ws.ReadMessage()
		if err != nil {
			why = err.Error()
			return
		}
		c.ws.SetReadDeadline(time.Now().Add(wait))
		if kind != websocket.TextMessage {
			why = "sent a binary frame"
			s.m.KioskDisconnected(reasonBinaryFrame)
			c.close(websocket.CloseUnsupportedData, "binary frames are not accepted: send JSON text", false)
			return
		}
		if !utf8.Valid(data) {
			why = "sent invalid UTF-8"
			s.m.KioskDisconnected(reasonInvalidUTF8)
			c.close(websocket.CloseInvalidFramePayloadData, "text frame is not valid UTF-8", false)
			return
		}
		var req wire.KioskFrame
		if err := json.Unmarshal(data, &req); err != nil {
			s.reply(c, wire.RelayFrame{Type: wire.TypeError, Error: "not a JSON message"})
			continue
		}
		switch {
		case req.Type == wire.TypeReceipt:
			s.storeReceipt(c, req)
		case len(req.OutTradeNo) > wire.MaxOutTradeNo || len(req.UDID) > wire.MaxUDID:
			s.reply(c, wire.RelayFrame{Type: wire.TypeError, Error: "out_trade_no or udid too long"})
		case req.OutTradeNo == "" && req.UDID == "":
			s.reply(c, wire.RelayFrame{Type: wire.TypeError, Error: "out_trade_no or udid required"})
		case req.Type == wire.TypeSubscribe:
			if !s.subscribe(c, req) {
				why = "replay failed or stalled"
				return
			}
		case req.Type == wire.TypeUnsubscribe:
			s.hub.unsubscribe(c, req.OutTradeNo, req.UDID)
		default:
			s.reply(c, wire.RelayFrame{Type: wire.TypeError, Error: "unknown type"})
		}
	}
}

// reply queues a control answer without waiting: if the queue is full the
// kiosk is not reading and will be dropped by the next broadcast anyway.
func (s *Server) reply(c *wsConn, m wire.RelayFrame) {
	frame, _ := json.Marshal(m)
	select {
	case c.send <- &outbound{data: frame}:
	default:
	}
}

func (s *Server) enqueue(c *wsConn, m *outbound) bool {
	t := time.NewTimer(s.cfg.WriteTimeout)
	defer t.Stop()
	select {
	case c.send <- m:
		return true
	case <-c.stop:
		return false
	case <-t.C:
		s.dropSlow(c, "replay stalled")
		return false
	}
}

// writePump is the only writer of data frames on c (gorilla allows one
// concurrent writer). It owns closing the socket.
func (s *Server) writePump(c *wsConn) {
	ticker := time.NewTicker(s.cfg.PingInterval)
	defer func() {
		ticker.Stop()
		c.ws.Close()
		s.wg.Done()
	}()
	for {
		select {
		case m := <-c.send:
			if !s.write(c, m) {
				return
			}
		case <-ticker.C:
			if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(s.cfg.WriteTimeout)); err != nil {
				c.close(0, "", true)
				return
			}
		case <-c.stop:
			if c.closeCode == 0 {
				return
			}
			// A graceful close: flush what is already queued first.
			for flushing := true; flushing; {
				select {
				case m := <-c.send:
					if !s.write(c, m) {
						return
					}
				default:
					flushing = false
				}
			}
			c.ws.WriteControl(websocket.CloseMessage,
				websocket.FormatCloseMessage(c.closeCode, c.closeText), time.Now().Add(time.Second))
			return
		}
	}
}

func (s *Server) write(c *wsConn, m *outbound) bool {
	if m.written != nil {
		defer close(m.written)
	}
	c.ws.SetWriteDeadline(time.Now().Add(s.cfg.WriteTimeout))
	if err := c.ws.WriteMessage(websocket.TextMessage, m.data); err != nil {
		var ne interface{ Timeout() bool }
		if errors.As(err, &ne) && ne.Timeout() {
			s.dropSlow(c, "write timed out")
		}
		c.close(0, "", true)
		return false
	}
	if !m.receivedAt.IsZero() {
		s.m.Delivered(time.Since(m.receivedAt))
	}
	return true
}

func (s *Server) dropSlow(c *wsConn, why string) {
	if c.closing() {
		return
	}
	s.m.SlowKioskDropped()
	s.log.Warn("ws: dropping slow kiosk", "remote", c.remote, "udid", c.udid, "why", why)
	c.close(websocket.CloseTryAgainLater, "too slow", true)
}
