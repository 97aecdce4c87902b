package simpage

import (
	"net/http/httptest"
	"strings"
	"testing"
)

func TestRender(t *testing.T) {
	p := Page{Title: "Gateway simulator", Amount: "HK$12.34", WalletEn: "WeChat Pay", WalletZh: "微信支付", GoodsName: "<b>Tea</b>",
		State: "Waiting for payment", StateZh: "等待付款", Live: true,
		Actions: []Action{{Label: "Pay · 付款", Path: "../pay/A1", Kind: Pay}, {Label: "Decline", Path: "../decline/A1", Kind: Decline}},
		Refs:    []Ref{{"partnerOrderNo", "QK1"}, {"orderNo", "A1"}}}
	w := httptest.NewRecorder()
	Render(w, 200, p)
	page := w.Body.String()
	for _, want := range []string{`name="viewport"`, "Gateway simulator", "HK$12.34", "微信支付", `action="../pay/A1"`, `class="decline"`, ">Pay · 付款<", "partnerOrderNo QK1<br>orderNo A1", "&lt;b&gt;Tea"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q:\n%s", want, page)
		}
	}
	if strings.Contains(page, " disabled>") || w.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("a live order's buttons are enabled and the page is never cached:\n%s", page)
	}
	p.Live = false
	w = httptest.NewRecorder()
	Render(w, 409, p)
	if w.Code != 409 || strings.Count(w.Body.String(), " disabled>") != 2 {
		t.Errorf("an order no longer live: status %d, page\n%s", w.Code, w.Body.String())
	}
}

// A customer action is answered with the page (its message shown, as a
// failure unless 200), or JSON for a client that asks for it; an unknown
// order likewise, with 404.
func TestRespond(t *testing.T) {
	p := Page{Title: "Gateway simulator", Amount: "HK$1.00", State: "Paid", Live: false}
	type result struct{ Error string }
	for _, tt := range []struct {
		accept string
		status int
		want   []string
		not    string
	}{
		{"text/html", 200, []string{"Payment done.", `class="msg"`, "text/html"}, `class="msg bad"`},
		{"text/html", 409, []string{"Payment done.", `class="msg bad"`, "text/html"}, `{"Error"`},
		{"application/json", 409, []string{`{"Error":"no longer waiting"}`, "application/json"}, "<html"},
	} {
		r := httptest.NewRequest("POST", "/sim/pay/A1", nil)
		r.Header.Set("Accept", tt.accept)
		w := httptest.NewRecorder()
		msg := "Payment done."
		Respond(w, r, tt.status, msg, p, result{Error: "no longer waiting"})
		got := w.Body.String() + w.Header().Get("Content-Type")
		for _, want := range tt.want {
			if !strings.Contains(got, want) {
				t.Errorf("%s %d: lacks %q:\n%s", tt.accept, tt.status, want, got)
			}
		}
		if w.Code != tt.status || strings.Contains(got, tt.not) {
			t.Errorf("%s %d: status %d, has %q:\n%s", tt.accept, tt.status, w.Code, tt.not, got)
		}
	}
	for accept, want := range map[string]string{"text/html": "No such order.", "application/json": `{"Error":"no such order"}`} {
		r := httptest.NewRequest("GET", "/sim/pay/NOPE", nil)
		r.Header.Set("Accept", accept)
		w := httptest.NewRecorder()
		NotFound(w, r, result{Error: "no such order"})
		if w.Code != 404 || !strings.Contains(w.Body.String(), want) {
			t.Errorf("%s: %d %q, want 404 %q", accept, w.Code, w.Body.String(), want)
		}
	}
}
