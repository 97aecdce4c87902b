package qfpaysim

import (
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"qrkiosk/payment"
	"qrkiosk/payment/qfpay"
)

// rejection is a gateway answer other than success: a respcd and, for
// parameter errors, what exactly is wrong.
type rejection struct {
	code   payment.Code
	detail string
	// resperr and respmsg, when set, are the texts the live gateway was
	// seen answering, used as they are; extra adds fields to the answer.
	resperr, respmsg string
	extra            reply
}

func (r *rejection) Error() string {
	if r.resperr != "" {
		return string(r.code) + ": " + r.resperr
	}
	if r.detail != "" {
		return string(r.code) + ": " + r.detail
	}
	return string(r.code) + ": " + qfpay.Text(r.code)
}

func reject(code payment.Code, detail string) *rejection {
	return &rejection{code: code, detail: detail}
}

// badParam is a 1104 naming the field.
func badParam(field, rule string) *rejection {
	return reject(qfpay.CodeParamError, field+": "+rule)
}

// get returns a parameter; empty means absent, as in the signature, which
// leaves empty parameters out.
func get(p url.Values, name string) string { return p.Get(name) }

func required(p url.Values, names ...string) *rejection {
	for _, n := range names {
		if get(p, n) == "" {
			return badParam(n, "is required")
		}
	}
	return nil
}

// parseTxAmt reads txamt: a positive integer of at most 11 digits.
func parseTxAmt(s string) (int64, *rejection) {
	const rule = "must be a positive integer of at most 11 digits"
	if s == "" || len(s) > 11 || s[0] == '0' {
		return 0, badParam("txamt", rule)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, badParam("txamt", rule)
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || n > payment.MaxMinor {
		return 0, badParam("txamt", rule)
	}
	return n, nil
}

func parseDtm(field, s string) (time.Time, *rejection) {
	t, err := time.ParseInLocation(payment.LocalTimeLayout, s, gatewayZone)
	if err != nil {
		return time.Time{}, badParam(field, "must be a time written YYYY-MM-DD hh:mm:ss")
	}
	return t, nil
}

func checkLen(p url.Values, field string, max int) *rejection {
	if len(get(p, field)) > max {
		return badParam(field, "must be at most "+strconv.Itoa(max)+" bytes")
	}
	return nil
}

// paymentParams is a validated /trade/v1/payment request.
type paymentParams struct {
	txAmt      int64
	currency   payment.Currency
	payType    payment.PayType
	outTradeNo string
	txDtm      string
	expiry     time.Duration // 0 = expired_time absent
	goodsName  string
	udid       string
	notifyURL  string
	cpm        *cpmPayType // nil for MPM
	authCode   string      // CPM: the customer's payment code
}

func parsePaymentParams(p url.Values) (paymentParams, *rejection) {
	var pp paymentParams
	if r := required(p, "txamt", "txcurrcd", "pay_type", "out_trade_no", "txdtm"); r != nil {
		return pp, r
	}
	var r *rejection
	if pp.txAmt, r = parseTxAmt(get(p, "txamt")); r != nil {
		return pp, r
	}
	cur, err := payment.LookupCurrency(get(p, "txcurrcd"))
	if err != nil || cur.Code != get(p, "txcurrcd") {
		// Exact codes only: the "RMB" alias and lower case are the client's
		// business, the wire carries CNY.
		return pp, badParam("txcurrcd", "must be one of "+strings.Join(payment.CurrencyCodes(), ", "))
	}
	pp.currency = cur
	code := get(p, "pay_type")
	if c, ok := cpmPayTypes[code]; ok {
		pp.payType, pp.cpm = c.PayType, &c
	} else if pt, err := payment.LookupPayType(code); err == nil && pt.Code == code && pt.Mode == payment.MPM {
		pp.payType = pt
	} else {
		return pp, badParam("pay_type", "must be one of the MPM pay types "+mpmCodes()+" or the CPM pay types "+cpmCodes())
	}
	// auth_code is the scanned customer code: CPM only, and required there.
	// Its format is the wallet's business (1202), not a parameter error.
	pp.authCode = get(p, "auth_code")
	switch {
	case pp.cpm != nil && pp.authCode == "":
		return pp, badParam("auth_code", "is required for the CPM pay type "+code+" (the customer's payment code, as scanned)")
	case pp.cpm == nil && pp.authCode != "":
		return pp, badParam("auth_code", "is only for CPM pay types ("+cpmCodes()+"); "+code+" is an MPM pay type: leave it out")
	case pp.cpm != nil && get(p, "expired_time") != "":
		return pp, badParam("expired_time", "is for MPM QR codes only; a CPM payment has none: leave it out")
	}
	pp.outTradeNo = get(p, "out_trade_no")
	if r := checkLen(p, "out_trade_no", 128); r != nil {
		return pp, r
	}
	pp.txDtm = get(p, "txdtm")
	if _, r := parseDtm("txdtm", pp.txDtm); r != nil {
		return pp, r
	}
	if s := get(p, "expired_time"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < payment.MinExpiryMinutes || n > payment.MaxExpiryMinutes || strings.TrimLeft(s, "0123456789") != "" {
			return pp, badParam("expired_time", "must be a whole number of minutes from 5 to 120")
		}
		pp.expiry = time.Duration(n) * time.Minute
	}
	pp.goodsName = get(p, "goods_name")
	if r := checkGoodsName(pp.goodsName); r != nil {
		return pp, r
	}
	pp.udid = get(p, "udid")
	if r := checkLen(p, "udid", 40); r != nil {
		return pp, r
	}
	if s := get(p, "txzone"); s != "" && !validZone(s) {
		return pp, badParam("txzone", "must be a UTC offset written +hhmm or -hhmm, such as +0800")
	}
	pp.notifyURL = get(p, "notify_url")
	if pp.notifyURL != "" {
		if r := checkLen(p, "notify_url", 256); r != nil {
			return pp, r
		}
		u, err := url.Parse(pp.notifyURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return pp, badParam("notify_url", "must be an absolute http or https URL")
		}
	}
	if s := get(p, "limit_pay"); s != "" && s != "no_credit" {
		return pp, badParam("limit_pay", "must be no_credit when given")
	}
	if s := get(p, "pay_tag"); s != "" && s != "ALIPAYHK" && s != "ALIPAYCN" {
		return pp, badParam("pay_tag", "must be ALIPAYHK or ALIPAYCN when given")
	}
	return pp, nil
}

func mpmCodes() string {
	var codes []string
	for _, p := range payment.MPMPayTypes() {
		codes = append(codes, p.Code)
	}
	return strings.Join(codes, ", ")
}

// checkGoodsName applies QFPay's rule: at most 20 characters, no special
// characters (letters, digits and spaces; Chinese is fine).
func checkGoodsName(s string) *rejection {
	if !utf8.ValidString(s) {
		return badParam("goods_name", "must be UTF-8 text")
	}
	if utf8.RuneCountInString(s) > 20 {
		return badParam("goods_name", "must be at most 20 characters")
	}
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != ' ' {
			return badParam("goods_name", "must contain only letters, digits and spaces (no special characters)")
		}
	}
	return nil
}

func validZone(s string) bool {
	if len(s) != 5 || (s[0] != '+' && s[0] != '-') {
		return false
	}
	for i := 1; i < 5; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s[1:3] <= "14" && s[3:5] <= "59"
}

// list splits a comma-separated parameter into a set; nil when absent.
func list(p url.Values, name string) map[string]bool {
	s := get(p, name)
	if s == "" {
		return nil
	}
	set := map[string]bool{}
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			set[v] = true
		}
	}
	return set
}

// queryParams is a validated /trade/v1/query request.
type queryParams struct {
	sysSNs, outTradeNos, payTypes map[string]bool // nil = any
	respcd                        string
	windowed                      bool      // false when syssn is given
	start, end                    time.Time // the sysdtm window, both ends included
	page, pageSize                int
}

const maxPageSize = 100

// parseQueryParams reads a query. The gateway keeps its records by month
// and matches the window on sysdtm (its own clock, UTC+8): start_time
// defaults to the start of the current month and end_time to its end, the
// window must lie within one calendar month, and only syssn lifts it (a
// query by out_trade_no alone does not see last month's order).
func parseQueryParams(p url.Values, now time.Time) (queryParams, *rejection) {
	q := queryParams{
		sysSNs:      list(p, "syssn"),
		outTradeNos: list(p, "out_trade_no"),
		payTypes:    list(p, "pay_type"),
		respcd:      get(p, "respcd"),
		page:        1,
		pageSize:    10,
	}
	if q.sysSNs == nil {
		now = now.In(gatewayZone)
		q.windowed = true
		q.start = time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, gatewayZone)
		q.end = q.start.AddDate(0, 1, 0).Add(-time.Second)
		var r *rejection
		if s := get(p, "start_time"); s != "" {
			if q.start, r = parseDtm("start_time", s); r != nil {
				return q, r
			}
		}
		if s := get(p, "end_time"); s != "" {
			if q.end, r = parseDtm("end_time", s); r != nil {
				return q, r
			}
		}
		if q.start.Year() != q.end.Year() || q.start.Month() != q.end.Month() {
			return q, badParam("start_time, end_time", "must lie within one calendar month (without them the window is the current month; a query of another month gives both, or the syssn)")
		}
		if q.end.Before(q.start) {
			return q, badParam("end_time", "must not be before start_time")
		}
	}
	if s := get(p, "page"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1_000_000 {
			return q, badParam("page", "must be a positive integer")
		}
		q.page = n
	}
	if s := get(p, "page_size"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return q, badParam("page_size", "must be a positive integer")
		}
		q.pageSize = min(n, maxPageSize) // "over 100, only 100 are shown"
	}
	return q, nil
}

// cancelParams is a validated /trade/v1/reversal or /trade/v1/close request.
type cancelParams struct {
	sysSN, outTradeNo string
	txAmt             int64
	txDtm, udid       string
}

// parseCancelParams: syssn or out_trade_no, and txamt and txdtm, which
// QFPay's reversal/cancel page marks mandatory.
func parseCancelParams(p url.Values) (cancelParams, *rejection) {
	c := cancelParams{sysSN: get(p, "syssn"), outTradeNo: get(p, "out_trade_no"), txDtm: get(p, "txdtm"), udid: get(p, "udid")}
	if c.sysSN == "" && c.outTradeNo == "" {
		return c, badParam("syssn", "syssn or out_trade_no is required")
	}
	if r := required(p, "txamt", "txdtm"); r != nil {
		return c, r
	}
	var r *rejection
	if c.txAmt, r = parseTxAmt(get(p, "txamt")); r != nil {
		return c, r
	}
	if _, r = parseDtm("txdtm", c.txDtm); r != nil {
		return c, r
	}
	return c, checkLen(p, "udid", 40)
}

// refundParams is a validated /trade/v1/refund request.
type refundParams struct {
	origSysSN, outTradeNo, txDtm, udid string
	txAmt                              int64
}

func parseRefundParams(p url.Values) (refundParams, *rejection) {
	var rp refundParams
	if r := required(p, "syssn", "out_trade_no", "txamt", "txdtm"); r != nil {
		return rp, r
	}
	var r *rejection
	if rp.txAmt, r = parseTxAmt(get(p, "txamt")); r != nil {
		return rp, r
	}
	rp.origSysSN, rp.outTradeNo, rp.txDtm, rp.udid = get(p, "syssn"), get(p, "out_trade_no"), get(p, "txdtm"), get(p, "udid")
	if r := checkLen(p, "out_trade_no", 128); r != nil {
		return rp, r
	}
	if _, r := parseDtm("txdtm", rp.txDtm); r != nil {
		return rp, r
	}
	return rp, checkLen(p, "udid", 40)
}
