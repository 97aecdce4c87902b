package webdisplay

import (
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/websocket"
)

// protocol is the websocket subprotocol of the displays; the token comes
// beside it as "token.<token>" (a browser can set no header on a
// websocket, and a URL would leave the token in histories and logs).
const (
	protocol    = "qrkiosk.display.v1"
	tokenPrefix = "token."
)

// tokenFrom is the display token the websocket request offers beside the
// displays' subprotocol; "" when it offers none, not exactly one, or one
// not shaped as a token.
func tokenFrom(r *http.Request) string {
	var token string
	found, proto := 0, false
	for _, p := range websocket.Subprotocols(r) {
		switch {
		case p == protocol:
			proto = true
		case strings.HasPrefix(p, tokenPrefix):
			token = strings.TrimPrefix(p, tokenPrefix)
			found++
		}
	}
	if !proto || found != 1 || !validToken(token) {
		return ""
	}
	return token
}

var upgrader = websocket.Upgrader{
	HandshakeTimeout: 5 * time.Second,
	ReadBufferSize:   maxRead,
	WriteBufferSize:  4 << 10,
	Subprotocols:     []string{protocol},
	// The default origin check: the page the kiosk served, and no other
	// site's, opens the websocket.
}

// serveWS is a display's link: the token is checked on every connection.
// A display without a valid one is told so (closeUnpaired), so that it
// asks to be paired again instead of retrying for ever, and is closed at
// once.
func (d *Displays) serveWS(w http.ResponseWriter, r *http.Request) {
	token := tokenFrom(r)
	p, ok := d.store.check(token)
	ws, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		d.refused("websocket upgrade", "source", sourceAddr(r).String(), "err", err)
		return
	}
	if !ok {
		d.refused("display not paired", "source", sourceAddr(r).String())
		ws.SetWriteDeadline(time.Now().Add(time.Second))
		ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(closeUnpaired, "this display is not paired with the kiosk"))
		ws.Close()
		return
	}
	c := newClient(d.Hub, ws, p)
	if !d.add(c) {
		d.refused("too many display connections", "display", p.Name)
		ws.SetWriteDeadline(time.Now().Add(time.Second))
		ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseTryAgainLater, "too many connections"))
		ws.Close()
		return
	}
	// Revoked while it connected: Revoke's drop may have run before add.
	if _, still := d.store.check(token); !still {
		c.end(closeUnpaired, "this display was removed on the kiosk")
	}
	c.run()
}
