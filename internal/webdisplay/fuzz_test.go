package webdisplay

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// FuzzParsePairRequest: whatever a device posts, it is refused with the
// request's shape, or it is one object with a string code and nothing else.
func FuzzParsePairRequest(f *testing.F) {
	for _, s := range []string{`{"code": "123456"}`, `{"code": "123 456"}`, `{}`, `{"code": 1}`, `{"code": "1"} {}`, `{"code": "1", "x": 2}`, `null`, ``, `{"Code": "1"}`, `{"code": "1"}}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		code, err := parsePairRequest([]byte(body))
		if err != nil {
			if !strings.Contains(err.Error(), `{"code"`) {
				t.Errorf("%q: the error %q does not say what to send", body, err)
			}
			return
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(body), &m); err != nil || len(m) != 1 || m["code"] != code {
			t.Errorf("%q: accepted as code %q", body, code)
		}
	})
}

// FuzzTokenFrom: whatever protocols a websocket request offers, the token
// taken is the one "token." entry beside the displays' protocol, or none.
func FuzzTokenFrom(f *testing.F) {
	for _, s := range []string{"qrkiosk.display.v1, token.abc", "qrkiosk.display.v1, token.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "token.abc", "qrkiosk.display.v1", "qrkiosk.display.v1, token.a, token.b", ", ,token.", "qrkiosk.display.v1,token.x y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		r := &http.Request{Header: http.Header{"Sec-Websocket-Protocol": {header}}}
		token := tokenFrom(r)
		if token == "" {
			return
		}
		if !strings.Contains(header, protocol) || strings.Count(header, tokenPrefix+token) < 1 {
			t.Errorf("%q: token %q", header, token)
		}
		if !validToken(token) {
			t.Errorf("%q: token %q is not shaped as a token", header, token)
		}
	})
}

// FuzzDeviceName: whatever a browser calls itself, the display's name is
// one the store keeps and the pane can show, and new.
func FuzzDeviceName(f *testing.F) {
	for _, ua := range []string{"", "Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X)", "Mozilla/5.0 (Linux; Android 14; SM-X200) Mobile", "\x00\xff"} {
		f.Add(ua, "iPad")
	}
	f.Fuzz(func(t *testing.T, ua, taken string) {
		name := deviceName(ua, []string{taken, "Browser"})
		if err := checkName(name); err != nil {
			t.Errorf("%q: name %q: %v", ua, name, err)
		}
		if name == taken || name == "Browser" {
			t.Errorf("%q: name %q is taken", ua, name)
		}
	})
}
