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
