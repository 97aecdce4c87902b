package qfpaysim

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"time"
	"unicode/utf8"

	"qrkiosk/payment"
	"qrkiosk/payment/qfpay"
)

// maxBody caps request bodies; QFPay requests are a few hundred bytes.
const maxBody = 64 << 10

func (s *Sim) routes() {
	m := http.NewServeMux()
	m.HandleFunc("POST /trade/v1/payment", s.trade("payment", s.handlePayment))
	m.HandleFunc("POST /trade/v1/query", s.trade("query", s.handleQuery))
	m.HandleFunc("POST /trade/v1/reversal", s.trade("reversal", s.handleCancel))
	m.HandleFunc("POST /trade/v1/close", s.trade("close", s.handleCancel))
	m.HandleFunc("POST /trade/v1/refund", s.trade("refund", s.handleRefund))
	m.HandleFunc("GET /sim/pay/{syssn}", s.handlePage)
	m.HandleFunc("POST /sim/pay/{syssn}", s.handleCustomer(actionPay))
	m.HandleFunc("POST /sim/decline/{syssn}", s.handleCustomer(actionDecline))
	m.HandleFunc("POST /sim/expire/{syssn}", s.handleCustomer(actionExpire))
	m.HandleFunc("GET /sim/orders", s.handleOrders)
	m.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
	s.mux = m
}

// reply is a JSON answer; QFPay writes numbers as strings.
type reply map[string]any

// tradeHandler handles an authenticated, parsed trade/v1 call. It writes
// the answer itself (a payment may drop the connection instead).
type tradeHandler func(w http.ResponseWriter, r *http.Request, op string, p url.Values)

// trade wraps a trade/v1 endpoint: fault injection, body parsing and the
// signature check, in QFPay's order.
func (s *Sim) trade(op string, h tradeHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !sleepCtx(r.Context(), s.cfg.Latency) {
			return
		}
		if s.chanceUnlocked(s.cfg.Fail5xxRate) {
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

func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// readForm reads the form-encoded body. Only the body counts: that is what
// the merchant signed.
func readForm(r *http.Request) (url.Values, *rejection) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, reject(payment.CodeFormatError, "the body must be application/x-www-form-urlencoded")
	}
	if err := r.ParseForm(); err != nil {
		return nil, reject(payment.CodeFormatError, "the body is not a valid form: "+err.Error())
	}
	for k, v := range r.PostForm {
		if len(v) > 1 {
			return nil, badParam(k, "is given more than once")
		}
		if !utf8.ValidString(k) || !utf8.ValidString(v[0]) {
			return nil, reject(payment.CodeFormatError, "parameters must be UTF-8")
		}
	}
	return r.PostForm, nil
}

// authenticate checks the app code and the signature over the received
// parameters, exactly as QFPay computes it.
func (s *Sim) authenticate(r *http.Request, p url.Values) *rejection {
	app := r.Header.Get(qfpay.HeaderAppCode)
	if app == "" {
		return reject(payment.CodeSignatureError, qfpay.HeaderAppCode+" header is missing")
	}
	if subtle.ConstantTimeCompare([]byte(app), []byte(s.cfg.AppCode)) != 1 {
		return reject(payment.CodeSignatureError, "unknown app code")
	}
	st, err := qfpay.ParseSignType(r.Header.Get(qfpay.HeaderSignType))
	if err != nil {
		return reject(payment.CodeSignatureError, qfpay.HeaderSignType+" must be MD5 or SHA256")
	}
	if r.Header.Get(qfpay.HeaderSign) == "" {
		return reject(payment.CodeSignatureError, qfpay.HeaderSign+" header is missing")
	}
	if qfpay.VerifyRequest(p, s.cfg.Key, r.Header.Get(qfpay.HeaderSign), st) != nil {
		return reject(payment.CodeSignatureError, qfpay.HeaderSign+" does not match the parameters")
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
	s.log.Info("refused", "op", op, "out_trade_no", get(p, "out_trade_no"), "syssn", get(p, "syssn"), "respcd", rej.code, "reason", rej.detail)
	resperr, respmsg := rej.code.Text(), ""
	if rej.detail != "" {
		// The client shows resperr first, so the field name goes there.
		resperr, respmsg = rej.detail, rej.code.Text()
	}
	writeJSON(w, http.StatusOK, reply{"respcd": string(rej.code), "resperr": resperr, "respmsg": respmsg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "encoding failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

func success(fields reply) reply {
	fields["respcd"] = string(payment.CodeSuccess)
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
	s.mu.Lock()
	if s.byOutTradeNo[pp.outTradeNo] != nil {
		s.mu.Unlock()
		s.refuse(w, op, p, reject(payment.CodeDuplicateSerial, "out_trade_no "+strconv.Quote(pp.outTradeNo)+" is already used by another payment or refund"))
		return
	}
	now := s.now()
	expiry := s.cfg.DefaultExpiry
	if pp.expiry > 0 && pp.payType.HonoursExpiry {
		expiry = pp.expiry
	}
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
		expiresAt:  now.Add(expiry),
	}
	t.qrcode = s.baseURL + "/sim/pay/" + t.sysSN
	s.store(t)
	drop := s.chance(s.cfg.CommitDropRate)
	resp := success(reply{
		"syssn":        t.sysSN,
		"out_trade_no": t.outTradeNo,
		"qrcode":       t.qrcode,
		"pay_type":     t.payType.Code,
		"txamt":        strconv.FormatInt(t.txAmt, 10),
		"txcurrcd":     t.currency.Code,
		"txdtm":        t.txDtm,
		"sysdtm":       fmtDtm(t.created),
		"paydtm":       "",
		"udid":         t.udid,
		"chnlsn":       "",
		"cardcd":       "",
	})
	s.mu.Unlock()
	s.log.Info("order created", "syssn", t.sysSN, "out_trade_no", t.outTradeNo, "pay_type", t.payType.Code, "txamt", t.txAmt, "respcd", payment.CodeSuccess)
	if drop {
		s.log.Info("reply dropped after commit (fault injection)", "syssn", t.sysSN, "out_trade_no", t.outTradeNo)
		dropConnection(w)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// dropConnection closes the connection without writing a response: the
// client cannot tell whether the order was made.
func dropConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// Not hijackable (HTTP/2): abort the stream instead.
		panic(http.ErrAbortHandler)
	}
	conn.Close()
}

// store records a new transaction. Caller holds s.mu.
func (s *Sim) store(t *txn) {
	s.txns = append(s.txns, t)
	s.bySysSN[t.sysSN] = t
	s.byOutTradeNo[t.outTradeNo] = t
}

func (s *Sim) handleQuery(w http.ResponseWriter, r *http.Request, op string, p url.Values) {
	q, rej := parseQueryParams(p)
	if rej != nil {
		s.refuse(w, op, p, rej)
		return
	}
	s.mu.Lock()
	now := s.now()
	var match []map[string]string
	for i := len(s.txns) - 1; i >= 0; i-- { // newest first
		t := s.txns[i]
		s.settle(t, now)
		if q.matches(t) {
			match = append(match, wireTxn(t))
		}
	}
	s.mu.Unlock()
	data := []map[string]string{}
	if from := (q.page - 1) * q.pageSize; from < len(match) {
		data = match[from:min(from+q.pageSize, len(match))]
	}
	writeJSON(w, http.StatusOK, success(reply{
		"page":      strconv.Itoa(q.page),
		"page_size": strconv.Itoa(q.pageSize),
		"data":      data,
	}))
}

func (q queryParams) matches(t *txn) bool {
	switch {
	case q.sysSNs != nil && !q.sysSNs[t.sysSN],
		q.outTradeNos != nil && !q.outTradeNos[t.outTradeNo],
		q.payTypes != nil && !q.payTypes[t.payType.Code],
		q.respcd != "" && q.respcd != string(t.respcd()),
		!q.start.IsZero() && t.created.Before(q.start),
		// end_time has whole seconds; the whole second is included.
		!q.end.IsZero() && !t.created.Before(q.end.Add(time.Second)):
		return false
	}
	return true
}

// wireTxn is a transaction as a query lists it. Caller holds s.mu.
func wireTxn(t *txn) map[string]string {
	code := t.respcd()
	m := map[string]string{
		"order_type":   t.kind,
		"syssn":        t.sysSN,
		"out_trade_no": t.outTradeNo,
		"pay_type":     t.payType.Code,
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
		"goods_name":   t.goodsName,
	}
	if code.Class() == payment.ClassFailure {
		m["errmsg"] = code.Text()
	}
	if t.kind == kindRefund {
		m["orig_syssn"] = t.origSysSN
	}
	if t.kind == kindPayment && t.state == stateLive {
		// An extension: QFPay's query carries no qrcode, but a client that
		// adopts an order after a lost create reply can show it again.
		m["qrcode"] = t.qrcode
	}
	return m
}

// handleCancel serves reversal and close: both withdraw a live, unpaid
// order, each for the pay types that use it.
func (s *Sim) handleCancel(w http.ResponseWriter, r *http.Request, op string, p url.Values) {
	c, rej := parseCancelParams(p)
	if rej != nil {
		s.refuse(w, op, p, rej)
		return
	}
	s.mu.Lock()
	t, rej := s.cancelLocked(op, c)
	var resp reply
	if rej == nil {
		resp = success(reply{
			"syssn":        t.sysSN,
			"orig_syssn":   t.sysSN,
			"out_trade_no": t.outTradeNo,
			"pay_type":     t.payType.Code,
			"txamt":        strconv.FormatInt(t.txAmt, 10),
			"txcurrcd":     t.currency.Code,
			"txdtm":        t.txDtm,
			"sysdtm":       fmtDtm(s.now()),
			"cancel":       strconv.Itoa(t.cancel),
		})
	}
	s.mu.Unlock()
	if rej != nil {
		s.refuse(w, op, p, rej)
		return
	}
	s.log.Info("order withdrawn", "op", op, "syssn", t.sysSN, "out_trade_no", t.outTradeNo, "respcd", payment.CodeSuccess)
	writeJSON(w, http.StatusOK, resp)
}

// cancelLocked applies a reversal or close. Caller holds s.mu.
func (s *Sim) cancelLocked(op string, c cancelParams) (*txn, *rejection) {
	var t *txn
	switch {
	case c.sysSN != "" && c.outTradeNo != "":
		t = s.bySysSN[c.sysSN]
		if t != nil && t.outTradeNo != c.outTradeNo {
			return nil, reject(payment.CodeOrderMismatch, "syssn and out_trade_no name different transactions")
		}
	case c.sysSN != "":
		t = s.bySysSN[c.sysSN]
	default:
		t = s.byOutTradeNo[c.outTradeNo]
	}
	if t == nil || t.kind != kindPayment {
		return nil, reject(payment.CodeNoSuchTransaction, "no such payment order")
	}
	name := t.payType.Code + " (" + t.payType.Name.En + ")"
	switch {
	case t.payType.Cancel == payment.CancelNone:
		return nil, reject(payment.CodeNoSuchTransaction, name+" orders cannot be cancelled at the gateway; they expire")
	case op == "reversal" && t.payType.Cancel != payment.CancelReversal:
		return nil, badParam("pay_type", name+" orders are not reversed: use close")
	}
	if c.txAmt != 0 && c.txAmt != t.txAmt {
		return nil, reject(payment.CodeAmountWrong, "txamt "+strconv.FormatInt(c.txAmt, 10)+" differs from the order's "+strconv.FormatInt(t.txAmt, 10))
	}
	s.settle(t, s.now())
	switch t.state {
	case statePaid:
		return nil, reject(payment.CodeOrderAlreadyPaid, "a paid order cannot be "+op+"d: refund it")
	case stateClosed:
		return nil, reject(payment.CodeOrderClosed, "")
	case stateExpired:
		return nil, reject(payment.CodeOrderExpired, "")
	case stateDeclined:
		return nil, reject(payment.CodeNoSuchTransaction, "the order already failed (respcd "+string(t.declineCode)+"); nothing to withdraw")
	}
	t.state = stateClosed
	t.cancel = payment.CancelFlagMPMCancelled
	return t, nil
}

func (s *Sim) handleRefund(w http.ResponseWriter, r *http.Request, op string, p url.Values) {
	rp, rej := parseRefundParams(p)
	if rej != nil {
		s.refuse(w, op, p, rej)
		return
	}
	s.mu.Lock()
	ref, rej := s.refundLocked(rp, get(p, "mchid"))
	var resp reply
	if rej == nil {
		resp = success(reply{
			"syssn":        ref.sysSN,
			"orig_syssn":   ref.origSysSN,
			"out_trade_no": ref.outTradeNo,
			"pay_type":     ref.payType.Code,
			"txamt":        strconv.FormatInt(ref.txAmt, 10),
			"txcurrcd":     ref.currency.Code,
			"txdtm":        ref.txDtm,
			"sysdtm":       fmtDtm(ref.created),
			"udid":         ref.udid,
		})
	}
	s.mu.Unlock()
	if rej != nil {
		s.refuse(w, op, p, rej)
		return
	}
	s.log.Info("refund made", "syssn", ref.sysSN, "orig_syssn", ref.origSysSN, "out_trade_no", ref.outTradeNo, "txamt", ref.txAmt, "respcd", payment.CodeSuccess)
	writeJSON(w, http.StatusOK, resp)
}

// refundLocked makes a refund of a paid order. Caller holds s.mu.
func (s *Sim) refundLocked(rp refundParams, mchID string) (*txn, *rejection) {
	if s.byOutTradeNo[rp.outTradeNo] != nil {
		return nil, reject(payment.CodeDuplicateSerial, "out_trade_no "+strconv.Quote(rp.outTradeNo)+" is already used by another payment or refund")
	}
	orig := s.bySysSN[rp.origSysSN]
	if orig == nil || orig.kind != kindPayment {
		return nil, reject(payment.CodeNoSuchTransaction, "no such payment to refund")
	}
	now := s.now()
	s.settle(orig, now)
	remaining := orig.txAmt - orig.refunded
	switch {
	case !orig.payType.Refundable:
		return nil, reject(payment.CodeRefundDenied, orig.payType.Name.En+" payments cannot be refunded")
	case orig.state != statePaid:
		return nil, reject(payment.CodeOrderNotPaid, "")
	case remaining <= 0:
		return nil, reject(payment.CodeAlreadyRefunded, "")
	case rp.txAmt > remaining:
		return nil, reject(payment.CodeRefundTooLarge, "txamt "+strconv.FormatInt(rp.txAmt, 10)+" is more than the "+strconv.FormatInt(remaining, 10)+" left to refund")
	}
	ref := &txn{
		kind:       kindRefund,
		sysSN:      s.newSysSN(now),
		outTradeNo: rp.outTradeNo,
		origSysSN:  orig.sysSN,
		payType:    orig.payType,
		currency:   orig.currency,
		txAmt:      rp.txAmt,
		udid:       rp.udid,
		mchID:      mchID,
		chnlSN:     "SIM" + orig.sysSN,
		txDtm:      rp.txDtm,
		created:    now,
		paid:       now,
		state:      statePaid,
	}
	s.store(ref)
	orig.refunded += rp.txAmt
	if orig.refunded == orig.txAmt {
		orig.cancel = payment.CancelFlagRefunded
	} else {
		orig.cancel = payment.CancelFlagPartlyRefunded
	}
	s.notifyLocked(ref, orig)
	return ref, nil
}
