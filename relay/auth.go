package relay

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/websocket"

	"qrkiosk/relay/store"
)

// authenticate finds the kiosk's credential: the shared token (compared
// in constant time) or its own token (looked up by hash). The token comes
// from the Authorization header, or ?token= for clients that cannot set
// headers. On failure it returns the HTTP status, the metric reason and
// the message for the kiosk: an unknown token and a revoked one get the
// same answer, found by the same look-up, so that a stolen token's holder
// cannot tell whether it ever worked; the reason is for the log and
// metric only.
func (s *Server) authenticate(r *http.Request) (cred *credential, status int, reason, msg string) {
	shared := s.shared
	cred = &credential{}
	if s.cfg.InsecureNoAuth {
		return shared, 0, "", ""
	}
	tok := r.URL.Query().Get("token")
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, t, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return cred, http.StatusUnauthorized, reasonUnauthorized, "unauthorized: use Authorization: Bearer TOKEN"
		}
		tok = strings.TrimSpace(t)
	}
	if tok == "" {
		return cred, http.StatusUnauthorized, reasonUnauthorized, "unauthorized: no token"
	}
	if s.cfg.Token != "" {
		sum := sha256.Sum256([]byte(tok))
		if subtle.ConstantTimeCompare(sum[:], s.tokenSum[:]) == 1 {
			return shared, 0, "", ""
		}
	}
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	t, err := s.st.TokenByHash(ctx, HashToken(tok))
	switch {
	case errors.Is(err, store.ErrTokenNotFound):
		return cred, http.StatusUnauthorized, reasonUnauthorized, tokenNotAccepted
	case err != nil:
		s.log.Error("ws: token look-up", "err", err)
		return cred, http.StatusServiceUnavailable, reasonUnavailable, "relay storage unavailable, retry"
	case !t.RevokedAt.IsZero():
		return &credential{tokenID: t.ID, scope: t.Scope()}, http.StatusUnauthorized, reasonRevoked, tokenNotAccepted
	}
	return &credential{tokenID: t.ID, scope: t.Scope(), limit: s.cfg.MaxConnsPerToken}, 0, "", ""
}

// tokenNotAccepted answers every token that is not (or no longer) valid.
const tokenNotAccepted = "unauthorized: token not accepted"

// watchRevocations closes, within RevocationPoll, the connections of a
// token revoked on any instance (the token commands write the store).
// Each look-up overlaps the previous by a minute of the store's clock, so
// a revocation committed late is still seen.
func (s *Server) watchRevocations(ctx context.Context) {
	defer s.bg.Done()
	t := time.NewTicker(s.cfg.RevocationPoll)
	defer t.Stop()
	var since time.Time // the first look-up lists every revoked token
	for {
		ids, now, err := s.st.RevokedSince(ctx, since)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			s.m.StoreError()
			s.log.Warn("revocation watch: reading the store", "err", err)
		default:
			since = now.Add(-time.Minute)
			for _, c := range s.hub.withTokens(ids) {
				if c.closing() {
					continue
				}
				s.m.KioskDisconnected(reasonRevoked)
				s.log.Info("ws: token revoked, disconnecting the kiosk", "token_id", c.cred.tokenID,
					"merchant", c.cred.scope.Merchant, "udid", c.cred.scope.UDID, "remote", c.remote)
				c.close(websocket.ClosePolicyViolation, "token revoked", false)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
