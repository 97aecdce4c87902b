package relay

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/skip2/go-qrcode"

	"qrkiosk/payment"
	"qrkiosk/relay/store"
	"qrkiosk/relay/wire"
)

//go:embed receipt.html
var receiptHTML string

var receiptPage = template.Must(template.New("receipt").Parse(receiptHTML))

// Labels of the receipt page: what the paper slip says, in English,
// Traditional and Simplified Chinese.
var (
	lblReceipt    = wire.Names{En: "Receipt", ZhHant: "收據", ZhHans: "收据"}
	lblRefundSlip = wire.Names{En: "Refund receipt", ZhHant: "退款收據", ZhHans: "退款收据"}
	lblAmount     = wire.Names{En: "Amount", ZhHant: "金額", ZhHans: "金额"}
	lblRefundAmt  = wire.Names{En: "Refund amount", ZhHant: "退款金額", ZhHans: "退款金额"}
	lblRefunded   = wire.Names{En: "Refunded", ZhHant: "已退款", ZhHans: "已退款"}
	lblDate       = wire.Names{En: "Date", ZhHant: "日期", ZhHans: "日期"}
	lblPaidWith   = wire.Names{En: "Paid with", ZhHant: "付款方式", ZhHans: "付款方式"}
	lblRefundedTo = wire.Names{En: "Refunded to", ZhHant: "退回至", ZhHans: "退回至"}
	lblTxn        = wire.Names{En: "Transaction no.", ZhHant: "交易編號", ZhHans: "交易编号"}
	lblOrder      = wire.Names{En: "Order no.", ZhHant: "訂單編號", ZhHans: "订单编号"}
	lblPOS        = wire.Names{En: "POS ref.", ZhHant: "收銀機單號", ZhHans: "收银机单号"}
	lblRefundNo   = wire.Names{En: "Refund no.", ZhHant: "退款編號", ZhHans: "退款编号"}
	lblOrigTxn    = wire.Names{En: "Original transaction", ZhHant: "原交易編號", ZhHans: "原交易编号"}
	lblShow       = wire.Names{En: "Show this page for a refund", ZhHant: "退款時請出示此頁", ZhHans: "退款时请出示此页"}
	lblThanks     = wire.Names{En: "Thank you", ZhHant: "多謝惠顧", ZhHans: "谢谢惠顾"}
	lblNotFound   = wire.Names{En: "Receipt not found", ZhHant: "找不到收據", ZhHans: "找不到收据"}
	lblGone       = wire.Names{En: "The link is wrong, or the receipt was kept its days and is gone. Ask the shop for a copy.",
		ZhHant: "連結有誤，或收據已過保存期限。請向商店索取副本。", ZhHans: "链接有误，或收据已过保存期限。请向商店索取副本。"}
	statusNames = map[string]wire.Names{
		wire.ReceiptPaid:           {En: "PAID", ZhHant: "已付款", ZhHans: "已付款"},
		wire.ReceiptRefunded:       {En: "REFUNDED", ZhHant: "已退款", ZhHans: "已退款"},
		wire.ReceiptPartlyRefunded: {En: "PARTLY REFUNDED", ZhHant: "部分退款", ZhHans: "部分退款"},
		"":                         {En: "REFUND", ZhHant: "退款", ZhHans: "退款"},
	}
)

// pageField is one line of the page: its label and value (a wallet's name
// is trilingual too).
type pageField struct {
	Label wire.Names
	Value wire.Names
}

// pageData is what receipt.html shows.
type pageData struct {
	Found    bool
	Title    wire.Names
	Merchant string
	Heading  wire.Names
	AmountOf wire.Names
	Amount   string
	// AmountSize fits the amount on one line of the narrowest phone.
	AmountSize template.CSS
	Status     wire.Names
	Refunded   bool // a sale's status is not plain PAID
	Fields     []pageField
	QR         template.HTML // an inline SVG of the sale's syssn
	Show       wire.Names
	Thanks     wire.Names
	Gone       wire.Names
}

// handleReceiptPage serves a customer's e-receipt. A page that is not
// there (a wrong id, one never made, one past its days) is the same 404,
// never cached; a source that keeps missing is answered 429, so no one
// walks through ids at our cost (and 128 random bits leave nothing to
// find). A receipt carries no personal data, but its link is its only
// key: no referrer leaves the page, and no search engine keeps it.
func (s *Server) handleReceiptPage(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Robots-Tag", "noindex, nofollow, noarchive")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	src := s.sourceAddr(r)
	if limited, wait := s.misses.limited(src, time.Now()); limited {
		h.Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
		h.Set("Cache-Control", "no-store")
		http.Error(w, "too many receipts not found from this address: retry later", http.StatusTooManyRequests)
		return
	}
	id := r.PathValue("id")
	miss := func() {
		s.misses.refused(src, time.Now())
		s.receiptLog.warn(s.log, "receipt page not found", "remote", src.String())
		h.Set("Cache-Control", "no-store")
		s.renderPage(w, http.StatusNotFound, pageData{Title: lblNotFound, Heading: lblNotFound, Gone: lblGone})
	}
	if s.cfg.ReceiptRetain < 0 || !validReceiptID(id) {
		miss()
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.WriteTimeout)
	defer cancel()
	rec, err := s.st.Receipt(ctx, id)
	switch {
	case errors.Is(err, store.ErrReceiptNotFound):
		miss()
		return
	case err != nil:
		s.log.Error("receipt page", "err", err)
		h.Set("Cache-Control", "no-store")
		http.Error(w, "receipts are unavailable for a moment: retry", http.StatusServiceUnavailable)
		return
	case time.Since(rec.CreatedAt) > s.cfg.ReceiptRetain:
		miss()
		return
	}
	var receipt wire.Receipt
	if err := json.Unmarshal(rec.Data, &receipt); err != nil || receipt.Check() != nil {
		s.log.Error("receipt page: a stored receipt does not read", "id_prefix", id[:4], "err", err)
		miss()
		return
	}
	data, err := pageOf(receipt)
	if err != nil {
		s.log.Error("receipt page", "err", err)
		miss()
		return
	}
	// A receipt does not change once made: a phone may keep it a while,
	// no shared cache may.
	h.Set("Cache-Control", "private, max-age=3600")
	s.renderPage(w, http.StatusOK, data)
}

func (s *Server) renderPage(w http.ResponseWriter, status int, d pageData) {
	var b bytes.Buffer
	if err := receiptPage.Execute(&b, d); err != nil {
		s.log.Error("receipt page", "err", err)
		http.Error(w, "receipt page failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

// pageOf lays a receipt out as its paper slip is.
func pageOf(r wire.Receipt) (pageData, error) {
	cur, err := payment.LookupCurrency(r.Currency)
	if err != nil {
		return pageData{}, err
	}
	amount := payment.Amount{Minor: r.Amount, Currency: cur}.Display()
	d := pageData{Found: true, Merchant: r.Merchant, Title: lblReceipt, Heading: lblReceipt, AmountOf: lblAmount,
		Amount: amount, AmountSize: amountSize(amount), Status: statusNames[r.Status],
		Refunded: r.Status != wire.ReceiptPaid, Show: lblShow, Thanks: lblThanks}
	one := func(s string) wire.Names { return wire.Names{En: s} }
	add := func(label wire.Names, value wire.Names) { d.Fields = append(d.Fields, pageField{label, value}) }
	if r.Refunded > 0 {
		add(lblRefunded, one(payment.Amount{Minor: r.Refunded, Currency: cur}.Display()))
	}
	add(lblDate, one(r.Time.Format("2006-01-02 15:04:05")))
	saleSysSN := r.SysSN
	if r.Kind == wire.ReceiptRefund {
		d.Title, d.Heading, d.AmountOf = lblRefundSlip, lblRefundSlip, lblRefundAmt
		add(lblRefundedTo, r.Wallet)
		add(lblRefundNo, one(r.SysSN))
		add(lblOrigTxn, one(r.OrigSysSN))
		saleSysSN = r.OrigSysSN
	} else {
		add(lblPaidWith, r.Wallet)
		add(lblTxn, one(r.SysSN))
	}
	add(lblOrder, one(r.OutTradeNo))
	if r.POSRef != "" {
		add(lblPOS, one(r.POSRef))
	}
	qr, err := qrSVG(saleSysSN)
	if err != nil {
		return pageData{}, err
	}
	d.QR = qr
	return d, nil
}

// amountSize is the amount's font size: its largest, or what fits its
// characters (a bold digit is about 0.7 em wide in phones' fonts) in the slip's width on a
// phone (the page's margins take 4.6 rem).
func amountSize(amount string) template.CSS {
	n := 0.72 * float64(utf8.RuneCountInString(amount))
	return template.CSS(fmt.Sprintf("font-size:min(2.6rem,calc((min(100vw,26rem) - 4.6rem) / %.2f))", n)) // our numbers only
}

// qrSVG draws text as a QR code in SVG, one unit a module: sharp at any
// size, on screen and on paper, and no image request.
func qrSVG(text string) (template.HTML, error) {
	q, err := qrcode.New(text, qrcode.Medium)
	if err != nil {
		return "", err
	}
	bits := q.Bitmap() // with its quiet zone
	n := len(bits)
	var path strings.Builder
	for y, row := range bits {
		for x := 0; x < n; x++ {
			if !row[x] {
				continue
			}
			run := 1
			for x+run < n && row[x+run] {
				run++
			}
			fmt.Fprintf(&path, "M%d %dh%dv1h-%dz", x, y, run, run)
			x += run - 1
		}
	}
	svg := fmt.Sprintf(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" shape-rendering="crispEdges" role="img" aria-label="QR"><rect width="%d" height="%d" fill="#fff"/><path d="%s" fill="#000"/></svg>`,
		n, n, n, n, path.String())
	return template.HTML(svg), nil // our own numbers only: nothing of the receipt's text is in it
}
