package relay

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/websocket"

	"qrkiosk/relay/wire"
)

// handleWS upgrades a kiosk's connection. Every refusal before the
// upgrade is a plain HTTP answer that closes the connection (nothing is
// kept open for whoever provoked it), counted by reason, its log line
// sampled; refusals a source provokes use up its sourceLimiter bucket.
func (s *Server) handleWS(w http.ResponseWriter, r *http.Request) {
	src := s.sourceAddr(r)
	remote := src.String()
	udid := r.Header.Get(wire.HeaderUDID)
	if udid == "" {
		udid = r.URL.Query().Get("udid")
	}
	if len(udid) > wire.MaxUDID {
		udid = udid[:wire.MaxUDID]
	}
	refuse := func(status int, reason, msg string, cred *credential, retry time.Duration) {
		s.m.KioskRefused(reason)
		if status == http.StatusUnauthorized || status == http.StatusForbidden || reason == reasonTooManyConns {
			s.sources.refused(src, time.Now())
		}
		s.wsLog.warn(s.log, "ws: kiosk refused", "remote", remote, "udid", udid, "reason", reason,
			"token_id", cred.tokenID, "merchant", cred.scope.Merchant, "token_udid", cred.scope.UDID)
		h := w.Header()
		h.Set("Connection", "close")
		if status == http.StatusUnauthorized {
			h.Set("WWW-Authenticate", `Bearer realm="qrkiosk-relay"`)
		}
		if retry > 0 {
			h.Set("Retry-After", strconv.Itoa(int((retry+time.Second-1)/time.Second)))
		}
		http.Error(w, msg, status)
	}
	if s.closing.Load() {
		refuse(http.StatusServiceUnavailable, reasonShuttingDown, "shutting down", &credential{}, 0)
		return
	}
	if limited, wait := s.sources.limited(src, time.Now()); limited {
		refuse(http.StatusTooManyRequests, reasonRateLimited, "too many refused attempts from this address: retry later",
			&credential{}, wait)
		return
	}
	cred, status, reason, msg := s.authenticate(r)
	if status != 0 {
		refuse(status, reason, msg, cred, 0)
		return
	}
	if cred.scope.UDID != "" && udid != "" && udid != cred.scope.UDID {
		refuse(http.StatusForbidden, reasonDeviceMismatch,
			fmt.Sprintf("forbidden: this token is for device %q, the kiosk says it is %q", cred.scope.UDID, udid), cred, 0)
		return
	}
	if err := s.hub.admits(cred, s.cfg.MaxConns); err != nil {
		if errors.Is(err, errRelayFull) {
			refuse(http.StatusServiceUnavailable, reasonRelayFull, err.Error(), cred, connRetry)
		} else {
			refuse(http.StatusTooManyRequests, reasonTooManyConns, err.Error(), cred, connRetry)
		}
		return
	}
	if cred.tokenID != 0 && !s.serves(cred.scope.Merchant) {
		// Not refused (another instance may be configured for it), but
		// most likely a typo in `token add --merchant`: this kiosk will
		// see nothing from here.
		s.log.Warn("ws: the kiosk's token is for a merchant this relay does not serve", "merchant", cred.scope.Merchant,
			"token_id", cred.tokenID, "remote", remote)
	}
	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		s.log.Debug("ws: upgrade", "remote", remote, "err", err)
		return
	}
	c := newWSConn(ws, s.cfg.SendQueue, remote, udid, cred)
	c.host = r.Host
	if err := s.hub.add(c, s.cfg.MaxConns, &s.wg); err != nil {
		// Passed admits, then lost a race for the last place.
		code, text := websocket.CloseGoingAway, "relay shutting down"
		if reason := reasonOf(err); reason != "" {
			code, text = websocket.CloseTryAgainLater, err.Error()
			s.m.KioskRefused(reason)
			s.wsLog.warn(s.log, "ws: kiosk refused", "remote", remote, "udid", udid, "reason", reason,
				"token_id", cred.tokenID, "limit", cred.limit)
		}
		ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text), time.Now().Add(time.Second))
		ws.Close()
		return
	}
	s.m.Connections(1)
	s.log.Info("kiosk connected", "remote", remote, "udid", udid, "token_id", cred.tokenID,
		"merchant", cred.scope.Merchant)
	go s.writePump(c)
	go s.readPump(c)
}

// connRetry is the Retry-After of a kiosk refused for a connection limit:
// about the Go client's longest reconnection back-off.
const connRetry = 10 * time.Second

// reasonOf is the refusal reason of a hub.add error, "" for shutdown.
func reasonOf(err error) string {
	switch {
	case errors.Is(err, errRelayFull):
		return reasonRelayFull
	case errors.Is(err, errTooManyConns):
		return reasonTooManyConns
	}
	return ""
}
