package setup

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"html/template"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"qrkiosk/internal/config"
	"qrkiosk/internal/lan"
	"qrkiosk/internal/probe"
)

//go:embed assets
var assets embed.FS

var unlockPage = template.Must(template.ParseFS(assets, "assets/unlock.html"))

// Mount registers the page's routes on the LAN server. Unlocking is
// slow by design (a few tries a minute per device on top of the code's
// own five); a logo may be 2 MiB, everything else is small.
func (s *Server) Mount(m Mounter) {
	page := lan.Route{Page: true, MaxBody: 4 << 10, Rate: 2, Burst: 10}
	m.Handle("GET /setup/{$}", http.HandlerFunc(s.handlePage), page)
	m.Handle("POST /setup/unlock", http.HandlerFunc(s.handleUnlock), lan.Route{Page: true, MaxBody: 1 << 10, Rate: 0.2, Burst: 5})
	m.Handle("GET /setup/setup.css", http.HandlerFunc(s.handleAsset), page)
	m.Handle("GET /setup/setup.js", http.HandlerFunc(s.handleAsset), page)
	api := lan.Route{MaxBody: 32 << 10, Rate: 3, Burst: 20}
	m.Handle("GET /setup/api/settings", s.api(s.handleSettings), api)
	m.Handle("POST /setup/api/test", s.api(s.handleTest), lan.Route{MaxBody: 32 << 10, Rate: 0.5, Burst: 10})
	m.Handle("POST /setup/api/logo", s.api(s.handleLogo), lan.Route{MaxBody: maxLogoBytes, Rate: 1, Burst: 10})
	m.Handle("POST /setup/api/save", s.api(s.handleSave), api)
	m.Handle("POST /setup/api/end", s.api(s.handleEnd), api)
}

// notFound is every answer while the page is off: nothing tells a
// scanner there is a page to unlock.
func notFound(w http.ResponseWriter) { http.Error(w, "404 page not found", http.StatusNotFound) }

// handlePage is the settings page for the unlocked phone, else the form
// that asks for the code.
func (s *Server) handlePage(w http.ResponseWriter, r *http.Request) {
	open, sess := s.state(r)
	switch {
	case !open:
		notFound(w)
	case sess == nil:
		s.showUnlock(w, http.StatusOK, "")
	default:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		b, _ := assets.ReadFile("assets/index.html")
		w.Write(b)
	}
}

func (s *Server) showUnlock(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	unlockPage.Execute(w, struct{ Message string }{msg})
}

// handleAsset serves the style to anyone the page is on for, and the
// script only to the unlocked phone.
func (s *Server) handleAsset(w http.ResponseWriter, r *http.Request) {
	open, sess := s.state(r)
	name := strings.TrimPrefix(r.URL.Path, "/setup/")
	if !open || (name == "setup.js" && sess == nil) {
		notFound(w)
		return
	}
	ct := "text/css; charset=utf-8"
	if strings.HasSuffix(name, ".js") {
		ct = "text/javascript; charset=utf-8"
	}
	b, _ := assets.ReadFile("assets/" + name)
	w.Header().Set("Content-Type", ct)
	w.Write(b)
}

// handleUnlock checks the typed code: right, the phone gets the session
// cookie (HttpOnly, Secure, SameSite=Strict, ending with the code's
// lifetime); wrong, the form again with the tries left or the lock-out.
func (s *Server) handleUnlock(w http.ResponseWriter, r *http.Request) {
	open, _ := s.state(r)
	if !open {
		notFound(w)
		return
	}
	if !sameOrigin(r) {
		http.Error(w, "forbidden: not from this page", http.StatusForbidden)
		return
	}
	src := sourceAddr(r)
	err := s.codes.Check(src, r.PostFormValue("code"))
	if err != nil {
		s.o.Log.Warn("setup: wrong code", "source", src, "err", err)
		s.showUnlock(w, http.StatusForbidden, codeMessage(err))
		return
	}
	value, until := s.unlock(src)
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: value, Path: "/", Expires: until,
		MaxAge: max(int(until.Sub(s.o.Now())/time.Second), 1), Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	s.o.Log.Info("setup: unlocked", "source", src)
	s.o.OnEvent(Event{Kind: EventUnlocked, Source: src})
	http.Redirect(w, r, "/setup/", http.StatusSeeOther)
}

// codeMessage words a refused code for the phone.
func codeMessage(err error) string {
	var wrong *lan.WrongCodeError
	var locked *lan.LockedError
	switch {
	case errors.As(err, &wrong):
		if wrong.Left == 1 {
			return "Wrong code: 1 try left."
		}
		return "Wrong code: " + strconv.Itoa(wrong.Left) + " tries left."
	case errors.As(err, &locked), errors.Is(err, lan.ErrCodeBurnt), errors.Is(err, lan.ErrNoCode):
		s := err.Error()
		return strings.ToUpper(s[:1]) + s[1:] + "."
	}
	return "Type the 6 digits shown on the kiosk."
}

// sameOrigin refuses a request another site's page made: browsers send
// Sec-Fetch-Site with every request, and Origin with every POST (as
// "null" from this page, whose referrer policy is no-referrer); the
// session cookie is SameSite=Strict besides.
func sameOrigin(r *http.Request) bool {
	if o := r.Header.Get("Origin"); o != "" && o != "null" && o != "https://"+r.Host {
		return false
	}
	if f := r.Header.Get("Sec-Fetch-Site"); f != "" && f != "same-origin" {
		return false
	}
	return true
}

// apiFunc handles an API call of the unlocked phone and returns the JSON
// answer's status and body.
type apiFunc func(r *http.Request, sess *session) (int, any)

// api answers 404 while the page is off, 401 to anyone but the unlocked
// phone, 403 to another site's page, then JSON.
func (s *Server) api(h apiFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		open, sess := s.state(r)
		status, body := 0, any(nil)
		switch {
		case !open:
			notFound(w)
			return
		case sess == nil:
			status, body = http.StatusUnauthorized, errorBody("This setup page has ended or was opened on another phone: show a new code on the kiosk (Set up from a phone).")
		case !sameOrigin(r):
			status, body = http.StatusForbidden, errorBody("not from this page")
		default:
			status, body = h(r, sess)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(body)
	})
}

type errorAnswer struct {
	Error string `json:"error"`
}

func errorBody(msg string) errorAnswer { return errorAnswer{msg} }

// settingsAnswer is what the page is built from.
type settingsAnswer struct {
	Sections    []Section         `json:"sections"`
	Fields      []Field           `json:"fields"`
	Values      map[string]string `json:"values"`
	Secrets     map[string]bool   `json:"secrets"`
	Until       time.Time         `json:"until"`
	Logo        bool              `json:"logo"` // a logo is set
	Fingerprint string            `json:"fingerprint,omitempty"`
}

func (s *Server) handleSettings(r *http.Request, sess *session) (int, any) {
	f, err := config.ReadFile(s.o.Path)
	if err != nil {
		return http.StatusInternalServerError, errorBody(err.Error())
	}
	s.mu.Lock()
	until := s.until
	s.mu.Unlock()
	a := settingsAnswer{Sections: Sections(), Fields: Fields(), Values: Values(f), Secrets: SecretsSet(f), Until: until, Logo: f.Logo != ""}
	if s.o.Fingerprint != nil {
		a.Fingerprint = s.o.Fingerprint()
	}
	return http.StatusOK, a
}

// changeRequest is a Test's or a Save's body.
type changeRequest struct {
	Change
	Part  probe.Part `json:"part,omitempty"`  // Test: the part to prove
	Force bool       `json:"force,omitempty"` // Save: keep it although a test failed
}

func readChange(r *http.Request) (changeRequest, error) {
	var req changeRequest
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return req, errors.New("the body must be JSON (Content-Type: application/json)")
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return req, errors.New("the body is not a change of settings: " + err.Error())
	}
	if dec.Decode(&struct{}{}) != io.EOF {
		return req, errors.New("the body holds more than one change")
	}
	return req, nil
}

// checkAnswer is a change refused before anything was tested or written:
// each value's rule, and config check's problems (with the setting each
// is about, when it names one).
type checkAnswer struct {
	OK       bool           `json:"ok"`
	Fields   FieldErrors    `json:"fields,omitempty"`
	Problems []string       `json:"problems,omitempty"`
	Tests    []probe.Result `json:"tests,omitempty"`
	Warnings []string       `json:"warnings,omitempty"`
	Demo     bool           `json:"demo,omitempty"`
}

// candidate is the configuration the change makes of the file in force:
// the file, the checked configuration, or why it is refused.
func (s *Server) candidate(ch Change, sess *session) (config.File, config.Config, *checkAnswer) {
	f, err := config.ReadFile(s.o.Path)
	if err != nil {
		return f, config.Config{}, &checkAnswer{Problems: []string{err.Error()}}
	}
	f, err = apply(f, ch, s.o.HashPIN)
	var fe FieldErrors
	if errors.As(err, &fe) {
		return f, config.Config{}, &checkAnswer{Fields: fe}
	}
	c, _, err := config.Check(s.o.Path, f, s.o.Getenv)
	if err == nil && s.o.Check != nil {
		if err = s.o.Check(c); err != nil {
			err = config.Problems{err.Error()}
		}
	}
	var probs config.Problems
	if errors.As(err, &probs) {
		return f, c, &checkAnswer{Problems: probs, Fields: problemFields(probs)}
	}
	return f, c, nil
}

// problemFields are config check's problems by the setting each names
// ("QFPAY_APPCODE/[qfpay] appcode: …", "…/expiry_minutes …").
func problemFields(probs []string) FieldErrors {
	var out FieldErrors
	for _, p := range probs {
		for _, f := range Fields() {
			section, name, nested := strings.Cut(f.Key, ".")
			needle := "/" + f.Key
			if nested {
				needle = "[" + section + "] " + name
			}
			if strings.Contains(p, needle+" ") || strings.Contains(p, needle+":") {
				out = append(out, FieldError{f.Key, p})
				break
			}
		}
	}
	return out
}

func (s *Server) handleTest(r *http.Request, sess *session) (int, any) {
	req, err := readChange(r)
	if err != nil {
		return http.StatusBadRequest, errorBody(err.Error())
	}
	if !slices.Contains([]probe.Part{probe.PartGateway, probe.PartRelay, probe.PartPrinter}, req.Part) {
		return http.StatusBadRequest, errorBody(`part must be "gateway", "relay" or "printer"`)
	}
	f, err := config.ReadFile(s.o.Path)
	if err == nil {
		f, err = apply(f, req.Change, s.o.HashPIN)
	}
	var fe FieldErrors
	switch {
	case errors.As(err, &fe):
		return http.StatusUnprocessableEntity, checkAnswer{Fields: fe}
	case err != nil:
		return http.StatusInternalServerError, errorBody(err.Error())
	}
	ctx, cancel := context.WithTimeout(r.Context(), 40*time.Second)
	defer cancel()
	res, refused := Test(ctx, s.o.Path, f, req.Part, s.logoOf(sess), s.o.Getenv, s.o.Probe)
	if len(refused) > 0 {
		return http.StatusUnprocessableEntity, checkAnswer{Fields: refused}
	}
	s.o.Log.Info("setup: test", "part", res.Part, "ok", res.OK, "field", res.Field)
	return http.StatusOK, checkAnswer{OK: res.OK, Tests: []probe.Result{res}}
}

// sectionErrors are the errors about the section's own fields.
func sectionErrors(errs FieldErrors, section string) FieldErrors {
	var out FieldErrors
	for _, e := range errs {
		if f, ok := field(e.Key); ok && f.Section == section {
			out = append(out, e)
		}
	}
	return out
}

func (s *Server) handleSave(r *http.Request, sess *session) (int, any) {
	req, err := readChange(r)
	if err != nil {
		return http.StatusBadRequest, errorBody(err.Error())
	}
	s.mu.Lock()
	if s.saving {
		s.mu.Unlock()
		return http.StatusConflict, errorBody("a save is under way")
	}
	s.saving = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.saving = false
		s.mu.Unlock()
	}()
	old, _ := config.ReadFile(s.o.Path)
	f, c, refused := s.candidate(req.Change, sess)
	if refused != nil {
		return http.StatusUnprocessableEntity, refused
	}
	if !req.Force {
		ctx, cancel := context.WithTimeout(r.Context(), 40*time.Second)
		tests := s.saveTests(ctx, c)
		cancel()
		if slices.ContainsFunc(tests, func(t probe.Result) bool { return !t.OK }) {
			return http.StatusConflict, checkAnswer{Tests: tests}
		}
	}
	// The tests take up to 40 s: a page the kiosk closed, or whose code
	// expired, meanwhile saves nothing.
	if !s.current(sess) {
		return http.StatusForbidden, errorBody("The setup page was closed on the kiosk or its time ran out while testing: nothing was saved.")
	}
	logo := s.logoOf(sess)
	c, err = Save(s.o.Path, f, logo, s.o.Getenv)
	if err != nil {
		var probs config.Problems
		if errors.As(err, &probs) {
			return http.StatusUnprocessableEntity, checkAnswer{Problems: probs, Fields: problemFields(probs)}
		}
		s.o.Log.Error("setup: saving config.toml", "path", s.o.Path, "err", err)
		return http.StatusInternalServerError, errorBody("The settings could not be written, and the old ones stay in force: " + err.Error())
	}
	if logo != nil {
		f.Logo = logo.name
	}
	s.o.Log.Info("setup: saved", "path", s.o.Path, "changed", changedKeys(old, f), "demo", c.Demo(), "forced", req.Force)
	s.codes.Withdraw()
	s.mu.Lock()
	s.endLocked()
	s.mu.Unlock()
	s.o.OnEvent(Event{Kind: EventSaved, Config: c})
	return http.StatusOK, checkAnswer{OK: true, Warnings: c.Warnings, Demo: c.Demo()}
}

// current says whether sess is still the page's open session.
func (s *Server) current(sess *session) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.open && s.sess == sess && s.o.Now().Before(s.until)
}

// logoOf is the logo the session uploaded (nil: none), read under the
// lock it is written under.
func (s *Server) logoOf(sess *session) *Logo {
	s.mu.Lock()
	defer s.mu.Unlock()
	return sess.logo
}

// saveTests prove the parts a save sets up that can be proven without
// paper: the gateway when it has credentials, the relay when it has an
// address.
func (s *Server) saveTests(ctx context.Context, c config.Config) []probe.Result {
	var out []probe.Result
	if !c.Demo() {
		out = append(out, probe.Gateway(ctx, c, s.o.Probe))
	}
	if c.RelayURL != "" {
		out = append(out, probe.Relay(ctx, c, s.o.Probe))
	}
	return out
}

// changedKeys names the settings a save changed, never their values.
func changedKeys(old, f config.File) []string {
	var keys []string
	ov, nv := reflect.ValueOf(old), reflect.ValueOf(f)
	for _, fd := range Fields() {
		a, _ := fileField(ov, fd.Key)
		b, _ := fileField(nv, fd.Key)
		if text(a) != text(b) {
			keys = append(keys, fd.Key)
		}
	}
	if old.Logo != f.Logo {
		keys = append(keys, "logo")
	}
	return keys
}

// handleEnd: the owner leaves without saving.
func (s *Server) handleEnd(r *http.Request, sess *session) (int, any) {
	s.codes.Withdraw()
	s.mu.Lock()
	s.endLocked()
	s.mu.Unlock()
	s.o.Log.Info("setup: page off: the owner left without saving")
	s.o.OnEvent(Event{Kind: EventEnded})
	return http.StatusOK, checkAnswer{OK: true}
}
