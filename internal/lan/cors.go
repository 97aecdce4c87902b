package lan

import (
	"net/http"
	"strconv"
	"time"
)

// preflightMaxAge is how long a browser may reuse a preflight's answer
// (Chromium keeps it at most 2 hours).
const preflightMaxAge = 10 * time.Minute

// preflight answers a CORS preflight (an OPTIONS naming the method to come)
// and reports whether r was one. Any origin is allowed: see
// Route.CrossOrigin. Chromium versions with Private Network Access (until
// about 140) ask with Access-Control-Request-Private-Network and need the
// matching Allow header; Chromium 156 sends no such header and instead asks
// the user for Local Network Access permission before any request leaves
// (see TestChromiumCrossOriginPOSCall).
func preflight(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodOptions || r.Header.Get("Origin") == "" || r.Header.Get("Access-Control-Request-Method") == "" {
		return false
	}
	h := w.Header()
	allowOrigin(w, r)
	h.Add("Vary", "Access-Control-Request-Method")
	h.Add("Vary", "Access-Control-Request-Headers")
	h.Add("Vary", "Access-Control-Request-Private-Network")
	h.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "Content-Type, Accept")
	h.Set("Access-Control-Max-Age", strconv.Itoa(int(preflightMaxAge/time.Second)))
	if r.Header.Get("Access-Control-Request-Private-Network") == "true" {
		h.Set("Access-Control-Allow-Private-Network", "true")
	}
	w.WriteHeader(http.StatusNoContent)
	return true
}

// allowOrigin lets the page at the request's origin read the answer.
func allowOrigin(w http.ResponseWriter, r *http.Request) {
	o := r.Header.Get("Origin")
	if o == "" {
		return
	}
	w.Header().Set("Access-Control-Allow-Origin", o)
	w.Header().Add("Vary", "Origin")
}
