package qfpaysim

import (
	"bytes"
	"errors"
	"html/template"
	"net/http"
	"strings"

	"qrkiosk/payment"
)

type customerAction int

const (
	actionPay customerAction = iota
	actionDecline
	actionExpire
)

// pageView is what the customer page shows.
type pageView struct {
	SysSN, OutTradeNo                string
	Amount                           string
	WalletEn, WalletZh               string
	GoodsName                        string
	State, StateZh                   string
	Live                             bool
	Message                          string
	Failed                           bool
	PayPath, DeclinePath, ExpirePath string
	// CPM: the customer's code (masked) and its wallet; the page then
	// plays the customer confirming on the phone.
	CPM                  bool
	Code, CodeWallet     string
	PayLabel, PayLabelZh string
	ExpireLabel          string
}

// The page works from /sim/pay/X, /sim/confirm/X, /sim/decline/X and
// /sim/expire/X alike, and under a path prefix: its form actions are
// relative. For a CPM order (no QR: the cashier scanned the customer's
// code) it plays the customer confirming on the phone.
var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>QFPay simulator · {{.Amount}}</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;padding:1.2rem;background:#f2f4f7;color:#101828;text-align:center;font-size:1.3rem}
main{max-width:28rem;margin:0 auto}
.merchant{color:#475467;margin:.2rem 0}
.amount{font-size:3rem;font-weight:700;margin:.6rem 0}
.wallet{font-size:1.5rem;margin:.4rem 0}
.state{font-size:1.6rem;font-weight:700;margin:1rem 0}
.msg{background:#fff;border-radius:.6rem;padding:.8rem;margin:.8rem 0}
.msg.bad{border:2px solid #b42318}
form{margin:0}
button{display:block;width:100%;font-size:1.8rem;font-weight:700;padding:1.1rem;margin:.8rem 0;border:0;border-radius:.8rem;color:#fff}
button:disabled{opacity:.35}
.pay{background:#067647}.decline{background:#b42318}
.expire{background:#667085;font-size:1.1rem;padding:.6rem}
.ref{color:#667085;font-size:.9rem;word-break:break-all}
</style>
</head>
<body>
<main>
<p class="merchant">QFPay simulator</p>
<p class="amount">{{.Amount}}</p>
<p class="wallet">{{.WalletEn}} · {{.WalletZh}}</p>
{{if .CPM}}<p class="ref">{{.CodeWallet}} payment code {{.Code}}</p>{{end}}
{{if .GoodsName}}<p>{{.GoodsName}}</p>{{end}}
<p class="state">{{.State}} · {{.StateZh}}</p>
{{if .Message}}<p class="msg{{if .Failed}} bad{{end}}">{{.Message}}</p>{{end}}
<form method="post" action="{{.PayPath}}"><button class="pay" type="submit"{{if not .Live}} disabled{{end}}>{{.PayLabel}} · {{.PayLabelZh}}</button></form>
<form method="post" action="{{.DeclinePath}}"><button class="decline" type="submit"{{if not .Live}} disabled{{end}}>Decline · 拒絕</button></form>
<form method="post" action="{{.ExpirePath}}"><button class="expire" type="submit"{{if not .Live}} disabled{{end}}>{{.ExpireLabel}}</button></form>
<p class="ref">out_trade_no {{.OutTradeNo}}<br>syssn {{.SysSN}}</p>
</main>
</body>
</html>
`))

// stateTexts names an order's state for the customer, in English and
// Traditional Chinese.
func stateTexts(t *txn) (string, string) {
	switch t.state {
	case statePaid:
		if t.refunded > 0 {
			return "Paid, " + payment.Amount{Minor: t.refunded, Currency: t.currency}.Display() + " refunded", "已付款（已退款）"
		}
		return "Paid", "已付款"
	case stateDeclined:
		return "Declined (" + string(t.declineCode) + ")", "付款失敗"
	case stateClosed:
		return "Cancelled by the shop", "商戶已取消"
	case stateReversed:
		return "Paid, then reversed by the shop (refunded)", "已付款，商戶已撤銷並退款"
	case stateExpired:
		return "Expired", "已過期"
	}
	if t.isCPM() {
		return "Confirming on the phone", "手機確認中"
	}
	return "Waiting for payment", "等待付款"
}

// view builds the page for t. Caller holds s.mu.
func view(t *txn) pageView {
	en, zh := stateTexts(t)
	v := pageView{
		SysSN:       t.sysSN,
		OutTradeNo:  t.outTradeNo,
		Amount:      t.amount().Display(),
		WalletEn:    t.payType.Name.En,
		WalletZh:    t.payType.Name.ZhHant,
		GoodsName:   t.goodsName,
		State:       en,
		StateZh:     zh,
		Live:        t.state == stateLive,
		PayPath:     "../pay/" + t.sysSN,
		DeclinePath: "../decline/" + t.sysSN,
		ExpirePath:  "../expire/" + t.sysSN,
		PayLabel:    "Pay",
		PayLabelZh:  "付款",
		ExpireLabel: "Let the QR expire now",
	}
	if t.isCPM() {
		v.CPM, v.Code, v.CodeWallet = true, maskCode(t.authCode), t.wallet.String()
		v.PayPath = "../confirm/" + t.sysSN
		v.PayLabel, v.PayLabelZh = "Confirm", "確認付款"
		v.ExpireLabel = "Let the order time out now"
	}
	return v
}

// customerResult is the JSON answer of the customer endpoints.
type customerResult struct {
	SysSN  string       `json:"syssn"`
	Respcd payment.Code `json:"respcd"`
	State  string       `json:"state"`
	Error  string       `json:"error,omitempty"`
}

func wantsJSON(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "application/json")
}

func (s *Sim) handlePage(w http.ResponseWriter, r *http.Request) {
	s.respondCustomer(w, r, r.PathValue("syssn"), http.StatusOK, "")
}

func (s *Sim) handleCustomer(act customerAction) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		syssn := r.PathValue("syssn")
		var err error
		msg := ""
		switch act {
		case actionPay:
			err, msg = s.Pay(syssn), "Payment done. 付款完成。"
		case actionDecline:
			err, msg = s.Decline(syssn, payment.Code(r.FormValue("respcd"))), "Payment declined. 付款已拒絕。"
		case actionExpire:
			err, msg = s.Expire(syssn), "The QR code has expired. 二維碼已過期。"
		}
		status := http.StatusOK
		switch {
		case errors.Is(err, ErrUnknownOrder):
			status = http.StatusNotFound
		case errors.Is(err, ErrNotPayable):
			status, msg = http.StatusConflict, "Nothing done: this order is no longer waiting for payment."
		case errors.Is(err, ErrBadCode):
			status, msg = http.StatusBadRequest, "Nothing done: respcd must be a failure code of QFPay's table."
		}
		s.respondCustomer(w, r, syssn, status, msg)
	}
}

// respondCustomer answers with the order's page (or JSON when asked) and
// the given status and message.
func (s *Sim) respondCustomer(w http.ResponseWriter, r *http.Request, syssn string, status int, msg string) {
	s.mu.Lock()
	t := s.bySysSN[syssn]
	if t == nil || t.kind != kindPayment {
		s.mu.Unlock()
		if wantsJSON(r) {
			writeJSON(w, http.StatusNotFound, customerResult{SysSN: syssn, Error: "no such order"})
			return
		}
		http.Error(w, "No such order. 找不到此訂單。", http.StatusNotFound)
		return
	}
	s.settle(t, s.tick())
	v := view(t)
	res := customerResult{SysSN: t.sysSN, Respcd: t.respcd(), State: t.outcome().String()}
	s.mu.Unlock()

	if status != http.StatusOK {
		res.Error = msg
	}
	if wantsJSON(r) {
		writeJSON(w, status, res)
		return
	}
	v.Message, v.Failed = msg, status != http.StatusOK
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, v); err != nil {
		http.Error(w, "page failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

func (s *Sim) handleOrders(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.Orders())
}
