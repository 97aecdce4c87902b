package kiosk

import (
	"context"
	"net/url"
	"sync"
	"time"

	"qrkiosk/internal/receipt"
	"qrkiosk/payment"
	"qrkiosk/relay/wire"
)

// EReceiptWait bounds how long the relay may take to keep a receipt:
// later, the customer has left the counter and no receipt QR shows.
const EReceiptWait = 5 * time.Second

// maxEReceipts is how many receipts may be on their way to the relay at
// once; a sale past it gets none (each takes a round trip, so only a relay
// that does not answer fills them).
const maxEReceipts = 4

// eReceipts sends each paid sale's receipt to the relay, which keeps it
// for the customer, and tells the screens its link.
type eReceipts struct {
	mu       sync.Mutex
	watchers map[*func(outTradeNo, link string)]struct{}
	inFlight chan struct{}
	wg       sync.WaitGroup // receipts on their way; Close waits for them
}

func newEReceipts() *eReceipts {
	return &eReceipts{watchers: map[*func(string, string)]struct{}{}, inFlight: make(chan struct{}, maxEReceipts)}
}

// OnEReceipt calls fn (on a goroutine of the kiosk's) with a paid sale's
// e-receipt link once the relay keeps it, until stop. A sale gets none
// without a relay, or when the relay cannot keep it: nothing else changes.
func (k *Kiosk) OnEReceipt(fn func(outTradeNo, link string)) (stop func()) {
	e := k.ereceipts
	e.mu.Lock()
	defer e.mu.Unlock()
	e.watchers[&fn] = struct{}{}
	return func() {
		e.mu.Lock()
		delete(e.watchers, &fn)
		e.mu.Unlock()
	}
}

// sendEReceipt sends a paid sale's receipt, off the machine's goroutine.
func (k *Kiosk) sendEReceipt(snap payment.Snapshot) {
	if k.relay == nil || !k.ereceipts.watched() {
		return // nobody shows it (a subcommand): the relay keeps nothing
	}
	select {
	case k.ereceipts.inFlight <- struct{}{}:
	default:
		k.log.Warn("e-receipt not sent: the relay has not answered the last ones", "out_trade_no", snap.OutTradeNo)
		return
	}
	k.ereceipts.wg.Add(1)
	go func() {
		defer func() { <-k.ereceipts.inFlight; k.ereceipts.wg.Done() }()
		ctx, cancel := context.WithTimeout(k.ordersCtx, EReceiptWait)
		defer cancel()
		s, err := k.SaleSlip(ctx, snap.OutTradeNo)
		if err != nil {
			s = k.saleSlip(orderOf(snap), time.Now()) // the journal keeps what it could not write yet
		}
		link, err := k.relay.PutReceipt(ctx, wireReceipt(s, k.Journal.Location()))
		if err == nil {
			err = checkLink(link)
		}
		if err != nil {
			k.log.Info("no e-receipt for the sale", "out_trade_no", snap.OutTradeNo, "err", err)
			return
		}
		k.log.Info("e-receipt kept by the relay", "out_trade_no", snap.OutTradeNo)
		k.ereceipts.tell(snap.OutTradeNo, link)
	}()
}

func (e *eReceipts) watched() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.watchers) > 0
}

func (e *eReceipts) tell(outTradeNo, link string) {
	e.mu.Lock()
	fns := make([]func(string, string), 0, len(e.watchers))
	for fn := range e.watchers {
		fns = append(fns, *fn)
	}
	e.mu.Unlock()
	for _, fn := range fns {
		fn(outTradeNo, link)
	}
}

// maxLink bounds a link the customer screen draws as a QR: a small one.
const maxLink = 300

// checkLink refuses a link the relay should never give: the customer
// screen shows it as a QR to scan, so only an http(s) page of its size.
func checkLink(link string) error {
	u, err := url.Parse(link)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(link) > maxLink {
		return &payment.FieldError{Field: "url", Value: link, Rule: "must be an http(s) link of at most 300 bytes"}
	}
	return nil
}

// wireReceipt is a slip as the relay keeps it, its time in the shop's zone.
func wireReceipt(s receipt.Slip, zone *time.Location) wire.Receipt {
	r := wire.Receipt{Kind: wire.ReceiptSale, Merchant: s.Merchant, Time: s.Time.In(zone).Truncate(time.Second), Amount: s.Amount,
		Currency: s.Currency.Code, Wallet: wire.Names{En: s.Wallet.En, ZhHant: s.Wallet.ZhHant, ZhHans: s.Wallet.ZhHans},
		Refunded: s.Refunded, SysSN: s.SysSN, OutTradeNo: s.OutTradeNo, POSRef: s.POSRef, OrigSysSN: s.OrigSysSN}
	switch {
	case s.Kind == receipt.Refund:
		r.Kind, r.Refunded = wire.ReceiptRefund, 0
	case s.Status == receipt.Refunded:
		r.Status = wire.ReceiptRefunded
	case s.Status == receipt.PartlyRefunded:
		r.Status = wire.ReceiptPartlyRefunded
	default:
		r.Status = wire.ReceiptPaid
	}
	return r
}
