package qfpaysim

import (
	"errors"
	"net/http"

	"qrkiosk/payment"
	"qrkiosk/sim/simpage"
)

type customerAction int

const (
	actionPay customerAction = iota
	actionDecline
	actionExpire
)

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
func view(t *txn) simpage.Page {
	en, zh := stateTexts(t)
	pay := simpage.Action{Label: "Pay · 付款", Path: "../pay/" + t.sysSN, Kind: simpage.Pay}
	expire := simpage.Action{Label: "Let the QR expire now", Path: "../expire/" + t.sysSN, Kind: simpage.Minor}
	refs := []simpage.Ref{{Name: "out_trade_no", Value: t.outTradeNo}, {Name: "syssn", Value: t.sysSN}}
	if t.isCPM() {
		// No QR: the cashier scanned the customer's code; the page plays
		// the customer confirming on the phone.
		pay = simpage.Action{Label: "Confirm · 確認付款", Path: "../confirm/" + t.sysSN, Kind: simpage.Pay}
		expire.Label = "Let the order time out now"
		refs = append([]simpage.Ref{{Name: t.wallet.String() + " payment code", Value: maskCode(t.authCode)}}, refs...)
	}
	return simpage.Page{
		Title:     "QFPay simulator",
		Amount:    t.amount().Display(),
		WalletEn:  t.payType.Name.En,
		WalletZh:  t.payType.Name.ZhHant,
		GoodsName: t.goodsName,
		State:     en,
		StateZh:   zh,
		Live:      t.state == stateLive,
		Actions:   []simpage.Action{pay, {Label: "Decline · 拒絕", Path: "../decline/" + t.sysSN, Kind: simpage.Decline}, expire},
		Refs:      refs,
	}
}

// customerResult is the JSON answer of the customer endpoints.
type customerResult struct {
	SysSN  string       `json:"syssn"`
	Respcd payment.Code `json:"respcd"`
	State  string       `json:"state"`
	Error  string       `json:"error,omitempty"`
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
		simpage.NotFound(w, r, customerResult{SysSN: syssn, Error: "no such order"})
		return
	}
	s.settle(t, s.tick())
	v := view(t)
	res := customerResult{SysSN: t.sysSN, Respcd: t.respcd(), State: t.outcome().String()}
	s.mu.Unlock()

	if status != http.StatusOK {
		res.Error = msg
	}
	simpage.Respond(w, r, status, msg, v, res)
}

func (s *Sim) handleOrders(w http.ResponseWriter, _ *http.Request) {
	simpage.WriteJSON(w, http.StatusOK, s.Orders())
}
