// Package qfpaysim stands in for QFPay's gateway, for the demo and for tests.
//
// It speaks the trade/v1 wire protocol exactly (form-encoded requests signed with the
// client key, answers and signed notifications in the bytes QFPay's Python
// writes, QFPay's retry schedule) and models what the real gateway does,
// not what a reading of its docs suggests: a query sees one calendar month
// of sysdtm unless it names a syssn, carries no qrcode, and answers an
// unknown order with no rows; refunds may be processing (1143) first;
// Hong Kong pay types cannot be withdrawn; a reversed paid Alipay order is
// refunded; 400 requests a minute, then HTTP 429. Its clock can be moved.
// It takes merchant-presented QR orders (MPM) and customer-presented codes
// (CPM: auth_code, single use, confirmed by the customer a moment later,
// with magic codes for each outcome). A phone-friendly customer page lets a
// "customer" pay, confirm or decline. It powers the kiosk's demo mode and
// the end-to-end tests, with optional
// fault injection (latency, 5xx, dropped replies, lost and duplicated
// notifications, 1161 rows).
package qfpaysim

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"qrkiosk/payment"
	"qrkiosk/payment/qfpay"
	"qrkiosk/sim/simkit"
)

// The demo credentials: a fixed, documented pair for the zero-config demo
// mode. They protect nothing; a real merchant's pair comes from QFPay.
const (
	DemoAppCode = "DEMOAPPCODE000000000000000000001"
	DemoKey     = "DEMOKEY0000000000000000000000001"
)

// Config sets up a simulator. The zero value of every optional field is a
// sensible default; the zero value of every QFPay behaviour that a test
// would rather not meet by accident (processing refunds, the rate limit,
// 1161 rows) is off.
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
	// AnyCode takes any well-formed payment code (16–24 digits) whatever
	// its prefix, as the pay type's first wallet: the demo, where a code is
	// typed by hand.
	AnyCode bool
	// CommitDropFirst: the first N payments are committed and then their
	// answers dropped, whatever CommitDropRate says (a deterministic lost
	// create answer for tests).
	CommitDropFirst int
	// NotifyDropRate (0..1): never send the notification for a payment.
	NotifyDropRate float64
	// NotifyDupRate (0..1): send the notification twice.
	NotifyDupRate float64
	// DefaultExpiry is the gateway's own expiry, used for pay types that do
	// not honour expired_time and when expired_time is absent; 0 = 30 min.
	DefaultExpiry time.Duration
	// RefundProcessing: a refund first answers respcd 1143 ("processing,
	// keep querying"), and its query rows say 1143, until this long has
	// passed on the simulator's clock; then it is done (0000), notified and
	// counted as refunded. 0 = refunds complete at once.
	RefundProcessing time.Duration
	// CancelProcessing: a reversal or close first answers respcd 1145 ("in
	// progress") and takes effect this long later on the simulator's clock;
	// a customer may still pay meanwhile. 0 = at once.
	CancelProcessing time.Duration
	// RateLimitPerMinute: requests per app code per 60 s (sliding window on
	// the simulator's clock) before HTTP 429; QFPay allows 400. 0 = no limit.
	RateLimitPerMinute int
	// QueryUnknownRate (0..1): a query row's respcd is answered 1161
	// ("unknown result, query again") instead of the transaction's own.
	QueryUnknownRate float64
	// CPMConfirmAfter is how long a customer takes to confirm a
	// customer-presented (CPM) payment on the phone, like entering a
	// password: the payment answers 1145 and query rows say 1145 until this
	// long has passed on the simulator's clock; then it is paid (0000) and
	// notified, whether or not anybody asks. 0 = DefaultCPMConfirmAfter;
	// negative = at once (the payment answers 0000). Magic codes override
	// it (see README).
	CPMConfirmAfter time.Duration
	// AllInOneNamesWallet: answers, query rows and notifications of an
	// all-in-one (800008) payment name the CPM pay type of the wallet that
	// took it (800108 Alipay, 800208 WeChat Pay, 800708 UnionPay, 805808
	// PayMe) instead of 800008. QFPay documents neither; off = 800008, as
	// every documented answer echoes the pay_type sent.
	AllInOneNamesWallet bool
	// Now is the clock; nil = time.Now. ClockOffset is added to it, and
	// AdvanceClock, SetClock and POST /sim/clock move it further.
	Now         func() time.Time
	ClockOffset time.Duration
	// Logger receives the simulator's log; nil = discard. The key and
	// signatures are never logged.
	Logger *slog.Logger
	// Rand (math/rand/v2) drives fault injection; nil = seeded from the
	// clock. Set it for a reproducible sequence of faults.
	Rand *rand.Rand
}

// DefaultCPMConfirmAfter is how long the simulated customer takes to
// confirm a CPM payment when Config.CPMConfirmAfter is 0.
const DefaultCPMConfirmAfter = 3 * time.Second

// Order is a snapshot of one payment order at the simulated gateway.
type Order struct {
	SysSN        string
	OutTradeNo   string
	PayType      string // as the merchant sent it
	Mode         string // "MPM" (a QR the customer scans) or "CPM" (the customer's code, scanned)
	Wallet       string // CPM: the pay type of the wallet whose code was scanned (for 800008, the wallet's own CPM pay type)
	Currency     string
	QRCode       string
	GoodsName    string
	UDID         string
	TxDtm        string
	SysDtm       string
	PayDtm       string
	TxAmt        int64
	RefundedAmt  int64 // refunds done (0000)
	RefundingAmt int64 // refunds still processing (1143): reserved, not refunded
	Respcd       payment.Code
	Cancel       int
	State        string    // pending, paid, failed, expired, closed (withdrawn; a reversed paid order too)
	ExpiresAt    time.Time // zero for CPM: the customer's code has no QR to expire
	ConfirmAt    time.Time // CPM: when the customer will confirm; zero if not scheduled
	Notified     int       // notification deliveries acknowledged
}

// Errors of the customer-side operations (Pay, Decline, Expire) and of the
// clock.
var (
	ErrUnknownOrder = errors.New("qfpaysim: no such payment order")
	ErrNotPayable   = errors.New("qfpaysim: the order is not awaiting payment")
	ErrBadCode      = errors.New("qfpaysim: not a failure respcd of QFPay's table")
	ErrClockBack    = errors.New("qfpaysim: the gateway's clock only moves forward")
)

// gatewayZone is the gateway's clock zone: QFPay works in Beijing/Hong Kong
// time (UTC+8).
var gatewayZone = payment.HongKong

type txnState int

const (
	stateLive     txnState = iota // payment: unpaid, may still be paid; refund: processing
	statePaid                     // payment: paid; refund: done
	stateDeclined                 // payment failed
	stateClosed                   // unpaid payment reversed or closed by the merchant
	stateExpired                  // unpaid payment past its expiry
	stateReversed                 // paid Alipay payment reversed: revoked and refunded
)

// txn is one transaction at the gateway: a payment order or a refund.
type txn struct {
	kind        string // "payment" or "refund"
	sysSN       string
	outTradeNo  string
	orig        *txn // refunds: the payment refunded
	payType     payment.PayType
	currency    payment.Currency
	txAmt       int64
	refunded    int64 // payments: sum of refunds done
	refunding   int64 // payments: sum of refunds still processing
	goodsName   string
	udid        string
	mchID       string
	chnlSN      string
	qrcode      string
	notifyURL   string
	txDtm       string
	created     time.Time // sysdtm
	paid        time.Time
	expiresAt   time.Time
	doneAt      time.Time // refunds: when processing ends
	cancelAt    time.Time // payments: when a cancel in progress takes effect
	cancelOp    string    // payments: "reversal" or "close", while in progress
	state       txnState
	declineCode payment.Code
	cancel      int
	notified    int

	// CPM payments only.
	authCode    string       // the customer's payment code (never logged whole)
	wallet      wallet       // the wallet that issued it
	walletType  string       // that wallet's CPM pay type (payType itself unless all-in-one)
	waitCode    payment.Code // respcd while unconfirmed: 1145, or 1143 (entering the password)
	failReason  string       // why the wallet refused the code (the answer's respmsg)
	confirmAt   time.Time    // when the customer confirms; zero = not scheduled
	namesWallet bool         // Config.AllInOneNamesWallet when it was made
}

func (t *txn) isCPM() bool { return t.authCode != "" }

// wirePayType is the pay_type answers, rows and notifications carry: as
// sent, or for an all-in-one order with Config.AllInOneNamesWallet the
// wallet's own. A refund row carries its payment's.
func (t *txn) wirePayType() string {
	if t.orig != nil {
		return t.orig.wirePayType()
	}
	if t.namesWallet && t.walletType != "" {
		return t.walletType
	}
	return t.payType.Code
}

// rulePayType is the pay type whose gateway rules (cancel) apply: an
// all-in-one order is its wallet's CPM payment underneath.
func (t *txn) rulePayType() string {
	if t.walletType != "" {
		return t.walletType
	}
	return t.payType.Code
}

// expiredBy reports whether an order offered until expiresAt is past it at
// instant at; CPM orders have no expiry.
func (t *txn) expiredBy(at time.Time) bool {
	return !t.expiresAt.IsZero() && !at.Before(t.expiresAt)
}

// maskCode shows a payment code as the logs may: its wallet prefix and
// last four digits. A whole code can be charged by whoever reads it.
func maskCode(code string) string {
	if len(code) < minCodeLen {
		return strings.Repeat("*", len(code))
	}
	return code[:2] + strings.Repeat("*", len(code)-6) + code[len(code)-4:]
}

func (t *txn) respcd() payment.Code {
	switch t.state {
	case statePaid, stateReversed:
		// A reversed payment did succeed; its cancel flag (2, or 1 for CPM)
		// says it was revoked and refunded, as refunds keep 0000 and say 3
		// or 5.
		return qfpay.CodeSuccess
	case stateDeclined:
		return t.declineCode
	case stateExpired:
		return qfpay.CodeOrderExpired
	case stateClosed:
		return qfpay.CodeOrderClosed
	}
	if t.waitCode != "" {
		return t.waitCode
	}
	return qfpay.CodeUserPaying
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
	case stateClosed, stateReversed:
		return payment.OutcomeClosed
	}
	return payment.OutcomePending
}

func (t *txn) amount() payment.Amount {
	return payment.Amount{Minor: t.txAmt, Currency: t.currency}
}

func (t *txn) origSysSN() string {
	if t.orig == nil {
		return ""
	}
	return t.orig.sysSN
}

func (t *txn) order() Order {
	mode := "MPM"
	if t.isCPM() {
		mode = "CPM"
	}
	var confirmAt time.Time
	if t.state == stateLive {
		confirmAt = t.confirmAt
	}
	return Order{
		SysSN:        t.sysSN,
		OutTradeNo:   t.outTradeNo,
		PayType:      t.payType.Code,
		Mode:         mode,
		Wallet:       t.walletType,
		Currency:     t.currency.Code,
		QRCode:       t.qrcode,
		GoodsName:    t.goodsName,
		UDID:         t.udid,
		TxDtm:        t.txDtm,
		SysDtm:       fmtDtm(t.created),
		PayDtm:       fmtDtm(t.paid),
		TxAmt:        t.txAmt,
		RefundedAmt:  t.refunded,
		RefundingAmt: t.refunding,
		Respcd:       t.respcd(),
		Cancel:       t.cancel,
		State:        t.outcome().String(),
		ExpiresAt:    t.expiresAt,
		ConfirmAt:    confirmAt,
		Notified:     t.notified,
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
	cfg      Config
	log      *slog.Logger
	mux      *http.ServeMux
	offset   atomic.Int64 // nanoseconds added to cfg.Now
	dice     *simkit.Dice
	notifier *simkit.Notifier

	ctx    context.Context // cancelled by Close; owns the sweep
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu           sync.Mutex
	baseURL      string
	serial       uint64
	dropped      int    // payments answered with a dropped connection (CommitDropFirst)
	txns         []*txn // payments and refunds, in creation order
	bySysSN      map[string]*txn
	byOutTradeNo map[string]*txn
	timed        []*txn            // transactions waiting for a timed change (refund or cancel in progress, CPM confirmation)
	usedCodes    map[string]string // CPM payment codes used, with the syssn that used each first
	sweeping     bool              // the sweep goroutine runs
	limiter      *limiter
	closed       bool
	// merchantID names the merchant in notifications: Config.MchID, or
	// the gateway's own number for a merchant issued none.
	merchantID string
}

// sweepEvery is how often, in real time, refunds and cancels in progress
// and CPM confirmations are checked against the simulator's clock, so that
// one whose time has come is done (and notified) even if nobody asks about
// it.
const sweepEvery = 100 * time.Millisecond

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
	if cfg.CPMConfirmAfter == 0 {
		cfg.CPMConfirmAfter = DefaultCPMConfirmAfter
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Sim{
		cfg:          cfg,
		log:          cfg.Logger,
		dice:         simkit.NewDice(cfg.Rand),
		notifier:     simkit.NewNotifier(notifySchedule, cfg.NotifyScale, cfg.Logger),
		ctx:          ctx,
		cancel:       cancel,
		baseURL:      strings.TrimRight(cfg.BaseURL, "/"),
		bySysSN:      map[string]*txn{},
		byOutTradeNo: map[string]*txn{},
		usedCodes:    map[string]string{},
		merchantID:   cfg.MchID,
	}
	if s.merchantID == "" {
		sum := sha256.Sum256([]byte(cfg.AppCode))
		s.merchantID = "SIM" + hex.EncodeToString(sum[:])[:9]
	}
	s.offset.Store(int64(cfg.ClockOffset))
	if cfg.RateLimitPerMinute > 0 {
		s.limiter = newLimiter(cfg.RateLimitPerMinute, time.Minute)
	}
	// The serial part of syssn starts from the clock in microseconds so a
	// restarted simulator does not hand out the same numbers again.
	if us := s.now().UnixMicro(); us > 0 {
		s.serial = uint64(us) % 1e17
	}
	s.routes()
	return s
}

// now is the simulator's clock: Config.Now plus the offset moved so far.
func (s *Sim) now() time.Time {
	return s.cfg.Now().Add(time.Duration(s.offset.Load()))
}

// Now returns the simulator's clock, in the gateway's zone (UTC+8).
func (s *Sim) Now() time.Time { return s.now().In(gatewayZone) }

// AdvanceClock moves the simulator's clock forward by d: orders expire,
// refunds and cancels in progress complete, and queries' default month
// window follows. It returns the new time.
func (s *Sim) AdvanceClock(d time.Duration) (time.Time, error) {
	if d < 0 {
		return s.Now(), fmt.Errorf("%w: advance %v is negative", ErrClockBack, d)
	}
	s.mu.Lock()
	s.offset.Add(int64(d))
	s.tick()
	s.mu.Unlock()
	return s.Now(), nil
}

// SetClock moves the simulator's clock forward to t (see AdvanceClock).
func (s *Sim) SetClock(t time.Time) (time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if t.Before(now) {
		return now.In(gatewayZone), fmt.Errorf("%w: %s is before %s", ErrClockBack, t.Format(time.RFC3339), now.In(gatewayZone).Format(time.RFC3339))
	}
	s.offset.Add(int64(t.Sub(now)))
	s.settleTimedLocked(t)
	return t.In(gatewayZone), nil
}

// addTimedLocked puts t among the transactions waiting for a timed change,
// and starts the sweep that applies such changes on time. Caller holds s.mu.
func (s *Sim) addTimedLocked(t *txn) {
	s.timed = append(s.timed, t)
	if s.sweeping || s.closed {
		return
	}
	s.sweeping = true
	s.wg.Add(1)
	go s.sweep()
}

func (s *Sim) sweep() {
	defer s.wg.Done()
	ticker := time.NewTicker(sweepEvery)
	defer ticker.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-ticker.C:
			s.mu.Lock()
			s.tick()
			idle := len(s.timed) == 0
			if idle {
				s.sweeping = false // addTimedLocked starts another when needed
			}
			s.mu.Unlock()
			if idle {
				return
			}
		}
	}
}

// tick reads the clock and applies the timed changes that are due, so that
// what follows sees the gateway as of now. Caller holds s.mu.
func (s *Sim) tick() time.Time {
	now := s.now()
	s.settleTimedLocked(now)
	return now
}

// settleTimedLocked applies every timed change that is due. Caller holds s.mu.
func (s *Sim) settleTimedLocked(now time.Time) {
	left := s.timed[:0]
	for _, t := range s.timed {
		s.settle(t, now)
		if t.waiting() {
			left = append(left, t)
		}
	}
	clear(s.timed[len(left):])
	s.timed = left
}

// waiting reports a refund still processing, a cancel still in progress or
// a CPM confirmation still to come.
func (t *txn) waiting() bool {
	return t.state == stateLive && (t.kind == kindRefund || !t.confirmAt.IsZero()) || !t.cancelAt.IsZero()
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

// Close stops notification delivery and the sweep, and waits for their
// goroutines.
func (s *Sim) Close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
	s.notifier.Close()
}

// Orders returns a snapshot of every payment order, in creation order.
func (s *Sim) Orders() []Order {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.tick()
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
	now := s.tick()
	t, err := s.livePayment(syssn, now)
	if err != nil {
		return err
	}
	s.payLocked(t, now)
	return nil
}

// payLocked marks a live payment paid at instant at (the customer paid the
// QR or confirmed the code) and sends the notification. Caller holds s.mu.
func (s *Sim) payLocked(t *txn, at time.Time) {
	t.state = statePaid
	t.paid = at
	t.confirmAt = time.Time{}
	t.chnlSN = "SIM" + t.sysSN
	s.log.Info("order paid", "syssn", t.sysSN, "out_trade_no", t.outTradeNo, "respcd", t.respcd())
	s.notifyLocked(t, t)
}

// Decline fails a live, unpaid order with a failure respcd of QFPay's table
// (empty = 1205, "the transaction failed").
func (s *Sim) Decline(syssn string, code payment.Code) error {
	if code == "" {
		code = "1205"
	}
	if !qfpay.Known(code) || qfpay.ClassOf(code) != qfpay.ClassFailure {
		return fmt.Errorf("%w: %q", ErrBadCode, code)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.livePayment(syssn, s.tick())
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
	now := s.tick()
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

// settle applies the changes that time makes to t (expiry, a refund or a
// cancel in progress coming to its end) lazily, so that an injected clock
// needs no timers. Caller holds s.mu.
func (s *Sim) settle(t *txn, now time.Time) {
	if t.kind == kindRefund {
		if t.state == stateLive && !now.Before(t.doneAt) {
			s.completeRefund(t)
		}
		return
	}
	due := !t.cancelAt.IsZero() && !now.Before(t.cancelAt)
	// Timed changes apply in the order they happen: a customer who confirms
	// before a cancel in progress takes effect has paid, and then the
	// cancel meets a paid order.
	if t.state == stateLive && !t.confirmAt.IsZero() && !now.Before(t.confirmAt) && (!due || t.confirmAt.Before(t.cancelAt)) {
		s.payLocked(t, t.confirmAt)
	}
	// A cancel that comes due before the order would have expired (or after
	// it was paid) takes effect; one due after its expiry finds nothing.
	if due && (t.state != stateLive || !t.expiredBy(t.cancelAt)) {
		s.applyCancel(t)
	}
	if t.state == stateLive && t.expiredBy(now) {
		t.state = stateExpired
		s.log.Info("order expired", "syssn", t.sysSN, "out_trade_no", t.outTradeNo, "respcd", t.respcd())
	}
	if due {
		t.cancelAt, t.cancelOp = time.Time{}, ""
	}
}

// applyCancel withdraws a live order, or reverses (revokes and refunds) a
// paid one where the wallet does that. Caller holds s.mu.
func (s *Sim) applyCancel(t *txn) {
	rule := cancelRules[t.rulePayType()]
	// QFPay's cancel flag: 1 for a CPM order reversed or closed, 2 for MPM.
	flag := qfpay.CancelFlagMPMCancelled
	if t.isCPM() {
		flag = qfpay.CancelFlagCPMReversed
	}
	switch {
	case t.state == stateLive:
		t.state = stateClosed
		t.confirmAt = time.Time{}
		t.cancel = flag
		s.log.Info("order withdrawn", "op", t.cancelOp, "syssn", t.sysSN, "out_trade_no", t.outTradeNo, "respcd", t.respcd())
	case t.state == statePaid && t.cancelOp == opReversal && rule.reversalRefunds && t.refunded == 0 && t.refunding == 0:
		t.state = stateReversed
		t.cancel = flag
		s.log.Info("paid order reversed and refunded", "syssn", t.sysSN, "out_trade_no", t.outTradeNo, "txamt", t.txAmt)
	default:
		s.log.Info("cancel found nothing to withdraw", "op", t.cancelOp, "syssn", t.sysSN, "out_trade_no", t.outTradeNo, "respcd", t.respcd())
	}
	t.cancelAt, t.cancelOp = time.Time{}, ""
}

// completeRefund ends a processing refund: it is done (0000), counted as
// refunded on its payment, and notified. Caller holds s.mu.
func (s *Sim) completeRefund(ref *txn) {
	orig := ref.orig
	ref.state = statePaid
	ref.paid = ref.doneAt
	orig.refunding -= ref.txAmt
	orig.refunded += ref.txAmt
	if orig.refunded == orig.txAmt {
		orig.cancel = qfpay.CancelFlagRefunded
	} else {
		orig.cancel = qfpay.CancelFlagPartlyRefunded
	}
	s.log.Info("refund done", "syssn", ref.sysSN, "orig_syssn", orig.sysSN, "out_trade_no", ref.outTradeNo, "txamt", ref.txAmt, "respcd", ref.respcd())
	s.notifyLocked(ref, orig)
}

// newSysSN returns a 26-digit syssn: the gateway date and an 18-digit
// serial, like "20191225000200020060996533". Caller holds s.mu.
func (s *Sim) newSysSN(now time.Time) string {
	s.serial = (s.serial + 1) % 1e18
	return now.In(gatewayZone).Format("20060102") + fmt.Sprintf("%018d", s.serial)
}
