package posclient

import (
	"context"
	"crypto/x509"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// stub is a terminal that checks the request is the one Odoo's page makes
// and answers with answer.
func stub(t *testing.T, wantBody []byte, answer string) *Client {
	t.Helper()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		switch {
		case r.Method != http.MethodPost || r.URL.Path != "/api/pos/trade":
			t.Errorf("%s %s; want POST /api/pos/trade", r.Method, r.URL.Path)
		case r.Header.Get("Content-Type") != "application/json" || r.Header.Get("Accept") != "application/json":
			t.Errorf("headers %v", r.Header)
		case string(body) != string(wantBody):
			t.Errorf("body %s; want %s", body, wantBody)
		}
		_, _ = io.WriteString(w, answer)
	}))
	t.Cleanup(srv.Close)
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	return New(strings.TrimPrefix(srv.URL, "https://"), key, pool)
}

const key = "0123456789abcdef0123456789ABCDEF"

func TestSend(t *testing.T) {
	p := Trade(Number(12.34), "wx", "u--1--2")
	body, err := p.Body(key)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(body), `"`) || !strings.HasSuffix(string(body), `"`) {
		t.Fatalf("body %s is not a JSON string", body)
	}
	for _, c := range []struct {
		name, answer       string
		ok, cancelled, bad bool
		message            string
	}{
		{name: "accepted", answer: `{"respcd":"6000","respmsg":"","resperr":"","data":"{\"syssn\":\"1\"}"}`, ok: true},
		{name: "cancelled", answer: `{"respcd":"6001","respmsg":"Request cancelled","resperr":""}`, cancelled: true},
		{name: "refused", answer: `{"respcd":"4006","respmsg":"Incorrect parameters","resperr":""}`, message: "Error Code: 4006\nError Message: Incorrect parameters"},
		{name: "refused in silence", answer: `{"respcd":"4005"}`, message: "Error Code: 4005\nError Message: Unknown error occurred"},
		{name: "data as an object", answer: `{"respcd":"6000","data":{"syssn":"1"}}`, bad: true},
		{name: "not JSON", answer: `<html>busy</html>`, bad: true},
		{name: "no respcd", answer: `{}`, bad: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			a, err := stub(t, body, c.answer).Send(context.Background(), "trade", p)
			if c.bad {
				if err == nil {
					t.Fatalf("answer %s taken as %+v", c.answer, a)
				}
				return
			}
			if err != nil || a.OK() != c.ok || a.Cancelled() != c.cancelled || (c.message != "" && a.Message() != c.message) || a.Status != 200 {
				t.Fatalf("answer %+v (%q), %v", a, a.Message(), err)
			}
		})
	}
}

func TestNewAddsThePort(t *testing.T) {
	if u := New("192.168.1.20", key, nil).URL("trade"); u != "https://192.168.1.20:9001/api/pos/trade" {
		t.Fatalf("URL %s", u)
	}
	if u := New("[fe80::1]:8443", key, nil).URL("cancel"); u != "https://[fe80::1]:8443/api/pos/cancel" {
		t.Fatalf("URL %s", u)
	}
}

// TestUntrustedTerminal: a terminal whose certificate the POS has not
// imported is not talked to.
func TestUntrustedTerminal(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("the request reached an untrusted terminal")
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake
	defer srv.Close()
	c := New(strings.TrimPrefix(srv.URL, "https://"), key, x509.NewCertPool())
	if _, err := c.Send(context.Background(), "trade", CancelRequest()); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("err %v", err)
	}
}
