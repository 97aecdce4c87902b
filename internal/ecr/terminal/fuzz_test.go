package terminal

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"qrkiosk/internal/ecr/posclient"
)

// FuzzServe: whatever a POS (or anyone on the LAN) sends to any endpoint,
// the kiosk answers the protocol's JSON with one of its codes, and a
// request it refuses starts nothing. (Only a request signed with the
// POS-KEY can be accepted; the fuzzer cannot forge one, so every input it
// makes up must leave the till idle.)
func FuzzServe(f *testing.F) {
	for _, p := range []posclient.Payload{trade(12.34, "wx", tradeNo), posclient.Refund("1", "1.00"), posclient.CancelRequest()} {
		b, _ := p.Body(posKey)
		f.Add("trade", "POST", string(b[:len(b)/2])) // cut short
		j, _ := p.JSONBody(posKey)
		f.Add("cancel", "POST", string(j))
	}
	f.Add("pay", "GET", "")
	f.Add("trade", "POST", `"`+strings.Repeat("A", 9000)+`"`)
	r := newRig(f, rigOpt{quiet: true})
	codes := map[string]bool{"4003": true, "4004": true, "4005": true, "4006": true, "5001": true, "6002": true}
	f.Fuzz(func(t *testing.T, endpoint, method, body string) {
		if method != "POST" {
			method = "GET"
		}
		req := httptest.NewRequest(method, "/api/pos/x", strings.NewReader(body))
		req.SetPathValue("endpoint", endpoint)
		w := httptest.NewRecorder()
		r.term.ServeHTTP(w, req)
		var a struct{ Respcd, Resperr string }
		if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &a) != nil || !codes[a.Respcd] || a.Resperr == "" {
			t.Fatalf("%s %s %q: %d %s", method, endpoint, body, w.Code, w.Body.Bytes())
		}
		if strings.Contains(w.Body.String(), posKey) {
			t.Fatalf("the answer shows the POS-KEY: %s", w.Body.Bytes())
		}
		if _, live := r.k.Till.Live(); live {
			t.Fatalf("%q started a sale", body)
		}
	})
}
