package payment

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// MachineConfig wires an order to its gateway and its clock.
type MachineConfig struct {
	Gateway OrderGateway
	Clock   Clock        // nil = RealClock
	Logger  *slog.Logger // nil = discard
	// PollSlow is the safety query interval while push is healthy (15 s);
	// while it is down or absent an order is asked every PollFast (2 s)
	// for the first PollFastFor (1 min) its QR shows, then every
	// PollSteady (5 s): a merchant's kiosks share 400 requests a minute.
	PollSlow, PollFast, PollSteady time.Duration
	PollFastFor                    time.Duration
	// PollCPM is the query interval while a customer confirms a scanned
	// code on the phone (2.5 s; QFPay: every 2–3 s).
	PollCPM time.Duration
	// CallTimeout bounds one gateway call including its retries (20 s).
	CallTimeout time.Duration
	// SettleRetry is the wait between attempts to settle an order whose
	// result the gateway could not yet confirm (5 s).
	SettleRetry time.Duration
	// PushUp says whether the push link is up when the order starts.
	PushUp bool
	// Resume follows an order recorded before a restart instead of creating
	// it: the create is never sent again. With Known set (the create's
	// answer was recorded) the order is followed from AwaitingPayment; without
	// it the gateway is asked whether the order exists. A deadline already
	// past withdraws the order and settles it by a final query.
	Resume bool
	Known  *Created
	// GatewayExpiry is how long the gateway keeps a QR payable when the
	// wallet ignores the kiosk's expiry (QFPay: its default 30 min); 0 =
	// not known. It only tells the cashier until when a QR that could not
	// be withdrawn stays payable.
	GatewayExpiry time.Duration
	// Reissue records the order that replaces one whose QR was lost (found
	// at the gateway after a lost create answer: a query does not give the
	// QR back) before it is created; nil: nothing to record. An error
	// stops the sale: nothing unrecorded is sent.
	Reissue func(next CreateRequest, replaces string) error
	// LateWatch is how long an Expired, Cancelled or Failed order keeps
	// listening for a late payment before its machine stops (24 h: QFPay
	// retries a notification for about a day). A Paid order stops at once:
	// nothing later changes it. An unconfirmed result is settled first.
	LateWatch time.Duration
	// LatePoll is how long an order the gateway still holds payable after
	// the kiosk stopped offering it (a wallet or gateway without cancel, or
	// a withdrawal that failed) is still queried, every PollSlow (10 min):
	// a customer who pays just after the countdown is seen even without
	// push. Push is listened to for LateWatch either way.
	LatePoll time.Duration
}

func (c *MachineConfig) defaults() {
	if c.Clock == nil {
		c.Clock = RealClock{}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.PollSlow <= 0 {
		c.PollSlow = 15 * time.Second
	}
	if c.PollFast <= 0 {
		c.PollFast = 2 * time.Second
	}
	if c.PollSteady <= 0 {
		c.PollSteady = max(5*time.Second, c.PollFast)
	}
	if c.PollFastFor <= 0 {
		c.PollFastFor = time.Minute
	}
	if c.PollCPM <= 0 {
		c.PollCPM = 2500 * time.Millisecond
	}
	if c.CallTimeout <= 0 {
		c.CallTimeout = 20 * time.Second
	}
	if c.SettleRetry <= 0 {
		c.SettleRetry = 5 * time.Second
	}
	if c.LateWatch <= 0 {
		c.LateWatch = DefaultLateWatch
	}
	if c.LatePoll <= 0 {
		c.LatePoll = DefaultLatePoll
	}
}

// DefaultLateWatch is MachineConfig.LateWatch's default.
const DefaultLateWatch = 24 * time.Hour

// DefaultLatePoll is MachineConfig.LatePoll's default.
const DefaultLatePoll = 10 * time.Minute

// failingPollStreak is how many failed polls in a row mark the gateway as
// unreachable on screen.
const failingPollStreak = 3

// Order is one sale's order and the only owner of its state. Push
// notifications, polling, the deadline, the cashier's cancel and the
// gateway's answers are all events fed to a single goroutine, which decides.
type Order struct {
	cfg MachineConfig
	req CreateRequest
	log *slog.Logger

	push   chan Transaction
	cancel chan struct{}
	link   chan bool
	done   chan struct{}
	closed chan struct{}

	mu        sync.Mutex
	snap      Snapshot
	observers map[int]func(Event)
	nextObs   int

	// Fields below are owned by the run goroutine.
	cancelAsked bool
	pollFails   int
	unconfirmed bool          // final state shown, but the gateway has not confirmed it
	shownAt     time.Time     // when the QR was first shown (fast polling)
	rateBackoff time.Duration // polls are at least this far apart after a 429
	// earlyPaid: a push said paid while the create call was still in
	// flight; the gateway is asked as soon as the create's answer is shown.
	earlyPaid bool
	// pushSaid is a final outcome a push reported that the gateway has not
	// confirmed (OutcomeUnknown: none). A push is signed with the
	// merchant's key, which the relay holds too: only the gateway's answer
	// ends an order. While one is open the order is asked every PollFast.
	pushSaid Outcome
	// pushDoubted: the gateway has answered otherwise since (logged once).
	pushDoubted  bool
	withdrawn    bool      // the gateway confirmed the QR withdrawn
	payableUntil time.Time // the QR could not be withdrawn: payable until then
	reissues     int       // orders made to replace a lost QR
	// openUntil: final on the kiosk, but still payable at the gateway;
	// queried until then.
	openUntil time.Time
}

// errPaid unwinds the run goroutine's current step once the order is paid.
var errPaid = errors.New("order paid")

// StartOrder begins an order: it creates it at the gateway and follows it
// to a final state. The request's OutTradeNo must already be recorded by the
// caller (journal) before this is called. ctx ends the machine (shutdown)
// without deciding anything at the gateway.
func StartOrder(ctx context.Context, cfg MachineConfig, req CreateRequest, observers ...func(Event)) *Order {
	cfg.defaults()
	o := &Order{
		cfg:       cfg,
		req:       req,
		log:       cfg.Logger.With("out_trade_no", req.OutTradeNo),
		push:      make(chan Transaction, 16),
		cancel:    make(chan struct{}, 1),
		link:      make(chan bool, 1),
		done:      make(chan struct{}),
		closed:    make(chan struct{}),
		observers: map[int]func(Event){},
	}
	if req.TxTime.IsZero() {
		o.req.TxTime = cfg.Clock.Now()
	}
	o.req.Expiry = req.Window()
	o.snap = Snapshot{
		OutTradeNo: req.OutTradeNo,
		Amount:     req.Amount,
		PayType:    req.PayType,
		GoodsName:  req.GoodsName,
		State:      StateCreating,
		Created:    o.req.TxTime,
		Deadline:   o.req.TxTime.Add(o.req.Expiry),
		PushUp:     cfg.PushUp,
	}
	for _, fn := range observers {
		o.Observe(fn)
	}
	go o.run(ctx)
	return o
}

// Snapshot returns the order's current state.
func (o *Order) Snapshot() Snapshot {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.snap
}

// Observe registers fn for every later event, called in order from the
// machine's goroutine: fn must not block (hand off to the UI thread or a
// channel). It returns a function that stops the calls.
func (o *Order) Observe(fn func(Event)) (stop func()) {
	o.mu.Lock()
	defer o.mu.Unlock()
	id := o.nextObs
	o.nextObs++
	o.observers[id] = fn
	return func() {
		o.mu.Lock()
		defer o.mu.Unlock()
		delete(o.observers, id)
	}
}

// Done is closed once the order has reached a final state.
func (o *Order) Done() <-chan struct{} { return o.done }

// Closed is closed when the machine's goroutine has stopped.
func (o *Order) Closed() <-chan struct{} { return o.closed }

// Cancel asks to withdraw the order (the cashier's Cancel, a signal). If the
// customer has already paid, the order still ends Paid.
func (o *Order) Cancel() {
	select {
	case o.cancel <- struct{}{}:
	default:
	}
}

// Notify feeds a push notification whose signature has been verified.
// Duplicates are harmless; one for another order or amount changes nothing.
func (o *Order) Notify(t Transaction) {
	select {
	case o.push <- t:
	case <-o.closed:
	}
}

// PushLink reports the push link going up or down.
func (o *Order) PushLink(up bool) {
	for {
		select {
		case o.link <- up:
			return
		case <-o.closed:
			return
		default:
			select { // replace a stale value: only the latest state matters
			case <-o.link:
			default:
			}
		}
	}
}

// update changes the snapshot and tells observers.
func (o *Order) update(kind EventKind, change func(*Snapshot)) {
	o.mu.Lock()
	change(&o.snap)
	ev := Event{Snapshot: o.snap, Kind: kind, At: o.cfg.Clock.Now()}
	fns := make([]func(Event), 0, len(o.observers))
	for i := 0; i < o.nextObs; i++ {
		if fn, ok := o.observers[i]; ok {
			fns = append(fns, fn)
		}
	}
	o.mu.Unlock()
	for _, fn := range fns {
		fn(ev)
	}
}

// ref is the order as the gateway knows it so far.
func (o *Order) ref() OrderRef {
	return OrderRef{OutTradeNo: o.req.OutTradeNo, SysSN: o.Snapshot().SysSN, Amount: o.req.Amount, PayType: o.req.PayType, TxTime: o.req.TxTime}
}

func (o *Order) state() State {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.snap.State
}

func (o *Order) run(ctx context.Context) {
	defer close(o.closed)
	start := EventCreating
	if o.cfg.Resume {
		start = EventResumed
	}
	o.update(start, func(*Snapshot) {})
	err := o.live(ctx)
	if ctx.Err() != nil && !o.state().Final() {
		o.log.Info("order machine stopped before the order was final", "state", o.state())
		return
	}
	if err != nil && !errors.Is(err, errPaid) {
		o.log.Error("order machine", "err", err)
	}
	o.afterFinal(ctx)
}

// call runs one gateway call while still listening to pushes, cancels and
// link changes. A push only notes what it says (pushDuringCall): the
// gateway's answers decide.
func (o *Order) call(ctx context.Context, fn func(context.Context) error) error {
	cctx, cancel := context.WithTimeout(ctx, o.cfg.CallTimeout)
	defer cancel()
	res := make(chan error, 1)
	go func() { res <- fn(cctx) }()
	for {
		select {
		case err := <-res:
			return err
		case <-ctx.Done():
			return ctx.Err()
		case <-o.cancel:
			o.cancelAsked = true
		case up := <-o.link:
			o.onLink(up)
		case t := <-o.push:
			o.pushDuringCall(t)
		}
	}
}

// wait sleeps on the machine's clock while listening like call does.
func (o *Order) wait(ctx context.Context, d time.Duration) error {
	t := o.cfg.Clock.NewTimer(d)
	defer t.Stop()
	return o.call(ctx, func(cctx context.Context) error {
		select {
		case <-t.C():
		case <-cctx.Done():
		}
		return nil
	})
}

// String describes the order for logs.
func (o *Order) String() string {
	s := o.Snapshot()
	return fmt.Sprintf("order %s %s %s", s.OutTradeNo, s.Amount.Display(), s.State)
}

// cpm reports a customer-presented payment: the cashier scanned the
// customer's code; there is no QR to show.
func (o *Order) cpm() bool { return o.req.PayType.Mode == CPM }
