package kiosk

import (
	"context"
	"log/slog"
	"net/http"
	"strings"

	"qrkiosk/relay"
	"qrkiosk/relay/sqlitestore"
)

// demoRelay is all the demo asks of its in-process notify relay: the
// routes to serve (the simulator's notifications in, the kiosk's link
// out) and a way to stop. The kiosk itself talks to it as to any relay,
// through relayclient.
type demoRelay interface {
	Handler() http.Handler
	Shutdown(context.Context) error
}

// newDemoRelay runs the relay server on a SQLite journal in dir, taking
// notifications signed with the simulators' keys and kiosks with token;
// its e-receipt links start with receiptsURL. It counts no metrics:
// nobody scrapes a demo, and the kiosk links no metrics library.
func newDemoRelay(dir, token, qfpayKey, scanForPayKey, receiptsURL string, log *slog.Logger) (demoRelay, error) {
	st, err := sqlitestore.Open(dir, sqlitestore.Options{Lock: true})
	if err != nil {
		return nil, err
	}
	rs, err := relay.NewServer(relay.Config{Key: qfpayKey, ScanForPayKey: scanForPayKey, Token: token, Store: st, Logger: log,
		PublicURL: receiptsURL})
	if err != nil {
		return nil, err
	}
	return rs, nil
}

// receiptPages is the demo relay's handler for the phones on the shop's
// network: its e-receipt pages (/r/…) and nothing else, so its kiosk link
// and notify URL stay on this machine.
func receiptPages(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/r/") {
			http.NotFound(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}
