package qfpaysim

import (
	"crypto/subtle"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"qrkiosk/payment"
	"qrkiosk/payment/qfpay"
	"qrkiosk/sim/simkit"
	"qrkiosk/sim/simpage"
)

// maxBody caps request bodies; QFPay requests are a few hundred bytes.
const maxBody = 64 << 10

func (s *Sim) routes() {
	m := http.NewServeMux()
	m.HandleFunc("POST /trade/v1/payment", s.trade("payment", s.handlePayment))
	m.HandleFunc("POST /trade/v1/query", s.trade("query", s.handleQuery))
	// QFPay's server reads a query's parameters from the URL as well;
	// public clients query by GET.
	m.HandleFunc("GET /trade/v1/query", s.trade("query", s.handleQuery))
	m.HandleFunc("POST /trade/v1/reversal", s.trade(opReversal, s.handleCancel))
	m.HandleFunc("POST /trade/v1/close", s.trade(opClose, s.handleCancel))
	m.HandleFunc("POST /trade/v1/refund", s.trade("refund", s.handleRefund))
	m.HandleFunc("GET /sim/pay/{syssn}", s.handlePage)
	m.HandleFunc("POST /sim/pay/{syssn}", s.handleCustomer(actionPay))
	m.HandleFunc("GET /sim/confirm/{syssn}", s.handlePage)
	m.HandleFunc("POST /sim/confirm/{syssn}", s.handleCustomer(actionPay))
	m.HandleFunc("POST /sim/decline/{syssn}", s.handleCustomer(actionDecline))
	m.HandleFunc("POST /sim/expire/{syssn}", s.handleCustomer(actionExpire))
	m.HandleFunc("GET /sim/orders", s.handleOrders)
	m.HandleFunc("GET /sim/clock", s.handleClock)
	m.HandleFunc("POST /sim/clock", s.handleClock)
	m.HandleFunc("GET /healthz", simkit.Healthz)
	s.mux = m
}

// reply is a JSON answer; QFPay writes numbers as strings.
type reply map[string]any

const (
	opReversal = "reversal"
	opClose    = "close"
)

// tradeHandler handles an authenticated, parsed trade/v1 call. It writes
// the answer itself (a payment may drop the connection instead).
type tradeHandler func(w http.ResponseWriter, r *http.Request, op string, p url.Values)

// trade wraps a trade/v1 endpoint: fault injection, body parsing and the
// signature check, in QFPay's order.
func (s *Sim) trade(op string, h tradeHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !simkit.Sleep(r.Context(), s.cfg.Latency) {
			return
		}
		if !s.allow(r) {
			s.log.Info("answered 429 (rate limit)", "op", op, "limit_per_minute", s.cfg.RateLimitPerMinute)
			// QFPay documents the status only: no body format, no Retry-After.
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusTooManyRequests)
			w.Write([]byte("Too Many Requests\n"))
			return
		}
		if s.dice.Chance(s.cfg.Fail5xxRate) {
			s.log.Info("answered 502 (fault injection)", "op", op)
			http.Error(w, "502 Bad Gateway (simulated)", http.StatusBadGateway)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		p, rej := readForm(r)
		if rej == nil {
			rej = s.authenticate(r, p)
		}
		if rej == nil {
			rej = s.checkMchID(p)
		}
		if rej != nil {
			s.refuse(w, op, p, rej)
			return
		}
		h(w, r, op, p)
	}
}

// readForm reads the parameters as QFPay's server does: from the URL's
// query string and, for a POST, the form-encoded body (public clients send
// either; the merchant signs them all). A body that is not a form is
// refused; a parameter given twice, in either place or both, is too.
func readForm(r *http.Request) (url.Values, *rejection) {
	if r.Method == http.MethodPost && (r.ContentLength != 0 || r.Header.Get("Content-Type") != "") {
		mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || mt != "application/x-www-form-urlencoded" {
			return nil, reject(qfpay.CodeFormatError, "the body must be application/x-www-form-urlencoded")
		}
	}
	if err := r.ParseForm(); err != nil {
		return nil, reject(qfpay.CodeFormatError, "the parameters are not a valid form: "+err.Error())
	}
	for k, v := range r.Form {
		if len(v) > 1 {
			return nil, badParam(k, "is given more than once")
		}
		if !utf8.ValidString(k) || !utf8.ValidString(v[0]) {
			return nil, reject(qfpay.CodeFormatError, "parameters must be UTF-8")
		}
	}
	return r.Form, nil
}

// authenticate checks the app code and the signature over the received
// parameters, exactly as QFPay computes it.
func (s *Sim) authenticate(r *http.Request, p url.Values) *rejection {
	app := r.Header.Get(qfpay.HeaderAppCode)
	if app == "" {
		return reject(qfpay.CodeSignatureError, qfpay.HeaderAppCode+" header is missing")
	}
	if subtle.ConstantTimeCompare([]byte(app), []byte(s.cfg.AppCode)) != 1 {
		return reject(qfpay.CodeSignatureError, "unknown app code")
	}
	st, err := qfpay.ParseSignType(r.Header.Get(qfpay.HeaderSignType))
	if err != nil {
		return reject(qfpay.CodeSignatureError, qfpay.HeaderSignType+" must be MD5 or SHA256")
	}
	if r.Header.Get(qfpay.HeaderSign) == "" {
		return reject(qfpay.CodeSignatureError, qfpay.HeaderSign+" header is missing")
	}
	// QFPay's own examples send lower-case hex and the gateway takes it:
	// compare the hex case-insensitively.
	want := qfpay.Sign(p, s.cfg.Key, st)
	got := strings.ToUpper(r.Header.Get(qfpay.HeaderSign))
	if subtle.ConstantTimeCompare([]byte(want), []byte(got)) != 1 {
		return reject(qfpay.CodeSignatureError, qfpay.HeaderSign+" does not match the parameters")
	}
	return nil
}

// checkMchID applies QFPay's rule: a merchant issued a mchid sends it on
// every call; one that was not leaves the parameter out.
func (s *Sim) checkMchID(p url.Values) *rejection {
	got := get(p, "mchid")
	switch {
	case s.cfg.MchID == "" && got != "":
		return badParam("mchid", "this merchant was not issued a mchid: leave the parameter out")
	case s.cfg.MchID != "" && got == "":
		return badParam("mchid", "is required for this merchant")
	case got != s.cfg.MchID:
		return badParam("mchid", "does not belong to this app code")
	}
	return nil
}

func (s *Sim) refuse(w http.ResponseWriter, op string, p url.Values, rej *rejection) {
	s.log.Info("refused", "op", op, "out_trade_no", get(p, "out_trade_no"), "syssn", get(p, "syssn"), "respcd", rej.code, "reason", rej.Error())
	resp := reply{}
	for k, v := range rej.extra {
		resp[k] = v
	}
	resp["respcd"] = string(rej.code)
	switch {
	case rej.resperr != "":
		resp["resperr"], resp["respmsg"] = rej.resperr, rej.respmsg
	case rej.detail != "":
		// The client shows resperr first, so the field name goes there.
		resp["resperr"], resp["respmsg"] = rej.detail, qfpay.Text(rej.code)
	default:
		resp["resperr"], resp["respmsg"] = qfpay.Text(rej.code), ""
	}
	writeTrade(w, resp)
}

// writeTrade writes a trade/v1 answer the way the gateway does (Python's
// json.dumps; see pyJSON).
func writeTrade(w http.ResponseWriter, v reply) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	w.Write(pyJSON(map[string]any(v)))
}

func success(fields reply) reply {
	fields["respcd"] = string(qfpay.CodeSuccess)
	fields["resperr"] = "success"
	fields["respmsg"] = ""
	return fields
}

func (s *Sim) handlePayment(w http.ResponseWriter, r *http.Request, op string, p url.Values) {
	pp, rej := parsePaymentParams(p)
	if rej != nil {
		s.refuse(w, op, p, rej)
		return
	}
	var codeWallet wallet
	if pp.cpm != nil {
		// Codes no wallet could have issued never leave the gateway: refused,
		// nothing recorded, the code and out_trade_no still unused.
		var ok bool
		if !wellFormedCode(pp.authCode) {
			s.refuse(w, op, p, &rejection{code: qfpay.CodeBadPaymentCode, resperr: qfpay.Text(qfpay.CodeBadPaymentCode), respmsg: "auth_code: a payment code is 16 to 24 digits"})
			return
		}
		if codeWallet, ok = walletOfCode(pp.authCode); !ok && s.cfg.AnyCode {
			// The demo: a hand-typed code stands for the pay type's first
			// wallet (the all-in-one's: WeChat Pay).
			codeWallet, ok = pp.cpm.wallets[0], true
		}
		if !ok {
			s.refuse(w, op, p, &rejection{code: qfpay.CodeBadPaymentCode, resperr: qfpay.Text(qfpay.CodeBadPaymentCode), respmsg: "auth_code: no wallet issues codes beginning " + pp.authCode[:2] + " (" + codePrefixHelp + ")"})
			return
		}
	}
	s.mu.Lock()
	if s.byOutTradeNo[pp.outTradeNo] != nil {
		s.mu.Unlock()
		s.refuse(w, op, p, reject(qfpay.CodeDuplicateSerial, "out_trade_no "+strconv.Quote(pp.outTradeNo)+" is already used by another payment or refund"))
		return
	}
	now := s.now()
	notifyURL := pp.notifyURL
	if notifyURL == "" {
		notifyURL = s.cfg.NotifyURL
	}
	t := &txn{
		kind:       kindPayment,
		sysSN:      s.newSysSN(now),
		outTradeNo: pp.outTradeNo,
		payType:    pp.payType,
		currency:   pp.currency,
		txAmt:      pp.txAmt,
		goodsName:  pp.goodsName,
		udid:       pp.udid,
		mchID:      get(p, "mchid"),
		notifyURL:  notifyURL,
		txDtm:      pp.txDtm,
		created:    now,
	}
	var resp reply
	if pp.cpm != nil {
		resp = s.chargeCodeLocked(t, *pp.cpm, pp.authCode, codeWallet, now)
	} else {
		expiry := s.cfg.DefaultExpiry
		if pp.expiry > 0 && honoursExpiredTime[pp.payType.Code] {
			expiry = pp.expiry
		}
		t.expiresAt = now.Add(expiry)
		t.qrcode = s.baseURL + "/sim/pay/" + t.sysSN
		s.store(t)
		s.log.Info("order created", "syssn", t.sysSN, "out_trade_no", t.outTradeNo, "pay_type", t.payType.Code, "txamt", t.txAmt, "respcd", qfpay.CodeSuccess)
		resp = success(reply{
			"syssn":          t.sysSN,
			"out_trade_no":   t.outTradeNo,
			"qrcode":         t.qrcode,
			"pay_type":       t.payType.Code,
			"txamt":          strconv.FormatInt(t.txAmt, 10),
			"txcurrcd":       t.currency.Code,
			"txdtm":          t.txDtm,
			"sysdtm":         fmtDtm(t.created),
			"paydtm":         "",
			"udid":           t.udid,
			"chnlsn":         "",
			"chnlsn2":        "",
			"cardcd":         "",
			"surcharge_fee":  "0",
			"surcharge_rate": "0",
		})
	}
	drop := s.dice.Chance(s.cfg.CommitDropRate)
	if s.dropped < s.cfg.CommitDropFirst {
		s.dropped++
		drop = true
	}
	s.mu.Unlock()
	if drop {
		s.log.Info("reply dropped after commit (fault injection)", "syssn", t.sysSN, "out_trade_no", t.outTradeNo)
		simkit.DropConnection(w)
		return
	}
	writeTrade(w, resp)
}

// chargeCodeLocked records a CPM payment t charging the customer's code
// (of wallet cw) and returns the answer: paid at once, waiting for the
// customer to confirm (1145, or 1143), or refused by the wallet (the
// failure is recorded: the query shows it, and the code and out_trade_no
// are used). Caller holds s.mu.
func (s *Sim) chargeCodeLocked(t *txn, pt cpmPayType, code string, cw wallet, now time.Time) reply {
	t.authCode, t.wallet = code, cw
	t.walletType = pt.Code
	if pt.Code == allInOne {
		t.walletType = walletPayType[cw]
	}
	t.namesWallet = s.cfg.AllInOneNamesWallet
	t.waitCode = qfpay.CodeProcessing
	// "Each auth_code can be used only once": once its wallet has seen it.
	first, used := s.usedCodes[code]
	consumed := !used
	switch suffix := code[len(code)-4:]; {
	case used:
		s.failLocked(t, qfpay.CodeBadCustomerCode, "the payment code was already used by "+first)
	case !pt.takes(cw):
		// Sent to a wallet that did not issue it: refused there, and still
		// good for its own wallet.
		s.failLocked(t, qfpay.CodeBadPaymentCode, pt.Name.En+" ("+pt.Code+") does not take "+cw.String()+" codes")
		consumed = false
	case suffix == suffixBadCode:
		s.failLocked(t, qfpay.CodeBadPaymentCode, "the wallet refused the code")
	case suffix == suffixNoBalance:
		s.failLocked(t, qfpay.CodeInsufficientBalance, "the customer's balance is too low")
	case suffix == suffixNeverConfirm:
		t.state = stateLive // until withdrawn, declined or confirmed by hand
	case suffix == suffixPaidAtOnce, suffix != suffixPassword && s.cfg.CPMConfirmAfter < 0:
		t.state = statePaid
	default:
		t.state = stateLive
		if suffix == suffixPassword {
			t.waitCode = qfpay.CodeUserPaying
		}
		t.confirmAt = now.Add(max(s.cfg.CPMConfirmAfter, 0))
	}
	if consumed {
		s.usedCodes[code] = t.sysSN
	}
	s.store(t)
	if t.confirmAt.IsZero() {
		s.log.Info("code charged", "syssn", t.sysSN, "out_trade_no", t.outTradeNo, "pay_type", t.payType.Code, "wallet", t.walletType, "auth_code", maskCode(code), "txamt", t.txAmt, "respcd", t.respcd())
	} else {
		s.log.Info("code charged; the customer is confirming", "syssn", t.sysSN, "out_trade_no", t.outTradeNo, "pay_type", t.payType.Code, "wallet", t.walletType, "auth_code", maskCode(code), "txamt", t.txAmt, "respcd", t.respcd(), "confirm_at", fmtDtm(t.confirmAt))
		s.addTimedLocked(t)
	}
	if t.state == statePaid {
		s.payLocked(t, now)
	}
	// The shape of QFPay's CPM answer: txamt a number, no qrcode.
	respcd := t.respcd()
	resp := reply{
		"syssn":          t.sysSN,
		"out_trade_no":   t.outTradeNo,
		"pay_type":       t.wirePayType(),
		"txamt":          t.txAmt,
		"txcurrcd":       t.currency.Code,
		"txdtm":          t.txDtm,
		"sysdtm":         fmtDtm(t.created),
		"paydtm":         fmtDtm(t.paid),
		"udid":           t.udid,
		"chnlsn":         t.chnlSN,
		"chnlsn2":        "",
		"cardcd":         "",
		"surcharge_fee":  "0",
		"surcharge_rate": "0",
		"respcd":         string(respcd),
		"resperr":        waitText(respcd),
		"respmsg":        "",
	}
	switch qfpay.ClassOf(respcd) {
	case qfpay.ClassSuccess:
		resp["resperr"], resp["respmsg"] = textCPMPaid, "OK"
	case qfpay.ClassFailure:
		resp["resperr"], resp["respmsg"] = qfpay.Text(respcd), t.failReason
	}
	return resp
}

// failLocked ends a CPM payment as refused by the wallet. Caller holds s.mu.
func (s *Sim) failLocked(t *txn, code payment.Code, reason string) {
	t.state = stateDeclined
	t.declineCode = code
	t.failReason = reason
}

const (
	// textCPMPaid is the resperr of QFPay's CPM answer sample ("transaction
	// successful"), which the gateway writes as \u escapes.
	textCPMPaid = "交易成功"
	textWait    = "Please wait while processing(1145)"
)

// waitText is the resperr/errmsg of a payment the customer is still
// confirming.
func waitText(code payment.Code) string {
	switch code {
	case qfpay.CodeUserPaying:
		return textProcessing
	case qfpay.CodeProcessing:
		return textWait
	}
	return ""
}

// store records a new transaction. Caller holds s.mu.
func (s *Sim) store(t *txn) {
	s.txns = append(s.txns, t)
	s.bySysSN[t.sysSN] = t
	s.byOutTradeNo[t.outTradeNo] = t
}

const (
	// textProcessing is the live gateway's text for a refund in progress.
	textProcessing = "處理中，請稍等(1143)"
	// codeUnknown is in QFPay's 2017 code table only, and still answered:
	// "unknown result, the query needs to be verified again".
	codeUnknown     = payment.Code("1161")
	textUnknown1161 = "Unknown results, the query needs to be verified again"
)

func (s *Sim) handleQuery(w http.ResponseWriter, r *http.Request, op string, p url.Values) {
	s.mu.Lock()
	now := s.tick()
	q, rej := parseQueryParams(p, now)
	if rej != nil {
		s.mu.Unlock()
		s.refuse(w, op, p, rej)
		return
	}
	var match []map[string]string
	for i := len(s.txns) - 1; i >= 0; i-- { // newest first
		t := s.txns[i]
		s.settle(t, now)
		if !q.matches(t) {
			continue
		}
		row := wireTxn(t)
		if s.dice.Chance(s.cfg.QueryUnknownRate) {
			row["respcd"], row["errmsg"] = string(codeUnknown), textUnknown1161
			s.log.Info("query row answered 1161 (fault injection)", "syssn", t.sysSN, "out_trade_no", t.outTradeNo)
		}
		match = append(match, row)
	}
	s.mu.Unlock()
	data := []map[string]string{}
	if from := (q.page - 1) * q.pageSize; from < len(match) {
		data = match[from:min(from+q.pageSize, len(match))]
	}
	// An unknown syssn or out_trade_no is not an error: 0000 and no rows.
	resp := success(reply{
		"page":      strconv.Itoa(q.page),
		"page_size": strconv.Itoa(q.pageSize),
		"data":      data,
	})
	resp["resperr"] = "请求成功"
	writeTrade(w, resp)
}

func (q queryParams) matches(t *txn) bool {
	sysdtm := t.created.Truncate(time.Second) // sysdtm has whole seconds
	switch {
	case q.sysSNs != nil && !q.sysSNs[t.sysSN],
		q.outTradeNos != nil && !q.outTradeNos[t.outTradeNo],
		q.payTypes != nil && !q.payTypes[t.payType.Code] && !q.payTypes[t.wirePayType()],
		q.respcd != "" && q.respcd != string(t.respcd()),
		q.windowed && (sysdtm.Before(q.start) || sysdtm.After(q.end)):
		return false
	}
	return true
}

// wireTxn is a transaction as a query lists it: every value a string, no
// qrcode (a QR whose create answer was lost cannot be had again). Caller
// holds s.mu.
func wireTxn(t *txn) map[string]string {
	code := t.respcd()
	m := map[string]string{
		"order_type":   t.kind,
		"syssn":        t.sysSN,
		"out_trade_no": t.outTradeNo,
		"pay_type":     t.wirePayType(),
		"txamt":        strconv.FormatInt(t.txAmt, 10),
		"txcurrcd":     t.currency.Code,
		"txdtm":        t.txDtm,
		"sysdtm":       fmtDtm(t.created),
		"paydtm":       fmtDtm(t.paid),
		"respcd":       string(code),
		"errmsg":       "",
		"cancel":       strconv.Itoa(t.cancel),
		"udid":         t.udid,
		"chnlsn":       t.chnlSN,
		"chnlsn2":      "",
		"cardcd":       "",
		"cardtp":       "",
		"clisn":        "",
		"userid":       "",
		"goods_name":   t.goodsName,
		"goods_info":   "",
		"goods_detail": "",
	}
	switch qfpay.ClassOf(code) {
	case qfpay.ClassSuccess:
		m["errmsg"] = "success"
	case qfpay.ClassFailure:
		m["errmsg"] = qfpay.Text(code)
	case qfpay.ClassPending:
		if t.isCPM() {
			m["errmsg"] = waitText(code)
		}
	}
	if t.kind == kindRefund {
		// Refund rows name their payment "origssn" (no underscore), carry
		// its pay_type and never a cancel flag of their own.
		m["origssn"] = t.origSysSN()
		m["cancel"] = "0"
		m["goods_name"] = ""
		if t.state == stateLive {
			m["errmsg"] = textProcessing
		}
	}
	return m
}

// handleCancel serves reversal and close: both withdraw an unfinished
// order, each for the pay types that use it.
func (s *Sim) handleCancel(w http.ResponseWriter, r *http.Request, op string, p url.Values) {
	c, rej := parseCancelParams(p)
	if rej != nil {
		s.refuse(w, op, p, rej)
		return
	}
	s.mu.Lock()
	now := s.tick()
	t, code, rej := s.cancelLocked(op, c, now)
	var resp reply
	if rej == nil {
		resp = reply{
			"orig_syssn":     t.sysSN,
			"syssn":          s.newSysSN(now), // the cancel's own number
			"out_trade_no":   t.outTradeNo,
			"txamt":          strconv.FormatInt(t.txAmt, 10),
			"txcurrcd":       t.currency.Code,
			"txdtm":          c.txDtm,
			"sysdtm":         fmtDtm(now),
			"chnlsn":         t.chnlSN,
			"chnlsn2":        "",
			"cardcd":         "",
			"udid":           c.udid,
			"surcharge_fee":  "0",
			"surcharge_rate": "0",
			"respcd":         string(code),
			"resperr":        "success",
			"respmsg":        "",
		}
		if code != qfpay.CodeSuccess {
			resp["resperr"] = qfpay.Text(code)
		}
	}
	s.mu.Unlock()
	if rej != nil {
		s.refuse(w, op, p, rej)
		return
	}
	s.log.Info("cancel answered", "op", op, "syssn", t.sysSN, "out_trade_no", t.outTradeNo, "respcd", code)
	writeTrade(w, resp)
}

// cancelLocked applies (or starts) a reversal or close and returns the
// answer's respcd: 0000 done, 1145 in progress. Caller holds s.mu.
func (s *Sim) cancelLocked(op string, c cancelParams, now time.Time) (*txn, payment.Code, *rejection) {
	var t *txn
	switch {
	case c.sysSN != "" && c.outTradeNo != "":
		t = s.bySysSN[c.sysSN]
		if t != nil && t.outTradeNo != c.outTradeNo {
			return nil, "", reject(qfpay.CodeOrderMismatch, "syssn and out_trade_no name different transactions")
		}
	case c.sysSN != "":
		t = s.bySysSN[c.sysSN]
	default:
		t = s.byOutTradeNo[c.outTradeNo]
	}
	if t == nil || t.kind != kindPayment {
		return nil, "", reject(qfpay.CodeNoSuchTransaction, "no such payment order")
	}
	name := t.payType.Name.En + " (" + t.payType.Code + ")"
	if t.payType.Code == allInOne {
		name += " " + t.wallet.String()
	}
	rule, ok := cancelRules[t.rulePayType()]
	switch {
	case !ok:
		stays := "they stay payable until the gateway's expiry"
		if t.isCPM() {
			stays = "the customer may still confirm them"
		}
		return nil, "", &rejection{code: qfpay.CodeNoSuchTransaction, resperr: hongKongNoCancel, respmsg: name + " orders cannot be withdrawn; " + stays}
	case op == opReversal && !rule.reversal:
		return nil, "", reject(qfpay.CodeNoSuchTransaction, name+" orders are withdrawn with /trade/v1/close, not reversed")
	case op == opClose && !rule.close:
		return nil, "", reject(qfpay.CodeNoSuchTransaction, name+" orders are withdrawn with /trade/v1/reversal; close does not apply")
	case c.txAmt != t.txAmt:
		return nil, "", reject(qfpay.CodeAmountWrong, "txamt "+strconv.FormatInt(c.txAmt, 10)+" differs from the order's "+strconv.FormatInt(t.txAmt, 10))
	}
	s.settle(t, now)
	if !t.cancelAt.IsZero() {
		return t, qfpay.CodeProcessing, nil // already in progress
	}
	switch t.state {
	case statePaid:
		if op != opReversal || !rule.reversalRefunds {
			return nil, "", reject(qfpay.CodeOrderAlreadyPaid, "a paid "+name+" order cannot be withdrawn: refund it")
		}
		if t.refunded > 0 || t.refunding > 0 {
			return nil, "", reject(qfpay.CodeOrderRefunded, "")
		}
	case stateClosed, stateReversed:
		return nil, "", reject(qfpay.CodeOrderClosed, "")
	case stateExpired:
		return nil, "", reject(qfpay.CodeOrderExpired, "")
	case stateDeclined:
		return nil, "", reject(qfpay.CodeNoSuchTransaction, "the order already failed (respcd "+string(t.declineCode)+"); nothing to withdraw")
	}
	t.cancelOp = op
	if s.cfg.CancelProcessing > 0 {
		t.cancelAt = now.Add(s.cfg.CancelProcessing)
		s.addTimedLocked(t)
		return t, qfpay.CodeProcessing, nil
	}
	s.applyCancel(t)
	return t, qfpay.CodeSuccess, nil
}

func (s *Sim) handleRefund(w http.ResponseWriter, r *http.Request, op string, p url.Values) {
	rp, rej := parseRefundParams(p)
	if rej != nil {
		s.refuse(w, op, p, rej)
		return
	}
	s.mu.Lock()
	ref, rej := s.refundLocked(rp, get(p, "mchid"), s.tick())
	var resp reply
	if rej == nil {
		resp = success(reply{
			"syssn":        ref.sysSN,
			"orig_syssn":   ref.origSysSN(), // the reply says orig_syssn, query rows origssn
			"out_trade_no": ref.outTradeNo,
			"txamt":        strconv.FormatInt(ref.txAmt, 10),
			"txcurrcd":     ref.currency.Code,
			"txdtm":        ref.txDtm,
			"sysdtm":       fmtDtm(ref.created),
			"paydtm":       fmtDtm(ref.paid),
			"udid":         ref.udid,
			"chnlsn":       ref.chnlSN,
			"cardcd":       "",
		})
		if code := ref.respcd(); code != qfpay.CodeSuccess {
			resp["respcd"], resp["resperr"] = string(code), textProcessing
		}
	}
	s.mu.Unlock()
	if rej != nil {
		s.refuse(w, op, p, rej)
		return
	}
	s.log.Info("refund answered", "syssn", ref.sysSN, "orig_syssn", ref.origSysSN(), "out_trade_no", ref.outTradeNo, "txamt", ref.txAmt, "respcd", resp["respcd"])
	writeTrade(w, resp)
}

// refundLocked makes a refund of a paid order: done at once, or processing
// until Config.RefundProcessing has passed. Caller holds s.mu.
func (s *Sim) refundLocked(rp refundParams, mchID string, now time.Time) (*txn, *rejection) {
	if s.byOutTradeNo[rp.outTradeNo] != nil {
		// As the live gateway answers it, echoing the payment refunded.
		return nil, &rejection{
			code:    codeDuplicateOutTradeNo,
			resperr: "Do not use duplicate out_trade_no for request(1251)",
			respmsg: "out_trade_no is used",
			extra:   reply{"orig_syssn": rp.origSysSN, "syssn": nil},
		}
	}
	orig := s.bySysSN[rp.origSysSN]
	if orig == nil || orig.kind != kindPayment {
		return nil, reject(qfpay.CodeNoSuchTransaction, "no such payment to refund")
	}
	s.settle(orig, now)
	remaining := orig.txAmt - orig.refunded - orig.refunding
	switch {
	case notRefundable[orig.payType.Code]:
		return nil, reject(qfpay.CodeRefundDenied, orig.payType.Name.En+" payments cannot be refunded")
	case orig.state == stateReversed, orig.refunded >= orig.txAmt:
		return nil, &rejection{
			code:    qfpay.CodeOrderAlreadyClosed,
			resperr: "Order closed, please confirm the order status before continuing(1264)",
			respmsg: "wrong cancel",
		}
	case orig.state != statePaid:
		return nil, reject(qfpay.CodeOrderNotPaid, "")
	case orig.refunding > 0:
		return nil, &rejection{
			code:    codeRefundInProgress,
			resperr: "You still have processing requests, please do not repeat the initiation(1102)",
			respmsg: "a refund of this payment is still processing: query it until it is done",
		}
	case rp.txAmt > remaining:
		return nil, reject(qfpay.CodeRefundTooLarge, "txamt "+strconv.FormatInt(rp.txAmt, 10)+" is more than the "+strconv.FormatInt(remaining, 10)+" left to refund")
	}
	ref := &txn{
		kind:       kindRefund,
		sysSN:      s.newSysSN(now),
		outTradeNo: rp.outTradeNo,
		orig:       orig,
		payType:    orig.payType,
		currency:   orig.currency,
		txAmt:      rp.txAmt,
		udid:       rp.udid,
		mchID:      mchID,
		txDtm:      rp.txDtm,
		created:    now,
		doneAt:     now.Add(s.cfg.RefundProcessing),
		state:      stateLive,
	}
	ref.chnlSN = "SIM" + ref.sysSN
	s.store(ref)
	orig.refunding += rp.txAmt // reserved: two refunds never exceed the payment
	if s.cfg.RefundProcessing > 0 {
		s.addTimedLocked(ref)
		s.log.Info("refund processing", "syssn", ref.sysSN, "orig_syssn", orig.sysSN, "out_trade_no", ref.outTradeNo, "done_at", fmtDtm(ref.doneAt))
	} else {
		s.completeRefund(ref)
	}
	return ref, nil
}

// Codes the live gateway uses beyond (or against) its published table.
const (
	// codeDuplicateOutTradeNo: the table says 1251 is "store not configured
	// correctly"; live, a refund reusing an out_trade_no answers 1251.
	codeDuplicateOutTradeNo = payment.Code("1251")
	// codeRefundInProgress: QFPay refuses a second refund of a payment while
	// one is processing ("You still have processing requests"); the live
	// respcd was not recorded, so the simulator uses 1102, duplicate request.
	codeRefundInProgress = qfpay.CodeDuplicateRequest
)

func (s *Sim) handleClock(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		adv, set := r.FormValue("advance"), r.FormValue("set")
		var err error
		switch {
		case (adv == "") == (set == ""):
			simpage.WriteJSON(w, http.StatusBadRequest, clockResult{Error: "give exactly one of advance (a duration such as 720h) or set (an RFC 3339 time)"})
			return
		case adv != "":
			d, perr := time.ParseDuration(adv)
			if perr != nil {
				simpage.WriteJSON(w, http.StatusBadRequest, clockResult{Error: "advance: must be a duration such as 90s, 45m or 720h"})
				return
			}
			_, err = s.AdvanceClock(d)
		default:
			t, perr := time.Parse(time.RFC3339, set)
			if perr != nil {
				simpage.WriteJSON(w, http.StatusBadRequest, clockResult{Error: "set: must be an RFC 3339 time such as 2025-04-01T00:00:00+08:00"})
				return
			}
			_, err = s.SetClock(t)
		}
		if err != nil {
			res := s.clockResult()
			res.Error = err.Error()
			simpage.WriteJSON(w, http.StatusConflict, res)
			return
		}
	}
	simpage.WriteJSON(w, http.StatusOK, s.clockResult())
}

// clockResult is the answer of /sim/clock.
type clockResult struct {
	Now         string `json:"now,omitempty"`          // RFC 3339, UTC+8
	GatewayTime string `json:"gateway_time,omitempty"` // as sysdtm writes it
	Offset      string `json:"offset,omitempty"`       // how far it is from Config.Now
	Error       string `json:"error,omitempty"`
}

func (s *Sim) clockResult() clockResult {
	now := s.Now()
	return clockResult{
		Now:         now.Format(time.RFC3339),
		GatewayTime: fmtDtm(now),
		Offset:      time.Duration(s.offset.Load()).String(),
	}
}
