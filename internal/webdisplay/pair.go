package webdisplay

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/websocket"

	"qrkiosk/internal/lan"
)

// maxPairBody bounds a pairing request: {"code": "123 456"} and no more.
const maxPairBody = 256

// protocol is the websocket subprotocol of the displays; the token comes
// beside it as "token.<token>" (a browser can set no header on a
// websocket, and a URL would leave the token in histories and logs).
const (
	protocol    = "qrkiosk.display.v1"
	tokenPrefix = "token."
)

// parsePairRequest reads {"code": "..."}: one JSON object with that one
// member, a string, named exactly so. The code itself is checked by
// lan.Codes.
func parsePairRequest(body []byte) (string, error) {
	bad := errors.New(`the request must be {"code": "<the 6 digits shown on the kiosk>"}`)
	var req map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&req); err != nil || len(req) != 1 {
		return "", bad
	}
	if _, err := dec.Token(); err != io.EOF { // nothing after the object
		return "", bad
	}
	raw, ok := req["code"]
	var code string
	if !ok || json.Unmarshal(raw, &code) != nil {
		return "", bad
	}
	return code, nil
}

// pairAnswer is the pairing's answer: the token, or why not.
type pairAnswer struct {
	Token string `json:"token,omitempty"`
	Name  string `json:"name,omitempty"`
	Error string `json:"error,omitempty"`
}

func answer(w http.ResponseWriter, status int, a pairAnswer) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(a)
}

// servePair exchanges the code showing on the kiosk for a display token.
func (d *Displays) servePair(w http.ResponseWriter, r *http.Request) {
	src := sourceAddr(r)
	body, err := io.ReadAll(r.Body)
	if err != nil {
		answer(w, http.StatusRequestEntityTooLarge, pairAnswer{Error: fmt.Sprintf("the request is larger than %d bytes", maxPairBody)})
		d.refused("pairing request too large", "source", src.String())
		return
	}
	code, err := parsePairRequest(body)
	if err != nil {
		answer(w, http.StatusBadRequest, pairAnswer{Error: err.Error()})
		d.refused("malformed pairing request", "source", src.String())
		return
	}
	if err := d.codes.Check(src, code); err != nil {
		var locked *lan.LockedError
		status := http.StatusForbidden
		if errors.As(err, &locked) {
			status = http.StatusTooManyRequests
			w.Header().Set("Retry-After", strconv.Itoa(max(int(locked.Wait/time.Second), 1)))
		}
		answer(w, status, pairAnswer{Error: err.Error()})
		d.refused("wrong pairing code", "source", src.String())
		return
	}
	d.mu.Lock()
	d.code = "" // used up
	d.mu.Unlock()
	var names []string
	for _, p := range d.store.list() {
		names = append(names, p.Name)
	}
	p, token, err := d.store.add(deviceName(r.UserAgent(), names), d.now())
	if err != nil {
		status := http.StatusInternalServerError
		if errors.Is(err, ErrTooMany) {
			status = http.StatusConflict
		}
		d.log.Error("display: pairing", "err", err)
		answer(w, status, pairAnswer{Error: err.Error()})
		d.changed()
		return
	}
	d.log.Info("display: paired", "display", p.Name, "source", src.String())
	answer(w, http.StatusOK, pairAnswer{Token: token, Name: p.Name})
	d.changed()
}

// deviceName names a newly paired display for the cashier's list, from the
// browser's User-Agent ("iPad", "Android tablet 2"); taken are the names
// in use.
func deviceName(ua string, taken []string) string {
	name := "Browser"
	switch {
	case strings.Contains(ua, "iPad"):
		name = "iPad"
	case strings.Contains(ua, "iPhone"):
		name = "iPhone"
	case strings.Contains(ua, "Android") && strings.Contains(ua, "Mobile"):
		name = "Android phone"
	case strings.Contains(ua, "Android"):
		name = "Android tablet"
	case strings.Contains(ua, "Macintosh"):
		// iPadOS asks for desktop sites as a Mac.
		name = "iPad or Mac"
	}
	out := name
	for n := 2; slices.Contains(taken, out); n++ {
		out = name + " " + strconv.Itoa(n)
	}
	return out
}

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

// sourceAddr is the device's address: displays talk to the kiosk directly.
func sourceAddr(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}
