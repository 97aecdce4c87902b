package sfpsim

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"qrkiosk/payment/scanforpay"
	"qrkiosk/sim/simkit"
)

// maxBody caps request bodies; ScanForPay requests are a few hundred bytes.
const maxBody = 64 << 10

// The simulator's response codes. ScanForPay documents only 1 (success)
// and, in a sample, 30 "订单不存在"; it publishes no table of the others,
// so these are the simulator's own, each with a message naming the rule.
const (
	CodeBadSignature    = 10
	CodeBadParameter    = 11
	CodeUnknownPartner  = 12
	CodeDuplicateOrder  = 20
	CodeOrderNotFound   = scanforpay.CodeOrderNotFound
	CodeNotPaid         = 31
	CodeFullyRefunded   = 32
	CodeRefundTooLarge  = 33
	CodeDuplicateRefund = 34
	CodeBadBarcode      = 40
	CodeNoSuchAPI       = 50
)

func (s *Sim) routes() {
	m := http.NewServeMux()
	m.HandleFunc("POST "+scanforpay.PathCreate, s.api("create", s.handleCreate))
	m.HandleFunc("POST "+scanforpay.PathPay, s.api("pay", s.handlePay))
	m.HandleFunc("POST "+scanforpay.PathQuery, s.api("query", s.handleQuery))
	m.HandleFunc("POST "+scanforpay.PathRefund, s.api("refund", s.handleRefund))
	// ScanForPay's own shop plugin creates its orders here and sends the
	// customer to payUrl.
	m.HandleFunc("POST "+PathQRCode, s.api("qrcode", s.handlePayURL))
	m.HandleFunc("POST "+PathOnlineCreate, s.api("online create", s.handlePayURL))
	// Any other API call is refused in the gateway's envelope, as
	// ScanForPay answers, not with a bare 404.
	m.HandleFunc("/api/", s.handleUnknownAPI)
	m.HandleFunc("GET /sim/pay/{orderNo}", s.handlePage)
	m.HandleFunc("POST /sim/pay/{orderNo}", s.handleCustomer(true))
	m.HandleFunc("POST /sim/decline/{orderNo}", s.handleCustomer(false))
	m.HandleFunc("GET /sim/orders", s.handleOrders)
	m.HandleFunc("GET /sim/refunds", s.handleRefunds)
	m.HandleFunc("GET /healthz", simkit.Healthz)
	s.mux = m
}

// The paths of ScanForPay's shop plugin (its WooCommerce plugin: offline
// QR, and online checkout).
const (
	PathQRCode       = "/api/offline/qrcode"
	PathOnlineCreate = "/api/online/create"
)

// result is an answer body: code, msg and the operation's fields.
type result map[string]any

// refusal is an answer other than success.
type refusal struct {
	code int
	msg  string
}

func refuse(code int, msg string) *refusal { return &refusal{code, msg} }

func badParam(field, rule string) *refusal {
	return refuse(CodeBadParameter, field+" "+rule)
}

// call is an authenticated request: its header and raw body.
type call struct {
	header scanforpay.Header
	body   json.RawMessage
}

// apiHandler handles an authenticated call. It returns the answer's body,
// or a refusal; drop asks to close the connection without an answer after
// acting (fault injection).
type apiHandler func(op string, c call) (res result, rej *refusal, drop bool)

// api wraps an endpoint: fault injection, the envelope and its signature,
// the header, then the handler, and seals the answer.
func (s *Sim) api(op string, h apiHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !simkit.Sleep(r.Context(), s.cfg.Latency) {
			return
		}
		if s.dice.Chance(s.cfg.Fail5xxRate) {
			s.log.Info("answered 502 (fault injection)", "op", op)
			http.Error(w, "502 Bad Gateway (simulated)", http.StatusBadGateway)
			return
		}
		c, rej := s.authenticate(w, r)
		var res result
		drop := false
		if rej == nil {
			res, rej, drop = h(op, c)
		}
		if rej != nil {
			s.log.Info("refused", "op", op, "code", rej.code, "reason", rej.msg)
			res = result{"code": rej.code, "msg": rej.msg}
		}
		if drop {
			s.log.Info("reply dropped after commit (fault injection)", "op", op)
			simkit.DropConnection(w)
			return
		}
		s.answer(w, c.header, res)
	}
}

// authenticate reads the envelope and checks it exactly as ScanForPay
// does: the signature over the raw text of `request` with the partner's
// key, then the header.
func (s *Sim) authenticate(w http.ResponseWriter, r *http.Request) (call, *refusal) {
	var c call
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return c, badParam("Content-Type", "must be application/json")
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		return c, badParam("body", "is unreadable or too large")
	}
	if !utf8.Valid(raw) {
		return c, badParam("body", "must be UTF-8")
	}
	// The partner is read before the signature is checked: its key is the
	// one to check with.
	var peek struct {
		Request struct {
			Header scanforpay.Header `json:"header"`
		} `json:"request"`
	}
	if err := json.Unmarshal(raw, &peek); err != nil {
		return c, badParam("request", "is not a JSON envelope: "+err.Error())
	}
	c.header = peek.Request.Header
	if subtle.ConstantTimeCompare([]byte(c.header.PartnerNo), []byte(s.cfg.PartnerNo)) != 1 {
		return c, refuse(CodeUnknownPartner, "partnerNo is not a partner of this gateway")
	}
	obj, err := scanforpay.OpenRequest(raw, s.cfg.Key)
	if errors.Is(err, scanforpay.ErrBadSignature) {
		return c, refuse(CodeBadSignature, "signature does not match the request with the partner's sign key")
	}
	if err != nil {
		return c, badParam("request", "is malformed: "+err.Error())
	}
	var req scanforpay.Response // same shape: a header and a raw body
	if err := json.Unmarshal(obj, &req); err != nil || len(req.Body) == 0 || req.Body[0] != '{' {
		return c, badParam("body", "must be an object")
	}
	c.body = req.Body
	h := c.header
	switch {
	case h.Version != scanforpay.Version:
		return c, badParam("version", "must be 1.0")
	case h.SignType != "" && !strings.EqualFold(h.SignType, scanforpay.SignType):
		return c, badParam("signType", "must be SHA256")
	case len(h.ReqMsgID) > 32:
		return c, badParam("reqMsgId", "must be at most 32 characters")
	}
	// The documentation names the time reqTime and requestTime; either is
	// read, and it must be RFC 3339 with a zone.
	if t := h.Time(); t != "" {
		if _, err := time.Parse(time.RFC3339, t); err != nil {
			return c, badParam("requestTime", "must be RFC 3339 with a zone, e.g. 2018-07-25T17:53:52+08:00")
		}
	} else {
		return c, badParam("requestTime", "is required")
	}
	return c, nil
}

// answer seals and writes a response.
func (s *Sim) answer(w http.ResponseWriter, reqHeader scanforpay.Header, res result) {
	if _, ok := res["msg"]; !ok {
		res["msg"] = "success"
	}
	body, err := scanforpay.Marshal(res)
	if err != nil {
		http.Error(w, "encoding failed", http.StatusInternalServerError)
		return
	}
	h := scanforpay.Header{Version: scanforpay.Version, PartnerNo: reqHeader.PartnerNo, ReqMsgID: reqHeader.ReqMsgID,
		RespTime: s.now().In(gatewayZone).Format(time.RFC3339), SignType: scanforpay.SignType}
	obj, err := scanforpay.Marshal(scanforpay.Response{Header: h, Body: body})
	if err != nil {
		http.Error(w, "encoding failed", http.StatusInternalServerError)
		return
	}
	key := s.answerKey()
	if reqHeader.PartnerNo != s.cfg.PartnerNo {
		key = "" // an unknown partner: no key to sign with
	}
	var env []byte
	if key == "" {
		env = []byte(`{"response":` + string(obj) + `,"signature":""}`)
	} else {
		env = scanforpay.SealResponse(obj, key)
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.Write(env)
}

// decode reads a body strictly enough to name a wrong field.
func decode(body json.RawMessage, v any) *refusal {
	if err := json.Unmarshal(body, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return badParam(te.Field, "has the wrong type ("+te.Value+")")
		}
		return badParam("body", "is not valid: "+err.Error())
	}
	return nil
}

func checkLen(field, v string, max int, required bool) *refusal {
	switch {
	case required && strings.TrimSpace(v) == "":
		return badParam(field, "is required")
	case utf8.RuneCountInString(v) > max:
		return badParam(field, "must be at most "+strconv.Itoa(max)+" characters")
	}
	return nil
}

func checkAmount(n scanforpay.Flex) *refusal {
	switch {
	case !n.Set:
		return badParam("orderAmount", "is required")
	case n.Value <= 0:
		return badParam("orderAmount", "must be a positive integer of minor units")
	case n.Value > 1<<31-1:
		return badParam("orderAmount", "must fit an int")
	}
	return nil
}

// orderRequest is a create's or a barcode payment's body.
type orderRequest struct {
	StoreNo        string          `json:"storeNo"`
	PartnerOrderNo string          `json:"partnerOrderNo"`
	Wallet         string          `json:"wallet"`
	Barcode        string          `json:"barcode"`
	OrderAmount    scanforpay.Flex `json:"orderAmount"`
	OrderTitle     string          `json:"orderTitle"`
	OperatorID     string          `json:"operatorId"`
	TerminalNo     string          `json:"terminalNo"`
	NotifyURL      string          `json:"notifyUrl"`
}

func (s *Sim) checkStore(storeNo string) *refusal {
	if storeNo == "" {
		return badParam("storeNo", "is required")
	}
	if storeNo != s.cfg.StoreNo {
		return refuse(CodeUnknownPartner, "storeNo is not a store of this partner")
	}
	return nil
}

func (s *Sim) checkOrder(q orderRequest) *refusal {
	for _, c := range []*refusal{
		s.checkStore(q.StoreNo),
		checkLen("partnerOrderNo", q.PartnerOrderNo, 32, true),
		checkAmount(q.OrderAmount),
		checkLen("orderTitle", q.OrderTitle, 100, false),
		checkLen("operatorId", q.OperatorID, 20, false),
		checkLen("terminalNo", q.TerminalNo, 20, false),
		checkLen("notifyUrl", q.NotifyURL, 200, false),
	} {
		if c != nil {
			return c
		}
	}
	return nil
}

// wallet reads a wallet name as the gateway spells it.
func wallet(w string) (string, bool) {
	switch strings.ToLower(strings.TrimSpace(w)) {
	case "alipay":
		return "Alipay", true
	case "wechat":
		return "Wechat", true
	}
	return "", false
}

func (s *Sim) handleCreate(op string, c call) (result, *refusal, bool) {
	var q orderRequest
	if rej := decode(c.body, &q); rej != nil {
		return nil, rej, false
	}
	if rej := s.checkOrder(q); rej != nil {
		return nil, rej, false
	}
	w, ok := wallet(q.Wallet)
	if !ok {
		return nil, badParam("wallet", "must be Alipay or Wechat"), false
	}
	s.mu.Lock()
	o, rej := s.newOrder(q)
	if rej != nil {
		s.mu.Unlock()
		return nil, rej, false
	}
	o.wallet = w
	o.qrcode = s.baseURL + "/sim/pay/" + o.orderNo
	drop := s.dice.Chance(s.cfg.CommitDropRate)
	s.mu.Unlock()
	s.log.Info("order created", "order_no", o.orderNo, "partner_order_no", o.partnerOrderNo, "wallet", w, "order_amount", o.amount)
	return result{
		"code": scanforpay.CodeSuccess, "msg": "success", "orderNo": o.orderNo, "partnerOrderNo": o.partnerOrderNo,
		"qrcode":       o.qrcode,
		"qrcodeImageS": o.qrcode + "?picSize=S", "qrcodeImageM": o.qrcode + "?picSize=M", "qrcodeImageL": o.qrcode + "?picSize=L",
	}, nil, drop
}

// payURLRequest is the plugin's create: an order's fields, its currency
// and where to send the customer back.
type payURLRequest struct {
	orderRequest
	Currency  string `json:"currency"`
	ReturnURL string `json:"returnUrl"`
}

// handlePayURL creates an order as the plugin asks and answers its
// payUrl: the customer page, where the customer pays.
func (s *Sim) handlePayURL(op string, c call) (result, *refusal, bool) {
	var q payURLRequest
	if rej := decode(c.body, &q); rej != nil {
		return nil, rej, false
	}
	if q.Currency != "" && q.Currency != s.cur.Code {
		return nil, badParam("currency", "must be the store's currency, "+s.cur.Code), false
	}
	res, rej, drop := s.handleCreate(op, call{header: c.header, body: mustJSON(q.orderRequest)})
	if rej == nil {
		res["payUrl"] = res["qrcode"]
	}
	return res, rej, drop
}

func mustJSON(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

// handleUnknownAPI refuses a call to an API the simulator does not have,
// in the gateway's signed envelope.
func (s *Sim) handleUnknownAPI(w http.ResponseWriter, r *http.Request) {
	c, rej := s.authenticate(w, r)
	if rej == nil {
		rej = refuse(CodeNoSuchAPI, "no such API: "+r.Method+" "+r.URL.Path)
	}
	s.log.Info("refused", "op", r.URL.Path, "code", rej.code, "reason", rej.msg)
	s.answer(w, c.header, result{"code": rej.code, "msg": rej.msg})
}

// newOrder stores a new unpaid order. Caller holds s.mu.
func (s *Sim) newOrder(q orderRequest) (*order, *refusal) {
	if s.byPartner[q.PartnerOrderNo] != nil {
		return nil, refuse(CodeDuplicateOrder, "partnerOrderNo "+strconv.Quote(q.PartnerOrderNo)+" is already used")
	}
	now := s.now()
	o := &order{
		orderNo: s.newOrderNo(now), partnerOrderNo: q.PartnerOrderNo, barcode: q.Barcode, amount: q.OrderAmount.Value,
		title: q.OrderTitle, operatorID: q.OperatorID, terminalNo: q.TerminalNo, notifyURL: q.NotifyURL, created: now,
		status: scanforpay.StatusUnpaid,
	}
	s.orders = append(s.orders, o)
	s.byNo[o.orderNo] = o
	s.byPartner[o.partnerOrderNo] = o
	return o, nil
}

// handlePay takes a barcode payment. Like a wallet asking its user to
// confirm, the order waits (status 0) until the customer page pays or
// declines it; the result comes by notification or query.
func (s *Sim) handlePay(op string, c call) (result, *refusal, bool) {
	var q orderRequest
	if rej := decode(c.body, &q); rej != nil {
		return nil, rej, false
	}
	if rej := s.checkOrder(q); rej != nil {
		return nil, rej, false
	}
	if q.Barcode == "" {
		return nil, badParam("barcode", "is required"), false
	}
	if len(q.Barcode) < 10 || len(q.Barcode) > 20 || strings.Trim(q.Barcode, "0123456789") != "" {
		return nil, refuse(CodeBadBarcode, "barcode is not a wallet payment code"), false
	}
	s.mu.Lock()
	o, rej := s.newOrder(q)
	if rej != nil {
		s.mu.Unlock()
		return nil, rej, false
	}
	o.qrcode = s.baseURL + "/sim/pay/" + o.orderNo // the customer's confirmation page
	o.wallet = walletOfBarcode(q.Barcode)
	drop := s.dice.Chance(s.cfg.CommitDropRate)
	s.mu.Unlock()
	s.log.Info("barcode payment waiting for the customer", "order_no", o.orderNo, "partner_order_no", o.partnerOrderNo, "order_amount", o.amount)
	return result{"code": scanforpay.CodeSuccess, "msg": "success", "orderNo": o.orderNo, "partnerOrderNo": o.partnerOrderNo}, nil, drop
}

// walletOfBarcode is the wallet ScanForPay tells from a payment code:
// WeChat Pay's codes begin 10-15 (the wallets' published ranges), and
// Alipay takes the rest it accepts.
func walletOfBarcode(code string) string {
	if code[0] == '1' && code[1] >= '0' && code[1] <= '5' {
		return "Wechat"
	}
	return "Alipay"
}

func (s *Sim) handleQuery(op string, c call) (result, *refusal, bool) {
	var q struct {
		StoreNo        string `json:"storeNo"`
		PartnerOrderNo string `json:"partnerOrderNo"`
		OrderNo        string `json:"orderNo"`
	}
	if rej := decode(c.body, &q); rej != nil {
		return nil, rej, false
	}
	if rej := s.checkStore(q.StoreNo); rej != nil {
		return nil, rej, false
	}
	if q.PartnerOrderNo == "" && q.OrderNo == "" {
		return nil, badParam("partnerOrderNo", "or orderNo is required"), false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.byPartner[q.PartnerOrderNo]
	if q.OrderNo != "" { // orderNo wins when both are given
		o = s.byNo[q.OrderNo]
	}
	if o == nil {
		return nil, refuse(CodeOrderNotFound, "订单不存在"), false
	}
	s.settle(o, s.now())
	return s.payment(o), nil, false
}

// payment is an order as payQuery and notifications describe it. Caller
// holds s.mu.
func (s *Sim) payment(o *order) result {
	r := result{
		"code": scanforpay.CodeSuccess, "msg": "success", "orderNo": o.orderNo, "partnerOrderNo": o.partnerOrderNo,
		"orderAmount": o.amount, "wallet": o.wallet, "currency": s.cur.Code, "status": o.status,
		"payTime": fmtTime(o.paid), "buyer": "", "buyerId": "",
	}
	if !o.paid.IsZero() {
		r["buyer"], r["buyerId"] = "sim***@example.com", "2088"+o.orderNo[len(o.orderNo)-8:]
	}
	return r
}

func (s *Sim) handleRefund(op string, c call) (result, *refusal, bool) {
	var q struct {
		PartnerOrderNo string          `json:"partnerOrderNo"`
		RefundNo       string          `json:"refundNo"`
		OrderAmount    scanforpay.Flex `json:"orderAmount"`
		OperatorID     string          `json:"operatorId"`
		TerminalNo     string          `json:"terminalNo"`
	}
	if rej := decode(c.body, &q); rej != nil {
		return nil, rej, false
	}
	for _, rej := range []*refusal{
		checkLen("partnerOrderNo", q.PartnerOrderNo, 32, true),
		checkLen("refundNo", q.RefundNo, 32, true),
		checkAmount(q.OrderAmount),
	} {
		if rej != nil {
			return nil, rej, false
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.byPartner[q.PartnerOrderNo]
	if o == nil {
		return nil, refuse(CodeOrderNotFound, "订单不存在"), false
	}
	now := s.now()
	s.settle(o, now)
	if s.refunds[q.RefundNo] != nil {
		return nil, refuse(CodeDuplicateRefund, "refundNo "+strconv.Quote(q.RefundNo)+" is already used"), false
	}
	done, dealing := o.refunded()
	remaining := o.amount - done - dealing
	switch {
	case o.status == scanforpay.StatusRefunded || (o.status == scanforpay.StatusPaid && remaining <= 0):
		return nil, refuse(CodeFullyRefunded, "the order is already refunded in full"), false
	case o.status != scanforpay.StatusPaid:
		return nil, refuse(CodeNotPaid, "the order is not paid"), false
	case q.OrderAmount.Value > remaining:
		return nil, refuse(CodeRefundTooLarge, "orderAmount "+strconv.FormatInt(q.OrderAmount.Value, 10)+" is more than the "+strconv.FormatInt(remaining, 10)+" left to refund"), false
	}
	r := &refund{refundNo: q.RefundNo, orig: o, amount: q.OrderAmount.Value, status: scanforpay.RefundDone}
	if s.dice.Chance(s.cfg.RefundDealingRate) {
		r.status, r.dueAt = scanforpay.RefundDealing, now.Add(s.cfg.RefundDelay)
	}
	o.refunds = append(o.refunds, r)
	s.refunds[r.refundNo] = r
	if done+r.amount == o.amount && r.status == scanforpay.RefundDone {
		o.status = scanforpay.StatusRefunded
	}
	s.log.Info("refund", "refund_no", r.refundNo, "partner_order_no", o.partnerOrderNo, "order_amount", r.amount, "status", r.status)
	return result{"code": scanforpay.CodeSuccess, "msg": "success", "orderAmount": r.amount, "currency": s.cur.Code, "status": r.status}, nil, false
}
