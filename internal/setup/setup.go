// Package setup is the kiosk's setup page for the owner's phone on the
// shop's LAN: off until the kiosk shows its one-time code, unlocked by that
// code into one session bound to the phone and the code's lifetime, with
// write-only keys, a Test for each part and a Save that writes config.toml
// as config check reads it. Its handlers mount on the kiosk's LAN server.
package setup

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"log/slog"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"qrkiosk/internal/config"
	"qrkiosk/internal/lan"
	"qrkiosk/internal/pin"
	"qrkiosk/internal/probe"
)

// Options configure the page.
type Options struct {
	// Path is the config.toml the kiosk reads and Save writes.
	Path   string
	Getenv func(string) string
	Now    func() time.Time // nil: time.Now
	Log    *slog.Logger     // nil: none
	Probe  probe.Options
	// HashPIN stores a new manager PIN (nil: pin.Hash).
	HashPIN func(string) (string, error)
	// OnEvent tells the kiosk's screen what happened, from the goroutine
	// that saw it (nil: nothing).
	OnEvent func(Event)
	// Fingerprint is the LAN CA's fingerprint the POS section shows, to
	// compare with what the POS imported (nil: not shown).
	Fingerprint func() string
	// Check is what the running kiosk needs of settings besides config
	// check (the full-screen kiosk's exit PIN); a refusal is a problem of
	// the save, the setting named (nil: none).
	Check func(config.Config) error
}

// EventKind is what the kiosk's screen is told.
type EventKind int

const (
	// EventUnlocked: a phone typed the code; the page is in use.
	EventUnlocked EventKind = iota
	// EventCodeBurnt: too many wrong codes; the code no longer works.
	EventCodeBurnt
	// EventLocked: a device typed too many wrong codes and is refused
	// for Wait.
	EventLocked
	// EventSaved: the owner saved; Config is what the kiosk will run
	// with. The page has ended.
	EventSaved
	// EventEnded: the page ended without a save (the code's time ran
	// out, or the owner left).
	EventEnded
)

// Event is one thing the kiosk's screen shows.
type Event struct {
	Kind   EventKind
	Source netip.Addr
	Wait   time.Duration
	Config config.Config
}

// Server is the setup page: its state and its handlers.
type Server struct {
	o     Options
	codes *lan.Codes

	mu     sync.Mutex
	open   bool      // the kiosk asked for the page and it has not ended
	until  time.Time // when the code, and a session it opened, ends
	sess   *session  // the unlocked phone's; nil before the code
	timer  *time.Timer
	saving bool
}

// session is the one phone let in by the code.
type session struct {
	token [sha256.Size]byte // of the cookie's value
	src   netip.Addr
	logo  *Logo // an upload waiting for Save
}

// New returns the page, off.
func New(o Options) *Server {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.HashPIN == nil {
		o.HashPIN = pin.Hash
	}
	if o.OnEvent == nil {
		o.OnEvent = func(Event) {}
	}
	if o.Getenv == nil {
		o.Getenv = func(string) string { return "" }
	}
	s := &Server{o: o}
	s.codes = lan.NewCodes(o.Now, s.codeEvent)
	return s
}

func (s *Server) codeEvent(e lan.CodeEvent) {
	if e.Locked > 0 {
		s.o.Log.Warn("setup: a device typed too many wrong codes", "source", e.Source, "locked_for", e.Locked)
		s.o.OnEvent(Event{Kind: EventLocked, Source: e.Source, Wait: e.Locked})
	}
	if e.Burnt {
		s.o.Log.Warn("setup: too many wrong codes; the code no longer works", "source", e.Source)
		s.o.OnEvent(Event{Kind: EventCodeBurnt, Source: e.Source})
	}
}

// Open turns the page on with a new code for the kiosk to show (any
// session of an earlier code ends), until the code's lifetime ends.
func (s *Server) Open() (code string, until time.Time) {
	code, until = s.codes.New()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.open, s.until, s.sess = true, until, nil
	if s.timer != nil {
		s.timer.Stop()
	}
	s.timer = time.AfterFunc(until.Sub(s.o.Now()), s.expire)
	s.o.Log.Info("setup: page on", "until", until)
	return code, until
}

// Close turns the page off (the kiosk's dialog closed): the code stops
// working and a phone's session ends.
func (s *Server) Close() {
	s.codes.Withdraw()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.endLocked()
}

// expire ends the page when the code's time is up.
func (s *Server) expire() {
	s.mu.Lock()
	ended := s.open && !s.o.Now().Before(s.until)
	if ended {
		s.endLocked()
	}
	s.mu.Unlock()
	if ended {
		s.o.Log.Info("setup: page off: the code's time ran out")
		s.o.OnEvent(Event{Kind: EventEnded})
	}
}

func (s *Server) endLocked() {
	s.open, s.sess = false, nil
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
}

// Mounter is the LAN server the page is served on (lan.Server, the
// kiosk's LANServer).
type Mounter interface {
	Handle(pattern string, h http.Handler, route lan.Route)
}

// cookieName: __Host- makes browsers keep it only when Secure, for this
// host alone, on path /.
const cookieName = "__Host-qrkiosk-setup"

// unlock opens the session of the phone at src that typed the showing
// code, and returns the cookie's value.
func (s *Server) unlock(src netip.Addr) (string, time.Time) {
	b := make([]byte, 32)
	rand.Read(b)
	value := base64.RawURLEncoding.EncodeToString(b)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sess = &session{token: sha256.Sum256([]byte(value)), src: src}
	return value, s.until
}

// state is whether the page is on, and the session a request belongs to
// (nil: none: no cookie, another's, another device's, or expired).
func (s *Server) state(r *http.Request) (open bool, sess *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.open && !s.o.Now().Before(s.until) {
		s.endLocked()
	}
	if !s.open || s.sess == nil {
		return s.open, nil
	}
	c, err := r.Cookie(cookieName)
	if err != nil {
		return true, nil
	}
	h := sha256.Sum256([]byte(c.Value))
	if subtle.ConstantTimeCompare(h[:], s.sess.token[:]) != 1 || sourceAddr(r) != s.sess.src {
		return true, nil
	}
	return true, s.sess
}

// sourceAddr is the device the request came from: devices on the LAN
// talk to the kiosk directly, there is no proxy whose headers to trust.
func sourceAddr(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}
