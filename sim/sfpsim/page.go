package sfpsim

import (
	"errors"
	"net/http"

	"qrkiosk/payment"
	"qrkiosk/payment/scanforpay"
	"qrkiosk/sim/simpage"
)

// walletNames are the wallets as the customer sees them.
var walletNames = map[string][2]string{
	"Alipay": {"Alipay", "支付寶"},
	"Wechat": {"WeChat Pay", "微信支付"},
	"":       {"Payment code", "付款碼"}, // a barcode payment before a wallet confirmed it
}

func (s *Sim) stateTexts(o *order) (string, string) {
	done, dealing := o.refunded()
	switch o.status {
	case scanforpay.StatusPaid:
		if done+dealing > 0 {
			return "Paid, " + payment.Amount{Minor: done + dealing, Currency: s.cur}.Display() + " refunded", "已付款（部分退款）"
		}
		return "Paid", "已付款"
	case scanforpay.StatusRefunded:
		return "Refunded", "已退款"
	case scanforpay.StatusFailed:
		return "Declined", "付款失敗"
	}
	if o.barcode != "" {
		return "Confirm the payment in your wallet", "請在錢包中確認付款"
	}
	// No expiry at ScanForPay: an unpaid QR stays payable.
	return "Waiting for payment", "等待付款"
}

// view builds the page for o. Caller holds s.mu.
func (s *Sim) view(o *order) simpage.Page {
	en, zh := s.stateTexts(o)
	names := walletNames[o.wallet]
	return simpage.Page{
		Title:     "ScanForPay simulator",
		Amount:    payment.Amount{Minor: o.amount, Currency: s.cur}.Display(),
		WalletEn:  names[0],
		WalletZh:  names[1],
		GoodsName: o.title,
		State:     en,
		StateZh:   zh,
		Live:      o.status == scanforpay.StatusUnpaid,
		Actions: []simpage.Action{
			{Label: "Pay · 付款", Path: "../pay/" + o.orderNo, Kind: simpage.Pay},
			{Label: "Decline · 拒絕", Path: "../decline/" + o.orderNo, Kind: simpage.Decline},
		},
		Refs: []simpage.Ref{{Name: "partnerOrderNo", Value: o.partnerOrderNo}, {Name: "orderNo", Value: o.orderNo}},
	}
}

// customerResult is the JSON answer of the customer endpoints.
type customerResult struct {
	OrderNo string `json:"orderNo"`
	Status  int    `json:"status"`
	Error   string `json:"error,omitempty"`
}

func (s *Sim) handlePage(w http.ResponseWriter, r *http.Request) {
	s.respondCustomer(w, r, r.PathValue("orderNo"), http.StatusOK, "")
}

func (s *Sim) handleCustomer(pay bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		no := r.PathValue("orderNo")
		var err error
		msg := "Payment done. 付款完成。"
		if pay {
			err = s.Pay(no)
		} else {
			err, msg = s.Decline(no), "Payment declined. 付款已拒絕。"
		}
		status := http.StatusOK
		switch {
		case errors.Is(err, ErrUnknownOrder):
			status = http.StatusNotFound
		case errors.Is(err, ErrNotPayable):
			status, msg = http.StatusConflict, "Nothing done: this order is no longer waiting for payment."
		}
		s.respondCustomer(w, r, no, status, msg)
	}
}

// respondCustomer answers with the order's page (or JSON when asked).
func (s *Sim) respondCustomer(w http.ResponseWriter, r *http.Request, no string, status int, msg string) {
	s.mu.Lock()
	o := s.byNo[no]
	if o == nil {
		s.mu.Unlock()
		simpage.NotFound(w, r, customerResult{OrderNo: no, Error: "no such order"})
		return
	}
	s.settle(o, s.now())
	v := s.view(o)
	res := customerResult{OrderNo: o.orderNo, Status: o.status}
	s.mu.Unlock()
	if status != http.StatusOK {
		res.Error = msg
	}
	simpage.Respond(w, r, status, msg, v, res)
}

func (s *Sim) handleOrders(w http.ResponseWriter, _ *http.Request) {
	simpage.WriteJSON(w, http.StatusOK, s.Orders())
}

func (s *Sim) handleRefunds(w http.ResponseWriter, _ *http.Request) {
	simpage.WriteJSON(w, http.StatusOK, s.Refunds())
}
