// Package qfpaysim is a QFPay-compatible gateway simulator. It speaks the
// trade/v1 wire protocol exactly (form-encoded requests signed with the
// client key, JSON answers with numbers as strings, signed JSON
// notifications with QFPay's retry schedule) and adds a phone-friendly
// customer page where a "customer" pays or declines. It powers the kiosk's
// zero-config demo mode and the end-to-end tests, with optional fault
// injection (latency, 5xx, dropped replies, lost and duplicated
// notifications).
package qfpaysim

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"qrkiosk/payment"
)

// The demo credentials: a fixed, documented pair for the zero-config demo
// mode. They protect nothing; a real merchant's pair comes from QFPay.
const (
	DemoAppCode = "DEMOAPPCODE000000000000000000001"
	DemoKey     = "DEMOKEY0000000000000000000000001"
)

// Config sets up a simulator. The zero value of every optional field is a
// sensible default.
type Config struct {
	// AppCode and Key are the credentials merchants use; requests with
	// another X-QF-APPCODE or a bad X-QF-SIGN are refused (1108).
	AppCode, Key string
	// MchID, if set, must be carried by every request; if empty, a request
	// carrying mchid is refused (1104), as QFPay does.
	MchID string
	// NotifyURL is where signed notifications are POSTed; empty = none.
	NotifyURL string
	// BaseURL is the public base of the customer page put in qrcode
	// (e.g. http://192.168.1.5:8123); it may be set later with SetBaseURL.
	BaseURL string
	// NotifyScale multiplies QFPay's notification retry schedule
	// (2m, 10m, 10m, 60m, 2h, 6h, 15h); 0 means 1.0.
	NotifyScale float64
	// Latency is added to every /trade/ call.
	Latency time.Duration
	// Fail5xxRate (0..1): answer HTTP 502 to a /trade/ call without doing
	// anything.
	Fail5xxRate float64
	// CommitDropRate (0..1): /trade/v1/payment commits the order, then drops
	// the connection without any response.
	CommitDropRate float64
	// NotifyDropRate (0..1): never send the notification for a payment.
	NotifyDropRate float64
	// NotifyDupRate (0..1): send the notification twice.
	NotifyDupRate float64
	// DefaultExpiry is the gateway's own expiry, used for pay types that do
	// not honour expired_time and when expired_time is absent; 0 = 30 min.
	DefaultExpiry time.Duration
	// Now is the clock; nil = time.Now.
	Now func() time.Time
	// Logger receives the simulator's log; nil = discard. The key and
	// signatures are never logged.
	Logger *slog.Logger
	// Rand (math/rand/v2) drives fault injection; nil = seeded from the
	// clock. Set it for a reproducible sequence of faults.
	Rand *rand.Rand
}

// Order is a snapshot of one payment order at the simulated gateway.
type Order struct {
	SysSN       string
	OutTradeNo  string
	PayType     string
	Currency    string
	QRCode      string
	GoodsName   string
	UDID        string
	TxDtm       string
	SysDtm      string
	PayDtm      string
	TxAmt       int64
	RefundedAmt int64
	Respcd      payment.Code
	Cancel      int
	ExpiresAt   time.Time
	Notified    int // notification deliveries acknowledged
}

// Errors of the customer-side operations (Pay, Decline, Expire).
var (
	ErrUnknownOrder = errors.New("qfpaysim: no such payment order")
	ErrNotPayable   = errors.New("qfpaysim: the order is not awaiting payment")
	ErrBadCode      = errors.New("qfpaysim: not a failure respcd of QFPay's table")
)

// gatewayZone is the gateway's clock zone: QFPay works in Beijing/Hong Kong
// time (UTC+8).
var gatewayZone = payment.HongKong

type txnState int

const (
	stateLive txnState = iota // unpaid, may still be paid
	statePaid
	stateDeclined
	stateClosed // reversed or closed by the merchant
	stateExpired
)

// txn is one transaction at the gateway: a payment order or a refund.
type txn struct {
	kind        string // "payment" or "refund"
	sysSN       string
	outTradeNo  string
	origSysSN   string // refunds: the payment refunded
	payType     payment.PayType
	currency    payment.Currency
	txAmt       int64
	refunded    int64 // payments: sum of refunds
	goodsName   string
	udid        string
	mchID       string
	chnlSN      string
	qrcode      string
	notifyURL   string
	txDtm       string
	created     time.Time
	paid        time.Time
	expiresAt   time.Time
	state       txnState
	declineCode payment.Code
	cancel      int
	notified    int
}

func (t *txn) respcd() payment.Code {
	switch t.state {
	case statePaid:
		return payment.CodeSuccess
	case stateDeclined:
		return t.declineCode
	case stateExpired:
		return payment.CodeOrderExpired
	case stateClosed:
		return payment.CodeOrderClosed
	}
	return payment.CodeUserPaying
}

// outcome names the state the way the payment package does.
func (t *txn) outcome() payment.Outcome {
	switch t.state {
	case statePaid:
		return payment.OutcomePaid
	case stateDeclined:
		return payment.OutcomeFailed
	case stateExpired:
		return payment.OutcomeExpired
	case stateClosed:
		return payment.OutcomeClosed
	}
	return payment.OutcomePending
}

func (t *txn) amount() payment.Amount {
	return payment.Amount{Minor: t.txAmt, Currency: t.currency}
}

func (t *txn) order() Order {
	return Order{
		SysSN:       t.sysSN,
		OutTradeNo:  t.outTradeNo,
		PayType:     t.payType.Code,
		Currency:    t.currency.Code,
		QRCode:      t.qrcode,
		GoodsName:   t.goodsName,
		UDID:        t.udid,
		TxDtm:       t.txDtm,
		SysDtm:      fmtDtm(t.created),
		PayDtm:      fmtDtm(t.paid),
		TxAmt:       t.txAmt,
		RefundedAmt: t.refunded,
		Respcd:      t.respcd(),
		Cancel:      t.cancel,
		ExpiresAt:   t.expiresAt,
		Notified:    t.notified,
	}
}

func fmtDtm(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(gatewayZone).Format(payment.LocalTimeLayout)
}

// Sim is the simulated gateway. It is an http.Handler serving the trade/v1
// API, the customer page and a few helper endpoints, and is safe for
// concurrent use.
type Sim struct {
	cfg    Config
	log    *slog.Logger
	now    func() time.Time
	client *http.Client
	mux    *http.ServeMux

	ctx    context.Context // cancelled by Close; owns notification delivery
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu           sync.Mutex
	baseURL      string
	rng          *rand.Rand
	serial       uint64
	txns         []*txn // payments and refunds, in creation order
	bySysSN      map[string]*txn
	byOutTradeNo map[string]*txn
	closed       bool
}

// New builds a simulator. Call Close when done to stop notification
// delivery.
func New(cfg Config) *Sim {
	if cfg.NotifyScale <= 0 {
		cfg.NotifyScale = 1
	}
	if cfg.DefaultExpiry <= 0 {
		cfg.DefaultExpiry = payment.DefaultExpiryMinutes * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Rand == nil {
		seed := uint64(time.Now().UnixNano())
		cfg.Rand = rand.New(rand.NewPCG(seed, seed>>32|1))
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Sim{
		cfg:          cfg,
		log:          cfg.Logger,
		now:          cfg.Now,
		client:       &http.Client{Timeout: notifyTimeout},
		ctx:          ctx,
		cancel:       cancel,
		baseURL:      strings.TrimRight(cfg.BaseURL, "/"),
		rng:          cfg.Rand,
		bySysSN:      map[string]*txn{},
		byOutTradeNo: map[string]*txn{},
	}
	// The serial part of syssn starts from the clock in microseconds so a
	// restarted simulator does not hand out the same numbers again.
	if us := cfg.Now().UnixMicro(); us > 0 {
		s.serial = uint64(us) % 1e17
	}
	s.routes()
	return s
}

// ServeHTTP serves the gateway API and the customer page.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// SetBaseURL sets the public base of the customer page used in new orders'
// qrcode (for example once the listener's address is known).
func (s *Sim) SetBaseURL(u string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.baseURL = strings.TrimRight(u, "/")
}

// Close stops notification delivery and waits for its goroutines.
func (s *Sim) Close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
}

// Orders returns a snapshot of every payment order, in creation order.
func (s *Sim) Orders() []Order {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	out := []Order{}
	for _, t := range s.txns {
		if t.kind != kindPayment {
			continue
		}
		s.settle(t, now)
		out = append(out, t.order())
	}
	return out
}

// Pay completes a live, unpaid order as if the customer confirmed it in the
// wallet, and sends the notification.
func (s *Sim) Pay(syssn string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	t, err := s.livePayment(syssn, now)
	if err != nil {
		return err
	}
	t.state = statePaid
	t.paid = now
	t.chnlSN = "SIM" + t.sysSN
	s.log.Info("order paid", "syssn", t.sysSN, "out_trade_no", t.outTradeNo, "respcd", t.respcd())
	s.notifyLocked(t, t)
	return nil
}

// Decline fails a live, unpaid order with a failure respcd of QFPay's table
// (empty = 1205, "the transaction failed").
func (s *Sim) Decline(syssn string, code payment.Code) error {
	if code == "" {
		code = "1205"
	}
	if !code.Known() || code.Class() != payment.ClassFailure {
		return fmt.Errorf("%w: %q", ErrBadCode, code)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.livePayment(syssn, s.now())
	if err != nil {
		return err
	}
	t.state = stateDeclined
	t.declineCode = code
	s.log.Info("order declined", "syssn", t.sysSN, "out_trade_no", t.outTradeNo, "respcd", code)
	return nil
}

// Expire ends a live, unpaid order now, as its QR running out would.
func (s *Sim) Expire(syssn string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	t, err := s.livePayment(syssn, now)
	if err != nil {
		return err
	}
	t.state = stateExpired
	t.expiresAt = now
	s.log.Info("order expired", "syssn", t.sysSN, "out_trade_no", t.outTradeNo, "respcd", t.respcd())
	return nil
}

const (
	kindPayment = "payment"
	kindRefund  = "refund"
)

// livePayment finds a payment that can still be paid. Caller holds s.mu.
func (s *Sim) livePayment(syssn string, now time.Time) (*txn, error) {
	t := s.bySysSN[syssn]
	if t == nil || t.kind != kindPayment {
		return nil, fmt.Errorf("%w: syssn %q", ErrUnknownOrder, syssn)
	}
	s.settle(t, now)
	if t.state != stateLive {
		return t, fmt.Errorf("%w: order %s is %s (respcd %s)", ErrNotPayable, t.sysSN, t.outcome(), t.respcd())
	}
	return t, nil
}

// settle applies expiry lazily, so an injected clock needs no timers.
// Caller holds s.mu.
func (s *Sim) settle(t *txn, now time.Time) {
	if t.kind == kindPayment && t.state == stateLive && !now.Before(t.expiresAt) {
		t.state = stateExpired
		s.log.Info("order expired", "syssn", t.sysSN, "out_trade_no", t.outTradeNo, "respcd", t.respcd())
	}
}

// newSysSN returns a 26-digit syssn: the gateway date and an 18-digit
// serial, like "20191225000200020060996533". Caller holds s.mu.
func (s *Sim) newSysSN(now time.Time) string {
	s.serial = (s.serial + 1) % 1e18
	return now.In(gatewayZone).Format("20060102") + fmt.Sprintf("%018d", s.serial)
}

// chance draws a fault with probability rate. Caller holds s.mu.
func (s *Sim) chance(rate float64) bool {
	switch {
	case rate <= 0:
		return false
	case rate >= 1:
		return true
	}
	return s.rng.Float64() < rate
}

func (s *Sim) chanceUnlocked(rate float64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.chance(rate)
}
