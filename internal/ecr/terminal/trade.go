package terminal

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"qrkiosk/internal/ecr"
	"qrkiosk/internal/journal"
	"qrkiosk/internal/kiosk"
	"qrkiosk/payment"
)

// settleMargin is how long after its window a sale may take to settle (a
// final query, a withdrawal, their retries) before the POS's request,
// held open meanwhile, is answered.
const settleMargin = 3 * time.Minute

// trade carries out a payment (1001). The request is held open until the
// sale is final, because that is how a failure reaches the POS: QFPay
// notifies successes only. Paid: 6000 with the payment's data (and the
// notice to the webhook); cancelled at the kiosk: 6001; failed or not paid
// in time: an error the cashier reads. A POS that sends the same
// out_trade_no again (it retried after a timeout) attaches to the first
// sale and gets its outcome: never a second order.
func (t *Terminal) trade(w http.ResponseWriter, r *http.Request, p *ecr.Payment) ecr.Answer {
	pt, err := t.payType(p)
	if err != nil {
		return t.refuse(r.RemoteAddr, "trade", ecr.AnswerFor(err))
	}
	expiry, wait := t.window(p)
	hold(w, wait+payment.CPMConfirmWindow+settleMargin)
	f, a := t.startOrAttach(r.Context(), p, pt, expiry, wait)
	if a.Respcd != "" {
		return a
	}
	return t.await(r.Context(), f)
}

// follow is one POS payment being followed: its order, or the wait for the
// customer's code it starts as, or a sale already over.
type follow struct {
	ref    string
	order  *payment.Order
	ticket *kiosk.WaitTicket
	over   *journal.Order
}

// payType is the pay type the POS's channel asks for: the first of its
// wallets this kiosk enables for a QR, or its scanned-code pay type.
func (t *Terminal) payType(p *ecr.Payment) (payment.PayType, error) {
	ch := p.Channel
	if p.Scan == ecr.ScanCode {
		if _, ok := t.k.Gateway.(payment.CPMGateway); ok {
			for _, c := range payment.PayTypesOf(t.k.Gateway) {
				if c.Mode == payment.CPM && c.Wallet == ch.CPMWallet+"-cpm" {
					return c, nil
				}
			}
		}
		return payment.PayType{}, &ecr.RequestError{Kind: ecr.ErrBadChannel, Field: "channel", Value: ch.Name,
			Rule: "cannot be charged by the customer's code on this kiosk's gateway: send scan_type QRCODE_PAY"}
	}
	var enabled []string
	for _, e := range t.k.Config.PayTypes {
		enabled = append(enabled, e.Wallet)
		for _, w := range ch.MPMWallets {
			if e.Wallet == w {
				return e, nil
			}
		}
	}
	return payment.PayType{}, &ecr.RequestError{Kind: ecr.ErrBadChannel, Field: "channel", Value: ch.Name,
		Rule: "is not enabled on this kiosk (its wallets: " + strings.Join(enabled, ", ") + "; pay_types in config.toml)"}
}

// window is the QR's expiry (payment_timeout rounded up to whole minutes
// within the gateway's bounds, else the kiosk's) and how long the sale is
// offered: payment_timeout itself, withdrawn then if the QR lives longer.
func (t *Terminal) window(p *ecr.Payment) (expiry, wait time.Duration) {
	expiry = t.k.Config.Expiry
	if p.Timeout <= 0 {
		return expiry, expiry
	}
	mins := (p.Timeout + time.Minute - 1) / time.Minute
	mins = max(payment.MinExpiryMinutes, min(payment.MaxExpiryMinutes, mins))
	return mins * time.Minute, p.Timeout
}

// startOrAttach starts the POS's sale, or finds the one it sent before
// under the same out_trade_no.
func (t *Terminal) startOrAttach(ctx context.Context, p *ecr.Payment, pt payment.PayType, expiry, wait time.Duration) (follow, ecr.Answer) {
	t.startMu.Lock()
	defer t.startMu.Unlock()
	j := t.k.Journal
	ref := p.OutTradeNo
	if ref != "" {
		if tk := t.waits[ref]; tk != nil {
			return follow{ref: ref, ticket: tk}, ecr.Answer{}
		}
		s, err := j.POSSale(ctx, ref)
		switch {
		case err == nil && s.Order != nil:
			if s.Order.Amount.Minor != p.Amount.Minor {
				return follow{}, ecr.Refused(ecr.CodeBadParams, fmt.Sprintf("out_trade_no %s was sent before for %s; a new sale needs a new out_trade_no", ref, s.Order.Amount.Display()))
			}
			t.log.Info("ecr: the POS sent a sale again; following the first", "pos_ref", ref, "out_trade_no", s.Order.OutTradeNo)
			if o, ok := t.k.Order(s.Order.OutTradeNo); ok {
				return follow{ref: ref, order: o}, ecr.Answer{}
			}
			return follow{ref: ref, over: s.Order}, ecr.Answer{}
		case err != nil && !errors.Is(err, journal.ErrNotFound):
			t.log.Error("ecr: reading the journal", "err", err)
			return follow{}, ecr.Refused(ecr.CodeOther, "the kiosk cannot read its journal: nothing was charged")
		}
	}
	now := j.Now()
	otn := ref
	if otn == "" {
		otn = payment.NewOutTradeNo("QK", now)
		ref = otn
	} else if _, err := j.Order(ctx, otn); err == nil {
		// The kiosk's own sale has that number: the POS's is another.
		return follow{}, ecr.Refused(ecr.CodeBadParams, "out_trade_no "+otn+" is a sale the kiosk rang up itself; send the POS's own reference")
	}
	if err := j.RecordPOSSale(ctx, ref, otn); err != nil {
		t.log.Error("ecr: the POS's sale not recorded", "pos_ref", ref, "err", err)
		return follow{}, ecr.Refused(ecr.CodeOther, "the kiosk could not record the sale, so nothing was charged")
	}
	if p.Scan == ecr.ScanCode {
		tk, err := t.k.Till.AskForCode(kiosk.Wait{Amount: p.Amount, POSRef: ref, OutTradeNo: otn, FromPOS: true, PayType: pt})
		if err != nil {
			return follow{}, ecr.Refused(ecr.CodeRequestError, err.Error())
		}
		t.waits[ref] = tk
		t.wg.Add(1)
		go t.watchWait(ref, tk, wait)
		return follow{ref: ref, ticket: tk}, ecr.Answer{}
	}
	s, err := t.k.Till.Start(payment.CreateRequest{OutTradeNo: otn, Amount: p.Amount, PayType: pt, Expiry: expiry,
		GoodsName: t.k.Config.MerchantName, TxTime: now}, ref, true)
	var fe *payment.FieldError
	switch {
	case errors.Is(err, kiosk.ErrBusy):
		return follow{}, ecr.Refused(ecr.CodeRequestError, err.Error())
	case errors.As(err, &fe):
		return follow{}, ecr.Refused(ecr.CodeBadParams, fe.Error())
	case err != nil:
		t.log.Error("ecr: the POS's sale not started", "pos_ref", ref, "err", err)
		return follow{}, ecr.Refused(ecr.CodeOther, "the kiosk could not start the sale, so nothing was charged")
	}
	if wait < expiry {
		t.wg.Add(1)
		go t.withdrawAt(ref, s.Order, wait)
	}
	return follow{ref: ref, order: s.Order}, ecr.Answer{}
}

// watchWait ends a wait for the customer's code that outlives the POS's
// payment_timeout (or the kiosk).
func (t *Terminal) watchWait(ref string, tk *kiosk.WaitTicket, d time.Duration) {
	defer t.wg.Done()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-tk.Done():
	case <-timer.C:
		t.setTimedOut(ref)
		t.k.Till.EndWait(tk.ID(), "the customer's code was not scanned within "+d.String())
	case <-t.ctx.Done():
		t.k.Till.EndWait(tk.ID(), "the kiosk is closing")
	}
	t.startMu.Lock()
	delete(t.waits, ref)
	t.startMu.Unlock()
}

// withdrawAt withdraws a sale still unpaid when payment_timeout passes.
func (t *Terminal) withdrawAt(ref string, o *payment.Order, d time.Duration) {
	defer t.wg.Done()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-o.Done():
	case <-t.ctx.Done():
	case <-timer.C:
		if !o.Snapshot().State.Final() {
			t.setTimedOut(ref)
			o.Cancel()
		}
	}
}

func (t *Terminal) setTimedOut(ref string) {
	t.startMu.Lock()
	t.timedOut[ref] = true
	t.startMu.Unlock()
}

func (t *Terminal) wasTimedOut(ref string) bool {
	t.startMu.Lock()
	defer t.startMu.Unlock()
	return t.timedOut[ref]
}

// closingAnswer is what a request held while the kiosk closes gets.
var closingAnswer = ecr.Refused(ecr.CodeRequestError, "the kiosk is closing; a payment made is still sent to the POS's webhook")

// await waits until the sale is final and answers its outcome; the zero
// answer when the POS went away meanwhile (the sale goes on, and a
// payment still reaches its webhook).
func (t *Terminal) await(ctx context.Context, f follow) ecr.Answer {
	if f.ticket != nil {
		select {
		case <-f.ticket.Done():
		case <-ctx.Done():
			return ecr.Answer{}
		case <-t.ctx.Done():
			return closingAnswer
		}
		s, err := f.ticket.Result()
		switch {
		case err != nil && t.wasTimedOut(f.ref):
			return ecr.Refused(ecr.CodeRequestError, err.Error())
		case err != nil:
			return ecr.Cancelled(err.Error())
		}
		f.order = s.Order
	}
	if f.order != nil {
		snap, ok := waitFinal(ctx, t.ctx, f.order)
		switch {
		case ctx.Err() != nil:
			return ecr.Answer{}
		case !ok:
			return closingAnswer
		}
		o, err := t.journaled(ctx, snap.OutTradeNo)
		if err != nil {
			t.log.Error("ecr: reading the sale's record", "out_trade_no", snap.OutTradeNo, "err", err)
			return ecr.Refused(ecr.CodeOther, "the kiosk cannot read its journal")
		}
		f.over = &o
	}
	return t.outcome(ctx, f.ref, *f.over)
}

// journaled is the sale's record once the journal has its final state.
// The machine shows a state in its snapshot just before its observers (the
// journal's first) record it, so a final snapshot can briefly come with a
// record that is not final yet: read again for a moment rather than tell
// the POS a paid sale is "still being settled".
func (t *Terminal) journaled(ctx context.Context, outTradeNo string) (journal.Order, error) {
	until := time.Now().Add(2 * time.Second)
	for {
		o, err := t.k.Journal.Order(ctx, outTradeNo)
		if err != nil || o.State.Final() || time.Now().After(until) {
			return o, err
		}
		select {
		case <-time.After(10 * time.Millisecond):
		case <-ctx.Done():
			return o, nil
		}
	}
}

// waitFinal waits for o's final state; ok false when ctx or stop ended
// first (or the machine stopped unsettled, at shutdown).
func waitFinal(ctx, stop context.Context, o *payment.Order) (payment.Snapshot, bool) {
	changed := make(chan struct{}, 1)
	unobserve := o.Observe(func(payment.Event) {
		select {
		case changed <- struct{}{}:
		default:
		}
	})
	defer unobserve()
	for {
		if s := o.Snapshot(); s.State.Final() {
			return s, true
		}
		select {
		case <-changed:
		case <-o.Closed():
			s := o.Snapshot()
			return s, s.State.Final()
		case <-ctx.Done():
			return payment.Snapshot{}, false
		case <-stop.Done():
			return payment.Snapshot{}, false
		}
	}
}

// outcome answers a final sale, the same however often it is asked.
func (t *Terminal) outcome(ctx context.Context, ref string, o journal.Order) ecr.Answer {
	if !o.State.Final() {
		return ecr.Refused(ecr.CodeRequestError, "this sale is still being settled with the gateway: ask again in a minute")
	}
	if o.State == payment.StatePaid && !o.Late {
		a, err := ecr.Accepted(t.paid(ctx, ref, o))
		if err != nil {
			return ecr.Refused(ecr.CodeOther, "the kiosk could not write the payment's data")
		}
		return a
	}
	if err := t.k.Journal.MarkPOSSaleDone(ref); err != nil {
		t.log.Warn("ecr: marking the POS's sale settled", "pos_ref", ref, "err", err)
	}
	amt := o.Amount.Display()
	switch {
	case o.State == payment.StatePaid:
		return ecr.Refused(ecr.CodeRequestError, "this sale of "+amt+" ended unpaid at the kiosk and the customer paid after it ended: the kiosk's paid-late banner says what to do")
	case o.State == payment.StateCancelled && t.wasTimedOut(ref):
		return ecr.Refused(ecr.CodeRequestError, "the customer did not pay "+amt+" within payment_timeout; the sale was withdrawn")
	case o.State == payment.StateCancelled:
		return ecr.Cancelled("cancelled at the kiosk")
	case o.State == payment.StateExpired:
		return ecr.Refused(ecr.CodeRequestError, "the customer did not pay "+amt+" in time: the QR expired")
	}
	why := "the payment of " + amt + " failed"
	if o.Reason != "" {
		why += ": " + o.Reason
	}
	if o.Code != "" {
		why += " (respcd " + string(o.Code) + ")"
	}
	return ecr.Refused(ecr.CodeRequestError, why)
}
