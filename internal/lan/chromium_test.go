package lan

import (
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"qrkiosk/internal/chromiumtest"
)

// posCall is the request Odoo's pos_qfpay page makes (qfpay.js): a JSON
// string body with JSON headers, hence a CORS preflight.
const posCall = `fetch("https://%s/api/pos/trade", {method: "POST", headers: {Accept: "application/json", "Content-Type": "application/json"}, body: JSON.stringify(%q)}).then(r => r.json())`

// The ECR route answers a POS page from another origin in a real Chromium
// (Debian's, 156 when written). What that Chromium does, seen here: it
// sends no Private Network Access preflight (no
// Access-Control-Request-Private-Network); a page from a public origin
// reaching a local-network address needs the user's Local Network Access
// permission ("localNetwork" in DevTools; "loopbackNetwork" for a loopback
// address) before anything is sent; then a plain CORS preflight, which the
// route must answer.
func TestChromiumCrossOriginPOSCall(t *testing.T) {
	certs := ensure(t, t.TempDir(), time.Now(), Hosts{Name: "kiosk-1"})
	trade := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var payload string
		if err := json.NewDecoder(r.Body).Decode(&payload); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{"respcd": "6000", "payload": payload})
	})
	kiosk := serveWith(t, certs, Config{}, func(s *Server) {
		s.Handle("POST /api/pos/{endpoint}", trade, Route{CrossOrigin: true})
	})
	noCORS := serveWith(t, certs, Config{}, func(s *Server) {
		s.Handle("POST /api/pos/{endpoint}", trade, Route{})
	})
	pos := servePOSPage(t, certs)
	host := func(ts *testServer) string { return strings.TrimPrefix(ts.URL, "https://") }

	b := chromiumtest.Start(t, chromiumtest.Options{
		TrustCAs:    []string{certs.CAPath},
		PublicAddrs: []string{strings.TrimPrefix(pos, "https://")},
		LocalAddrs:  []string{host(kiosk), host(noCORS)},
	})
	t.Logf("browser %s", b.Version())
	p := b.NewPage()
	if err := p.Navigate(pos + "/pos/ui"); err != nil {
		t.Fatal(err)
	}
	payload := "aGVsbG8gZnJvbSB0aGUgUE9T" // base64 of the encrypted request, as far as the route cares
	call := func(ts *testServer) (map[string]string, error) {
		var answer map[string]string
		err := p.Eval(fmt.Sprintf(posCall, host(ts), payload), &answer)
		return answer, err
	}
	lastFailure := func() chromiumtest.NetworkFailure {
		f := p.NetworkFailures()
		if len(f) == 0 {
			t.Fatal("no failed request recorded")
		}
		return f[len(f)-1]
	}

	// Until the cashier allows the POS site to reach the local network
	// nothing leaves the browser, whatever the kiosk would answer.
	if _, err := call(kiosk); err == nil {
		t.Fatal("the call succeeded without Local Network Access permission")
	}
	if f := lastFailure(); f.CORSError != "LocalNetworkAccessPermissionDenied" {
		t.Errorf("refused for %+v, want LocalNetworkAccessPermissionDenied", f)
	}
	if n := len(kiosk.Log.records("lan: request")); n != 0 {
		t.Errorf("%d requests reached the kiosk before the permission", n)
	}

	if err := b.GrantPermissions(pos, "localNetwork"); err != nil {
		t.Fatal(err)
	}
	answer, err := call(kiosk)
	if err != nil {
		t.Fatalf("the POS call failed: %v\nconsole: %q\nfailures: %+v", err, p.Console(), p.NetworkFailures())
	}
	if answer["respcd"] != "6000" || answer["payload"] != payload {
		t.Errorf("answer %v", answer)
	}
	reqs := kiosk.Log.records("lan: request")
	if len(reqs) != 2 || reqs[0]["method"] != "OPTIONS" || reqs[1]["method"] != "POST" {
		t.Fatalf("the kiosk saw %v, want a preflight then the call", reqs)
	}
	pre := reqs[0]
	t.Logf("Chromium's preflight: %v", pre)
	if pre["Origin"] != pos || pre["Access-Control-Request-Method"] != "POST" || pre["Access-Control-Request-Headers"] != "content-type" {
		t.Errorf("preflight %v", pre)
	}
	if v, asked := pre["Access-Control-Request-Private-Network"]; asked {
		t.Logf("this Chromium asks Private Network Access too (%v)", v)
	}

	// The same call to a route that gives no CORS answers fails: the
	// kiosk's answers are what lets the POS page through.
	if _, err := call(noCORS); err == nil {
		t.Fatal("the call succeeded without CORS answers")
	}
	if f := lastFailure(); !slices.Contains([]string{"PreflightMissingAllowOriginHeader", "PreflightInvalidStatus"}, f.CORSError) {
		t.Errorf("refused for %+v, want a failed preflight", f)
	}
	if reqs := noCORS.Log.records("lan: request"); len(reqs) != 1 || reqs[0]["method"] != "OPTIONS" {
		t.Errorf("the server without CORS saw %v, want the preflight alone", reqs)
	}
}

// servePOSPage serves a page standing for Odoo's POS, over HTTPS from its
// own origin, and returns that origin.
func servePOSPage(t *testing.T, certs *Certs) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{
		TLSConfig: certs.TLSConfig(),
		ErrorLog:  log.New(io.Discard, "", 0), // the browser's dropped connections
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, "<!doctype html><title>Point of Sale</title>")
		}),
	}
	go srv.ServeTLS(ln, "", "")
	t.Cleanup(func() { srv.Close() })
	return "https://" + ln.Addr().String()
}
