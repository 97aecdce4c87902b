package kiosk

import (
	"context"
	"log/slog"
	"net/http"

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
// notifications signed with the simulators' keys and kiosks with token.
// It counts no metrics: nobody scrapes a demo, and the kiosk links no
// metrics library.
func newDemoRelay(dir, token, qfpayKey, scanForPayKey string, log *slog.Logger) (demoRelay, error) {
	st, err := sqlitestore.Open(dir, sqlitestore.Options{Lock: true})
	if err != nil {
		return nil, err
	}
	rs, err := relay.NewServer(relay.Config{Key: qfpayKey, ScanForPayKey: scanForPayKey, Token: token, Store: st, Logger: log})
	if err != nil {
		return nil, err
	}
	return rs, nil
}
