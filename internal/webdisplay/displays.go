package webdisplay

import (
	"errors"
	"image"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"qrkiosk/display/view"
	"qrkiosk/internal/lan"
)

// Router is where the displays' routes are served: the kiosk's one LAN
// server (a *lan.Server, or the kiosk's wrapper of it).
type Router interface {
	Handle(pattern string, h http.Handler, route lan.Route)
}

// Config is what the displays need from the kiosk.
type Config struct {
	// Dir is the kiosk's data directory: the paired displays are kept in
	// its StoreFile.
	Dir string
	// Screen is what the displays show besides the orders, as on the Fyne
	// customer screen.
	Screen view.Config
	// Logo is the merchant's logo on the welcome (nil: none).
	Logo   image.Image
	Timing Timing
	Log    *slog.Logger
	// Now is the kiosk's clock: a QR's time left is measured on it, never
	// on the display's (nil: time.Now).
	Now func() time.Time
	// AfterFunc runs f after d and returns its stop (nil: time.AfterFunc):
	// the result's hold.
	AfterFunc func(d time.Duration, f func()) (stop func() bool)
}

// Displays are the kiosk's paired browser displays: the hub they show
// (embedded: Show, AskForCode, Idle and Cue go to every display), their
// pairing by one-time code, their tokens, and the routes to mount on the
// LAN server. It is safe for concurrent use.
type Displays struct {
	*Hub
	store  *store
	codes  *lan.Codes
	assets *assets
	log    *slog.Logger
	now    func() time.Time

	mu       sync.Mutex
	code     string // showing on the kiosk; "" none
	expires  time.Time
	onChange func()
}

// Status is a paired display as the cashier pane lists it.
type Status struct {
	Display
	// Links is how many connections it has open now (0: not connected).
	Links int
}

// Open reads the paired displays from cfg.Dir and makes their hub, showing
// the welcome.
func Open(cfg Config) (*Displays, error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.AfterFunc == nil {
		cfg.AfterFunc = func(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop }
	}
	st, err := openStore(cfg.Dir)
	if err != nil {
		return nil, err
	}
	a, err := newAssets(cfg.Logo)
	if err != nil {
		return nil, err
	}
	d := &Displays{store: st, assets: a, log: cfg.Log, now: cfg.Now}
	d.codes = lan.NewCodes(cfg.Now, d.onCodeEvent)
	d.Hub = newHub(cfg.Screen, cfg.Timing, a.logo != nil, cfg.Now, cfg.AfterFunc, cfg.Log, d.changed)
	return d, nil
}

// Mount serves the displays' routes on r, under /display/.
func (d *Displays) Mount(r Router) {
	r.Handle("GET /display/{$}", http.HandlerFunc(d.assets.serveIndex), lan.Route{Page: true, Rate: 2, Burst: 10})
	r.Handle("GET /display/static/{file}", http.HandlerFunc(d.assets.serveStatic), lan.Route{Cache: 24 * time.Hour, Rate: 10, Burst: 40})
	// Pairing is guessing a code: a try every two seconds a device, on top
	// of the code's own five tries and the device's lockout.
	r.Handle("POST /display/pair", http.HandlerFunc(d.servePair), lan.Route{MaxBody: maxPairBody, Rate: 0.5, Burst: 5})
	// A display reconnects with backoff; more is a loop or a flood.
	r.Handle("GET /display/ws", http.HandlerFunc(d.serveWS), lan.Route{Rate: 1, Burst: 10})
}

// OnChange has f called (on any goroutine) whenever what the pane lists
// changes: a display paired, revoked, connected or gone, a code used or
// burnt.
func (d *Displays) OnChange(f func()) {
	d.mu.Lock()
	d.onChange = f
	d.mu.Unlock()
}

func (d *Displays) changed() {
	d.mu.Lock()
	f := d.onChange
	d.mu.Unlock()
	if f != nil {
		f()
	}
}

// NewCode makes a one-time code to pair a display with (replacing any
// showing) and says until when it works.
func (d *Displays) NewCode() (code string, expires time.Time) {
	code, expires = d.codes.New()
	d.mu.Lock()
	d.code, d.expires = code, expires
	d.mu.Unlock()
	return code, expires
}

// WithdrawCode stops the showing code working (the pane closed it).
func (d *Displays) WithdrawCode() {
	d.codes.Withdraw()
	d.mu.Lock()
	d.code = ""
	d.mu.Unlock()
}

// Code is the code to show now: "" when none works (none made, used,
// expired, or burnt by wrong tries).
func (d *Displays) Code() (code string, expires time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.code != "" && !d.now().Before(d.expires) {
		d.code = ""
	}
	return d.code, d.expires
}

func (d *Displays) onCodeEvent(e lan.CodeEvent) {
	if e.Burnt {
		d.mu.Lock()
		d.code = ""
		d.mu.Unlock()
	}
	d.log.Warn("display: wrong pairing codes", "source", e.Source.String(), "code_burnt", e.Burnt, "locked_for", e.Locked)
	d.changed()
}

// Paired lists the paired displays, oldest first, with their links.
func (d *Displays) Paired() []Status {
	links := d.connected()
	var out []Status
	for _, p := range d.store.list() {
		out = append(out, Status{Display: p, Links: links[p.ID]})
	}
	return out
}

// Needed reports whether the LAN server must run for the displays: one is
// paired, or a code is showing for one to pair.
func (d *Displays) Needed() bool {
	code, _ := d.Code()
	return code != "" || len(d.store.list()) > 0
}

// ErrUnknownDisplay: no paired display has that id.
var ErrUnknownDisplay = errors.New("no such display: it was removed already")

// Revoke unpairs display id: its token no longer works, and its open
// links are closed at once.
func (d *Displays) Revoke(id string) error {
	p, ok, err := d.store.revoke(id)
	if err != nil {
		return err
	}
	if !ok {
		return ErrUnknownDisplay
	}
	d.drop(id)
	d.log.Info("display: removed", "display", p.Name)
	d.changed()
	return nil
}

// Close ends every display's link (the kiosk is closing).
func (d *Displays) Close() { d.close() }
