package relay

import (
	"errors"
	"io"
	"net/http"
	"net/netip"
	"time"

	"qrkiosk/relay/store"
)

// MaxNotifyBody caps a notification body; larger ones get 413.
const MaxNotifyBody = store.MaxNotifyBody

// handleNotify is a merchant's notify URL. Only the gateway's success
// reply stops its retries, so it is sent only once the notification is
// durable (committed in PostgreSQL, or fsynced in SQLite).
func (s *Server) handleNotify(w http.ResponseWriter, r *http.Request, gatewayName, merchantID string) {
	receivedAt := time.Now()
	s.m.Notification(resultReceived)
	src := s.sourceAddr(r)
	log := s.log.With("remote", src.String(), "gateway", gatewayName, "merchant", merchantID)
	if r.Method != http.MethodPost {
		s.m.Notification(resultRejected)
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	gw, known := gateways[gatewayName]
	m, configured := s.merchants[gatewayName][merchantID]
	if !known || !configured {
		s.m.Notification(resultRejected)
		s.notifLog.warn(log, "notify: no such merchant on this relay", "path", r.URL.Path)
		http.Error(w, "no such merchant", http.StatusNotFound)
		return
	}
	if gw.AllowListed() && len(s.cfg.AllowIPs) > 0 && !containsAddr(s.cfg.AllowIPs, src) {
		s.m.Notification(resultRejected)
		s.notifLog.warn(log, "notify: source not in allow-list")
		s.proxyHint(r, src)
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxNotifyBody))
	if err != nil {
		s.m.Notification(resultRejected)
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.notifLog.warn(log, "notify: body too large", "limit", MaxNotifyBody)
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		s.notifLog.warn(log, "notify: reading body", "err", err)
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	n, err := gw.Verify(raw, r, m.Key)
	if err == nil {
		err = n.check()
	}
	switch {
	case errors.Is(err, ErrMalformed):
		s.m.Notification(resultVerified)
		s.m.Notification(resultMalformed)
		log.Warn("notify: signed but malformed", "err", err)
		http.Error(w, "malformed notification", http.StatusBadRequest)
		return
	case err != nil:
		s.m.Notification(resultRejected)
		s.notifLog.warn(log, "notify: signature rejected", "err", err, "bytes", len(raw))
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	s.m.Notification(resultVerified)
	rec := &store.Record{
		Merchant:   m.ID,
		Gateway:    gw.Name(),
		SysSN:      n.EventID,
		NotifyType: n.Kind,
		OutTradeNo: n.OutTradeNo,
		UDID:       n.UDID,
		Body:       raw,
		Sign:       n.Sign,
		SignType:   n.SignType,
		ReceivedAt: receivedAt,
	}
	log = log.With("syssn", rec.SysSN, "notify_type", rec.NotifyType, "out_trade_no", rec.OutTradeNo)
	inserted, err := s.st.Append(r.Context(), rec)
	if r.Context().Err() == nil && !errors.Is(err, store.ErrClosed) {
		s.noteAppend(err)
	}
	if err != nil {
		s.m.Notification(resultFailed)
		log.Error("notify: not stored; answered 503 so the gateway retries", "err", err)
		http.Error(w, "not stored, retry", http.StatusServiceUnavailable)
		return
	}
	if inserted {
		select {
		case s.kick <- struct{}{}:
		default:
		}
		// Answer once this instance's kiosks have it queued, as a relay
		// that broadcast in the handler did: a kiosk subscribing after
		// SUCCESS then gets it by replay only, not twice. The row is
		// durable already, so a stuck fan-out only delays the answer.
		s.waitFanned(rec.ID, time.Second)
		log.Info("notify: stored", "id", rec.ID, "udid", rec.UDID)
	} else {
		s.m.Notification(resultDuplicate)
		log.Info("notify: duplicate")
	}
	ct, body := gw.Reply()
	w.Header().Set("Content-Type", ct)
	io.WriteString(w, body)
}

// proxyHint explains an allow-list refusal that is really a missing
// --trusted-proxy: the request came through a proxy, so the address the
// list saw was the proxy's. Once a minute per proxy.
func (s *Server) proxyHint(r *http.Request, src netip.Addr) {
	if r.Header.Get("X-Forwarded-For") == "" || containsAddr(s.cfg.TrustedProxies, src) {
		return
	}
	s.hintMu.Lock()
	last := s.hinted[src]
	fresh := time.Since(last) > time.Minute
	if fresh {
		s.hinted[src] = time.Now()
	}
	s.hintMu.Unlock()
	if fresh {
		s.log.Warn("notify: the refused request came through a proxy (it sent X-Forwarded-For), so the allow-list saw the proxy's address; if that proxy is yours, start the relay with --trusted-proxy "+src.String(),
			"proxy", src.String(), "x_forwarded_for", r.Header.Get("X-Forwarded-For"))
	}
}
