package relay

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// handleHealth is liveness: the process serves HTTP. It does not touch
// the store, so a load balancer does not restart a relay for a database
// outage it cannot fix; /readyz tells whether it can take notifications.
func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	if s.closing.Load() {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	io.WriteString(w, "ok\n")
}

// readyCache bounds how often /readyz writes, however often it is asked.
const readyCache = time.Second

// handleReady is readiness: 200 only if the last notification write did
// not fail and a write committed just now (disk not full, database
// reachable and writable), with what it checked.
func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	if s.closing.Load() {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	err := s.ready(r.Context())
	var b strings.Builder
	fmt.Fprintf(&b, "instance %s\nstorage %s\n", s.cfg.Instance, s.st.Kind())
	if has, up := s.st.Listener(); has {
		state := "up"
		if !up {
			state = "down (polling the table every " + s.cfg.FeedPoll.String() + ")"
		}
		fmt.Fprintf(&b, "database listener %s\n", state)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, "not ready: cannot commit a write: %v\n%s", err, b.String())
		return
	}
	fmt.Fprintf(w, "ready\n%s", b.String())
}

// writeFailure is a notification write that failed, for readiness.
type writeFailure struct {
	at  time.Time
	err error
}

// noteAppend records how storing a notification went: after a failure
// the relay is not ready (from the next /readyz that is not answered from
// readyCache) until a notification, or a write as large as
// one (store.Store.Probe), is stored again. A heartbeat alone would not do: on
// a full disk a small write into pages the journal already has can
// commit while every notification fails.
func (s *Server) noteAppend(err error) {
	if err == nil {
		if f := s.lastFailure.Load(); f != nil && s.lastFailure.CompareAndSwap(f, nil) {
			s.log.Info("ready again: a notification was stored")
		}
		return
	}
	if s.lastFailure.Swap(&writeFailure{at: time.Now(), err: err}) == nil {
		s.log.Error("not ready: a notification could not be stored", "err", err)
	}
	s.m.Ready(false)
}

func (s *Server) ready(ctx context.Context) error {
	s.readyMu.Lock()
	defer s.readyMu.Unlock()
	if time.Since(s.readyAt) < readyCache {
		return s.readyErr
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	var err error
	if f := s.lastFailure.Load(); f != nil {
		if perr := s.st.Probe(ctx); perr != nil {
			err = fmt.Errorf("the last notification write failed (%s ago: %v), and a write as large as a notification fails: %w",
				time.Since(f.at).Round(time.Second), f.err, perr)
		} else if s.lastFailure.CompareAndSwap(f, nil) {
			s.log.Info("the store takes a notification's write again")
		}
	}
	if err == nil {
		err = s.st.Ready(ctx, s.cfg.Instance)
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		if s.readyErr == nil {
			s.log.Error("not ready: the store cannot commit a write", "err", err)
		}
	} else if err == nil && s.readyErr != nil {
		s.log.Info("ready again: the store commits writes")
	}
	s.readyAt, s.readyErr = time.Now(), err
	if err != nil {
		s.m.Ready(false)
	} else {
		s.m.Ready(true)
	}
	return err
}
