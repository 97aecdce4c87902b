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

	"qrkiosk/internal/lan"
)

// maxPairBody bounds a pairing request: {"code": "123 456"} and no more.
const maxPairBody = 256

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

// sourceAddr is the device's address: displays talk to the kiosk directly.
func sourceAddr(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}
