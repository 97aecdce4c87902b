// Package simpage is the customer page the gateway simulators share.
//
// It is a phone-friendly page for one order, where a "customer" pays,
// declines or (where the gateway has expiry) lets the QR run out. Each
// simulator says what to show and which buttons; the page and its look
// are one thing.
package simpage

import (
	"bytes"
	"encoding/json"
	"html/template"
	"net/http"
	"strings"
)

// Page is one order as its customer page shows it.
type Page struct {
	Title              string // "QFPay simulator"
	Amount             string // for people: "HK$1,234.50"
	WalletEn, WalletZh string
	GoodsName          string
	State, StateZh     string
	// Live: the order can still be paid; the buttons are enabled only then.
	Live bool
	// Message is the result of the last action; Failed shows it as an error.
	Message string
	Failed  bool
	Actions []Action
	Refs    []Ref // identifiers printed small at the bottom
}

// Action is one button. Its path is relative to the page, so the page works
// under any prefix.
type Action struct {
	Label string // "Pay · 付款"
	Path  string // "../pay/ID"
	Kind  string // Pay, Decline or Minor: the button's look
}

// Button looks.
const (
	Pay     = "pay"
	Decline = "decline"
	Minor   = "minor"
)

// Ref is an identifier of the order ("out_trade_no", "syssn").
type Ref struct{ Name, Value string }

var tmpl = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} · {{.Amount}}</title>
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
.minor{background:#667085;font-size:1.1rem;padding:.6rem}
.ref{color:#667085;font-size:.9rem;word-break:break-all}
</style>
</head>
<body>
<main>
<p class="merchant">{{.Title}}</p>
<p class="amount">{{.Amount}}</p>
<p class="wallet">{{.WalletEn}} · {{.WalletZh}}</p>
{{if .GoodsName}}<p>{{.GoodsName}}</p>{{end}}
<p class="state">{{.State}} · {{.StateZh}}</p>
{{if .Message}}<p class="msg{{if .Failed}} bad{{end}}">{{.Message}}</p>{{end}}
{{range .Actions}}<form method="post" action="{{.Path}}"><button class="{{.Kind}}" type="submit"{{if not $.Live}} disabled{{end}}>{{.Label}}</button></form>
{{end}}<p class="ref">{{range $i, $r := .Refs}}{{if $i}}<br>{{end}}{{$r.Name}} {{$r.Value}}{{end}}</p>
</main>
</body>
</html>
`))

// Render writes the page with the HTTP status.
func Render(w http.ResponseWriter, status int, p Page) {
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, p); err != nil {
		http.Error(w, "page failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// WantsJSON reports a client (a test, a script) that asked for JSON
// rather than the page.
func WantsJSON(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "application/json")
}

// WriteJSON writes v as JSON with the HTTP status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "encoding failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// Respond answers a look at an order's page, or a customer's action on it:
// result as JSON when the client asked for JSON, else the page p showing
// msg, as a failure unless status is 200.
func Respond(w http.ResponseWriter, r *http.Request, status int, msg string, p Page, result any) {
	if WantsJSON(r) {
		WriteJSON(w, status, result)
		return
	}
	p.Message, p.Failed = msg, status != http.StatusOK
	Render(w, status, p)
}

// NotFound answers for an order the gateway does not know: result as JSON
// when the client asked for JSON, else a line of text.
func NotFound(w http.ResponseWriter, r *http.Request, result any) {
	if WantsJSON(r) {
		WriteJSON(w, http.StatusNotFound, result)
		return
	}
	http.Error(w, "No such order. 找不到此訂單。", http.StatusNotFound)
}
