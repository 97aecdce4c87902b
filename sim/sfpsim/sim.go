// Package sfpsim stands in for ScanForPay's gateway, for the demo and for
// tests.
//
// It speaks the API as the real gateway does: JSON envelopes whose signature is
// checked over the raw text of `request` with the partner's sign key,
// answers sealed the same way over `response`, `code` 1 for success,
// payment statuses 0-3, no expiry and no cancel (an unpaid order stays
// payable), refunds that may be "dealing" before they complete, barcode
// payments, and signed notifications to each order's notifyUrl, retried
// until answered `success`. A phone-friendly customer page pays or
// declines. It powers the kiosk's demo mode on ScanForPay and the
// end-to-end tests, with fault injection (latency, 5xx, dropped replies,
// lost and duplicated notifications, answers signed with another key).
package sfpsim

import (
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"qrkiosk/payment"
	"qrkiosk/payment/scanforpay"
	"qrkiosk/sim/simkit"
)

// The demo credentials: a fixed, documented set for the zero-config demo
// mode. They protect nothing; a real merchant's come from ScanForPay.
const (
	DemoPartnerNo = "DEMOPARTNER0001"
	DemoStoreNo   = "DEMOSTORE000001"
	DemoKey       = "DEMOSFPKEY0000000000000000000001"
)

// Config sets up a simulator. The zero value of every optional field is a
// sensible default.
type Config struct {
	// PartnerNo, StoreNo and Key are the merchant's: requests from another
	// partner, for another store, or with a bad signature are refused.
	PartnerNo, StoreNo, Key string
	// Currency is the store's currency, fixed at ScanForPay (orders carry
	// none); nil = HKD.
	Currency *payment.Currency
	// BaseURL is the public base of the customer page put in qrcode; it
	// may be set later with SetBaseURL.
	BaseURL string
	// AnswerKey, if set, signs answers and notifications instead of Key:
	// a gateway (or someone in the middle) whose word the kiosk must not
	// take.
	AnswerKey string
	// NotifyScale multiplies the notification retry schedule; 0 means 1.
	NotifyScale float64
	// Latency is added to every /api/ call.
	Latency time.Duration
	// Fail5xxRate (0..1): answer HTTP 502 to an /api/ call without doing
	// anything.
	Fail5xxRate float64
	// CommitDropRate (0..1): a create or barcode payment commits the order,
	// then drops the connection without any answer.
	CommitDropRate float64
	// NotifyDropRate (0..1): never send a payment's notification.
	NotifyDropRate float64
	// NotifyDupRate (0..1): send the notification twice.
	NotifyDupRate float64
	// RefundDealingRate (0..1): answer a refund "dealing" (status 0); it
	// completes RefundDelay later.
	RefundDealingRate float64
	// RefundDelay is how long a dealing refund takes; 0 = 3 s.
	RefundDelay time.Duration
	// Now is the clock; nil = time.Now.
	Now func() time.Time
	// Logger receives the simulator's log; nil = discard. Keys and
	// signatures are never logged.
	Logger *slog.Logger
	// Rand drives fault injection; nil = seeded from the clock.
	Rand *rand.Rand
}

// Order is a snapshot of one payment order at the simulated gateway.
type Order struct {
	OrderNo        string
	PartnerOrderNo string
	Wallet         string // "Alipay", "Wechat"; "" for a barcode payment until paid
	Barcode        string
	OrderAmount    int64
	Currency       string
	Status         int // scanforpay.Status*
	QRCode         string
	OrderTitle     string
	TerminalNo     string
	NotifyURL      string
	PayTime        string
	Refunded       int64 // refunds done
	RefundDealing  int64 // refunds still dealing
	Notified       int   // notification deliveries answered success
}

// Refund is a snapshot of one refund.
type Refund struct {
	RefundNo       string
	PartnerOrderNo string
	OrderAmount    int64
	Status         int // scanforpay.Refund*
}

// Errors of the customer-side operations (Pay, Decline).
var (
	ErrUnknownOrder = errors.New("sfpsim: no such order")
	ErrNotPayable   = errors.New("sfpsim: the order is not awaiting payment")
)

// gatewayZone is the gateway's clock zone for payTime (UTC+8).
var gatewayZone = payment.HongKong

// order is one payment at the gateway.
type order struct {
	orderNo        string
	partnerOrderNo string
	wallet         string
	barcode        string
	amount         int64
	title          string
	operatorID     string
	terminalNo     string
	notifyURL      string
	qrcode         string
	created        time.Time
	paid           time.Time
	status         int
	refunds        []*refund
	notified       int
}

type refund struct {
	refundNo string
	orig     *order
	amount   int64
	status   int
	dueAt    time.Time // a dealing refund completes then
}

// refunded sums refunds done; dealing those still in progress.
func (o *order) refunded() (done, dealing int64) {
	for _, r := range o.refunds {
		switch r.status {
		case scanforpay.RefundDone:
			done += r.amount
		case scanforpay.RefundDealing:
			dealing += r.amount
		}
	}
	return done, dealing
}

// Sim is the simulated gateway: an http.Handler serving the API, the
// customer page and a few helper endpoints. It is safe for concurrent use.
type Sim struct {
	cfg      Config
	cur      payment.Currency
	log      *slog.Logger
	now      func() time.Time
	mux      *http.ServeMux
	dice     *simkit.Dice
	notifier *simkit.Notifier

	mu        sync.Mutex
	baseURL   string
	serial    uint64
	orders    []*order
	byNo      map[string]*order // orderNo
	byPartner map[string]*order // partnerOrderNo
	refunds   map[string]*refund
}

// New builds a simulator. Call Close when done to stop notification
// delivery.
func New(cfg Config) *Sim {
	if cfg.NotifyScale <= 0 {
		cfg.NotifyScale = 1
	}
	if cfg.RefundDelay <= 0 {
		cfg.RefundDelay = 3 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cur, _ := payment.LookupCurrency("HKD")
	if cfg.Currency != nil {
		cur = *cfg.Currency
	}
	s := &Sim{
		cfg:       cfg,
		cur:       cur,
		log:       cfg.Logger,
		now:       cfg.Now,
		dice:      simkit.NewDice(cfg.Rand),
		notifier:  simkit.NewNotifier(notifySchedule, cfg.NotifyScale, cfg.Logger),
		baseURL:   strings.TrimRight(cfg.BaseURL, "/"),
		byNo:      map[string]*order{},
		byPartner: map[string]*order{},
		refunds:   map[string]*refund{},
	}
	// The serial starts from the clock so a restarted simulator does not
	// hand out the same order numbers again.
	if us := cfg.Now().UnixMicro(); us > 0 {
		s.serial = uint64(us) % 1e9
	}
	s.routes()
	return s
}

// ServeHTTP serves the gateway API and the customer page.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// SetBaseURL sets the public base of the customer page used in new
// orders' qrcode.
func (s *Sim) SetBaseURL(u string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.baseURL = strings.TrimRight(u, "/")
}

// Close stops notification delivery and waits for its goroutines.
func (s *Sim) Close() { s.notifier.Close() }

// answerKey is the key answers and notifications are signed with.
func (s *Sim) answerKey() string {
	if s.cfg.AnswerKey != "" {
		return s.cfg.AnswerKey
	}
	return s.cfg.Key
}

// Orders returns a snapshot of every order, in creation order.
func (s *Sim) Orders() []Order {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	out := []Order{}
	for _, o := range s.orders {
		s.settle(o, now)
		out = append(out, s.snapshot(o))
	}
	return out
}

// Refunds returns a snapshot of every refund.
func (s *Sim) Refunds() []Refund {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	out := []Refund{}
	for _, o := range s.orders {
		s.settle(o, now)
		for _, r := range o.refunds {
			out = append(out, Refund{RefundNo: r.refundNo, PartnerOrderNo: o.partnerOrderNo, OrderAmount: r.amount, Status: r.status})
		}
	}
	return out
}

// snapshot copies an order. Caller holds s.mu.
func (s *Sim) snapshot(o *order) Order {
	done, dealing := o.refunded()
	return Order{
		OrderNo: o.orderNo, PartnerOrderNo: o.partnerOrderNo, Wallet: o.wallet, Barcode: o.barcode,
		OrderAmount: o.amount, Currency: s.cur.Code, Status: o.status, QRCode: o.qrcode, OrderTitle: o.title,
		TerminalNo: o.terminalNo, NotifyURL: o.notifyURL, PayTime: fmtTime(o.paid), Refunded: done, RefundDealing: dealing,
		Notified: o.notified,
	}
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(gatewayZone).Format(time.RFC3339)
}

// Pay completes an unpaid order as if the customer confirmed it in the
// wallet, and sends the notification.
func (s *Sim) Pay(orderNo string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, err := s.unpaid(orderNo)
	if err != nil {
		return err
	}
	o.status, o.paid = scanforpay.StatusPaid, s.now()
	s.log.Info("order paid", "order_no", o.orderNo, "partner_order_no", o.partnerOrderNo)
	s.notifyLocked(o)
	return nil
}

// Decline fails an unpaid order as a wallet refusing it would.
func (s *Sim) Decline(orderNo string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, err := s.unpaid(orderNo)
	if err != nil {
		return err
	}
	o.status = scanforpay.StatusFailed
	s.log.Info("order declined", "order_no", o.orderNo, "partner_order_no", o.partnerOrderNo)
	return nil
}

// unpaid finds an order that can still be paid. Caller holds s.mu.
func (s *Sim) unpaid(orderNo string) (*order, error) {
	o := s.byNo[orderNo]
	if o == nil {
		return nil, fmt.Errorf("%w: orderNo %q", ErrUnknownOrder, orderNo)
	}
	if o.status != scanforpay.StatusUnpaid {
		return o, fmt.Errorf("%w: order %s has status %d", ErrNotPayable, o.orderNo, o.status)
	}
	return o, nil
}

// settle completes dealing refunds that are due, lazily, so an injected
// clock needs no timers. Caller holds s.mu.
func (s *Sim) settle(o *order, now time.Time) {
	changed := false
	for _, r := range o.refunds {
		if r.status == scanforpay.RefundDealing && !now.Before(r.dueAt) {
			r.status = scanforpay.RefundDone
			changed = true
			s.log.Info("refund done", "refund_no", r.refundNo, "partner_order_no", o.partnerOrderNo, "order_amount", r.amount)
		}
	}
	if changed {
		if done, _ := o.refunded(); done == o.amount {
			o.status = scanforpay.StatusRefunded
		}
	}
}

// newOrderNo returns the gateway's order number: the gateway time to the
// second and a serial, like the documentation's "2018072517535241".
// Caller holds s.mu.
func (s *Sim) newOrderNo(now time.Time) string {
	s.serial = (s.serial + 1) % 1e9
	return now.In(gatewayZone).Format("20060102150405") + fmt.Sprintf("%09d", s.serial)
}
