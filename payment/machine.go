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

// live takes the order from creation to a final state.
func (o *Order) live(ctx context.Context) error {
	if o.cpm() {
		return o.liveCPM(ctx)
	}
	var created *Created
	var err error
	switch {
	case o.cfg.Resume && o.cfg.Known != nil:
		created = o.cfg.Known
		o.log.Info("resuming order after a restart", "syssn", created.SysSN)
	case o.cfg.Resume:
		o.log.Info("resuming order whose create outcome was not recorded; asking the gateway")
		created, err = o.resolveCreate(ctx)
	default:
		created, err = o.createOrder(ctx)
	}
	if err != nil {
		return err
	}
	if created == nil {
		return nil // already final
	}
	for created.QRCode == "" {
		// Found at the gateway after a lost create answer, but a query
		// does not give a QR back: the customer could never scan it.
		if created.Existing != nil {
			if done, err := o.apply(created.Existing, "create"); done || err != nil {
				return err
			}
		}
		if created, err = o.reissue(ctx, created); created == nil || err != nil {
			return err
		}
	}
	o.shown(created)
	if created.Existing != nil {
		if done, err := o.apply(created.Existing, "create"); done || err != nil {
			return err
		}
	}
	if o.earlyPaid {
		o.claim(OutcomePaid)
	}
	if o.cfg.Resume || o.earlyPaid {
		// Whatever happened while the kiosk was down, or what a push said
		// during the create: one query now.
		if done, err := o.poll(ctx); done || err != nil {
			return err
		}
	}
	return o.await(ctx)
}

// shown puts a created order's QR on the screens.
func (o *Order) shown(c *Created) {
	o.shownAt = o.cfg.Clock.Now()
	o.update(EventCreated, func(s *Snapshot) {
		s.SysSN, s.QRCode, s.State, s.Reason = c.SysSN, c.QRCode, StateAwaitingPayment, ""
	})
}

// maxReissues bounds how often one sale replaces a lost QR: a gateway
// that keeps losing answers gets no endless stream of orders.
const maxReissues = 2

// reissue deals with an order found at the gateway without its QR (its
// create answer was lost; a query does not give the QR back). While the
// sale is live it withdraws the order where the wallet allows — nobody
// has its QR, so nobody can pay it either way — and creates a new one for
// the same sale with a new out_trade_no, recorded first (cfg.Reissue). It
// returns the new order's creation, or nil when the sale ended.
func (o *Order) reissue(ctx context.Context, lost *Created) (*Created, error) {
	if o.cancelAsked || !o.cfg.Clock.Now().Before(o.Snapshot().Deadline) || o.reissues >= maxReissues {
		st, reason := StateExpired, ""
		switch {
		case o.cancelAsked:
			st = StateCancelled
		case o.reissues >= maxReissues:
			st, reason = StateFailed, "The gateway keeps losing its answers, so no QR code can be shown; nothing was charged. Please try again later."
		}
		o.setSysSN(lost.SysSN) // what the withdrawal and the final query name
		return nil, o.finish(ctx, st, "", reason)
	}
	o.reissues++
	old := o.req.OutTradeNo
	o.log.Warn("order found at the gateway without its QR (its create answer was lost); withdrawing it and creating a new one", "syssn", lost.SysSN)
	ref := o.ref()
	ref.SysSN = lost.SysSN
	if o.req.PayType.Cancel != CancelNone {
		err := o.call(ctx, func(cctx context.Context) error { return o.cfg.Gateway.CancelOrder(cctx, ref) })
		switch {
		case ctx.Err() != nil:
			return nil, err
		case err != nil:
			o.log.Warn("withdrawing the order whose QR was lost failed; nobody has its QR", "err", err)
		}
	}
	// The gateway's word on it before a second order: paid ends the sale.
	var txn *Transaction
	err := o.call(ctx, func(cctx context.Context) error {
		var err error
		txn, err = o.cfg.Gateway.QueryOrder(cctx, ref)
		return err
	})
	switch {
	case ctx.Err() != nil:
		return nil, err
	case err == nil && o.matches(txn, "reissue") && txn.Outcome() == OutcomePaid:
		o.setSysSN(lost.SysSN)
		o.paid(txn, "query")
		return nil, errPaid
	}
	now := o.cfg.Clock.Now()
	next := o.req
	next.OutTradeNo = NewOutTradeNo(outTradeNoPrefix(old), now)
	next.TxTime = now
	if o.cfg.Reissue != nil {
		if err := o.cfg.Reissue(next, old); err != nil {
			o.log.Error("the order replacing a lost QR could not be recorded; nothing more is sent", "err", err)
			o.fail("The QR code was lost in a network error and a new one could not be recorded; nothing was charged.", "")
			return nil, nil
		}
	}
	// What a push said of the lost order is no word on the new one.
	o.req, o.earlyPaid, o.pushSaid, o.pushDoubted = next, false, OutcomeUnknown, false
	o.log = o.cfg.Logger.With("out_trade_no", next.OutTradeNo)
	o.log.Info("new order replaces one whose QR was lost", "replaces", old)
	o.update(EventReissued, func(s *Snapshot) {
		s.Replaces, s.OutTradeNo, s.SysSN, s.QRCode, s.State, s.Reason = old, next.OutTradeNo, "", "", StateCreating, ""
		s.Created, s.Deadline = now, now.Add(next.Expiry)
	})
	return o.createOrder(ctx)
}

// setSysSN notes the gateway's id of an order that was never shown.
func (o *Order) setSysSN(syssn string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.snap.SysSN = syssn
}

// outTradeNoPrefix is the letters NewOutTradeNo put before an out_trade_no's
// time and random part ("QK").
func outTradeNoPrefix(otn string) string {
	const tail = 14 + 16 // yyyymmddhhmmss + 16 hex digits
	if len(otn) > tail {
		return otn[:len(otn)-tail]
	}
	return "QK"
}

// createOrder calls the gateway. It returns nil, nil when the order ended
// during creation (failed, or found already final).
func (o *Order) createOrder(ctx context.Context) (*Created, error) {
	var created *Created
	err := o.call(ctx, func(cctx context.Context) error {
		var err error
		created, err = o.cfg.Gateway.CreateMPM(cctx, o.req)
		return err
	})
	if ctx.Err() != nil {
		return nil, err
	}
	var fe *FieldError
	var ge *Error
	switch {
	case err == nil:
		if o.cancelAsked && created.QRCode != "" {
			// finish asks the gateway first: a customer who paid ends Paid.
			o.shown(created)
			return nil, o.finish(ctx, StateCancelled, "", "")
		}
		return created, nil
	case o.earlyPaid:
		// A push said paid, so the order may exist whatever the create
		// call says: ask the gateway.
		o.log.Warn("create failed after a push said paid; asking the gateway", "err", err)
		return o.resolveCreate(ctx)
	case errors.As(err, &fe):
		o.fail(err.Error(), "")
		return nil, nil
	case errors.As(err, &ge):
		o.fail(ge.Reason(), ge.Code)
		return nil, nil
	}
	// The create's outcome is unknown: only the gateway can say whether the
	// order exists. Ask until it answers; never create again.
	o.log.Warn("create outcome unknown; resolving by query", "err", err)
	return o.resolveCreate(ctx)
}

func (o *Order) resolveCreate(ctx context.Context) (*Created, error) {
	for {
		var txn *Transaction
		err := o.call(ctx, func(cctx context.Context) error {
			var err error
			txn, err = o.cfg.Gateway.QueryOrder(cctx, o.ref())
			return err
		})
		switch {
		case ctx.Err() != nil:
			return nil, err
		case err == nil:
			o.log.Info("order found at the gateway after an unknown create", "syssn", txn.SysSN)
			return &Created{SysSN: txn.SysSN, OutTradeNo: txn.OutTradeNo, QRCode: txn.QRCode, Code: txn.Code, Adopted: true, Existing: txn}, nil
		case errors.Is(err, ErrNotFound):
			o.fail("The order never reached the payment gateway; nothing was charged. Please try again.", "")
			return nil, nil
		}
		if o.cancelAsked || !o.cfg.Clock.Now().Before(o.Snapshot().Deadline) {
			// Withdraw by out_trade_no whatever the gateway holds, then
			// settle by query.
			st := StateExpired
			if o.cancelAsked {
				st = StateCancelled
			}
			return nil, o.finish(ctx, st, "", "")
		}
		o.update(EventChecking, func(s *Snapshot) { s.Reason = "Checking the payment with the gateway…" })
		if err := o.wait(ctx, o.cfg.SettleRetry); err != nil {
			return nil, err
		}
	}
}

// await follows an order whose QR is showing until it is final.
func (o *Order) await(ctx context.Context) error {
	deadline := o.cfg.Clock.NewTimer(o.Snapshot().Deadline.Sub(o.cfg.Clock.Now()))
	defer deadline.Stop()
	for {
		poll := o.cfg.Clock.NewTimer(o.pollInterval())
		select {
		case <-ctx.Done():
			poll.Stop()
			return ctx.Err()
		case <-deadline.C():
			poll.Stop()
			if o.cpm() {
				return o.finish(ctx, StateFailed, "", cpmNotConfirmed)
			}
			return o.finish(ctx, StateExpired, "", "")
		case <-o.cancel:
			poll.Stop()
			return o.finish(ctx, StateCancelled, "", "")
		case t := <-o.push:
			poll.Stop()
			if !o.onPush(t) {
				continue
			}
		case up := <-o.link:
			poll.Stop()
			if !o.onLink(up) {
				continue
			}
			// Reconnected: anything missed while down is found by one
			// query at once.
		case <-poll.C():
		}
		if done, err := o.poll(ctx); done || err != nil {
			return err
		}
		if o.cancelAsked {
			return o.finish(ctx, StateCancelled, "", "")
		}
	}
}

// pollInterval is the wait before the next query: a safety poll while push
// is healthy, else fast for the QR's first minute and steady after; never
// closer than the gateway's rate limit allows.
func (o *Order) pollInterval() time.Duration {
	o.mu.Lock()
	up := o.snap.PushUp
	o.mu.Unlock()
	d := o.cfg.PollSteady
	switch {
	case o.cpm():
		d = o.cfg.PollCPM
	case o.pushSaid != OutcomeUnknown:
		d = o.cfg.PollFast // until the gateway confirms what a push said
	case up && o.pollFails == 0:
		d = o.cfg.PollSlow
	case o.cfg.Clock.Now().Sub(o.shownAt) < o.cfg.PollFastFor:
		d = o.cfg.PollFast
	}
	return max(d, o.rateBackoff)
}

// maxRateBackoff caps how far apart polls go while the gateway answers 429.
const maxRateBackoff = time.Minute

// onLink records a push link change; it reports a reconnect.
func (o *Order) onLink(up bool) (reconnected bool) {
	o.mu.Lock()
	was := o.snap.PushUp
	o.mu.Unlock()
	if up == was {
		return false
	}
	kind := EventPushDown
	if up {
		kind = EventPushUp
	}
	o.update(kind, func(s *Snapshot) { s.PushUp = up })
	return up
}

// poll queries the gateway once; done reports a final state.
func (o *Order) poll(ctx context.Context) (done bool, err error) {
	var txn *Transaction
	err = o.call(ctx, func(cctx context.Context) error {
		var err error
		txn, err = o.cfg.Gateway.QueryOrder(cctx, o.ref())
		return err
	})
	if ctx.Err() != nil {
		return true, err
	}
	if errors.Is(err, ErrRateLimited) {
		// The gateway answers, but the merchant's kiosks ask too often:
		// ask less often until it answers again.
		o.rateBackoff = min(max(2*o.rateBackoff, 2*o.cfg.PollFast), maxRateBackoff)
		o.log.Warn("gateway rate limit reached; polling less often", "next_poll_in", o.rateBackoff)
		return false, nil
	}
	o.rateBackoff = 0
	if errors.Is(err, ErrNotFound) {
		// The gateway answered: it has no such order (yet). Only the
		// final query and the create's resolution act on that.
		o.log.Info("poll: the gateway has no such order", "err", err)
		return false, nil
	}
	if err != nil {
		o.pollFails++
		o.log.Warn("poll failed", "attempt", o.pollFails, "err", err)
		if o.pollFails == failingPollStreak {
			o.update(EventGatewayUnreachable, func(s *Snapshot) { s.GatewayUnreachable = true })
		}
		return false, nil
	}
	if o.pollFails >= failingPollStreak {
		o.update(EventGatewayReachable, func(s *Snapshot) { s.GatewayUnreachable = false })
	}
	o.pollFails = 0
	return o.apply(txn, "poll")
}

// apply acts on a gateway record of this order; done reports a final state.
func (o *Order) apply(t *Transaction, source string) (done bool, err error) {
	if !o.matches(t, source) {
		return false, nil
	}
	source = o.answered(t, source)
	if o.Snapshot().SysSN == "" {
		// Found by a query or a push before any answer named it (a lost
		// create or charge answer): a refund needs it.
		o.setSysSN(t.SysSN)
	}
	if o.cpm() && o.state() == StateCreating {
		o.accepted(t) // found after an unknown outcome or a restart
	}
	if o.cpm() && t.Outcome() == OutcomePending && !o.Snapshot().Confirming {
		o.update(EventConfirming, func(s *Snapshot) { s.Confirming = true })
	}
	switch t.Outcome() {
	case OutcomePaid:
		o.paid(t, source)
		return true, errPaid
	case OutcomeFailed:
		o.fail(failureReason(t), t.Code)
		return true, nil
	case OutcomeExpired:
		// Run out or closed at the gateway: its QR (or the payment on the
		// customer's phone) can no longer be paid.
		o.withdrawn = true
		if o.cpm() {
			o.fail(cpmNotConfirmed, t.Code)
			return true, nil
		}
		o.final(StateExpired, "", "")
		return true, nil
	case OutcomeClosed:
		o.withdrawn = true
		o.final(StateCancelled, t.Code, "The order was withdrawn at the gateway.")
		return true, nil
	}
	return false, nil
}

// failureReason is the cashier's sentence for a failed record: the
// gateway's words for its code, else its message.
func failureReason(t *Transaction) string {
	if t.Text != "" {
		return t.Text
	}
	if t.ErrMsg != "" {
		return t.ErrMsg
	}
	return "The payment did not go through (" + string(t.Code) + ")."
}

// matches checks that a record is for this order and this amount. One that
// is not changes nothing and is logged as suspicious.
func (o *Order) matches(t *Transaction, source string) bool {
	if t.Kind != "" && t.Kind != TxnPayment {
		return false
	}
	switch {
	case t.OutTradeNo != o.req.OutTradeNo:
		o.log.Warn("suspicious record ignored: out_trade_no does not match", "source", source, "got_out_trade_no", t.OutTradeNo, "syssn", t.SysSN)
		return false
	case t.TxAmt != o.req.Amount.Minor:
		o.log.Warn("suspicious record ignored: amount does not match", "source", source, "got_txamt", t.TxAmt, "want_txamt", o.req.Amount.Minor, "syssn", t.SysSN)
		return false
	case t.Currency != "" && t.Currency != o.req.Amount.Currency.Code:
		o.log.Warn("suspicious record ignored: currency does not match", "source", source, "got_txcurrcd", t.Currency, "syssn", t.SysSN)
		return false
	}
	if sys := o.Snapshot().SysSN; sys != "" && t.SysSN != "" && t.SysSN != sys {
		o.log.Warn("suspicious record ignored: syssn does not match", "source", source, "got_syssn", t.SysSN, "syssn", sys)
		return false
	}
	return true
}

// onPush notes a verified notification of a live order; ask reports that
// the gateway should be asked now. A push never ends an order by itself:
// the relay holds the merchant's key too, so a forged "paid" would hand
// over goods unpaid and a forged "failed" would have the cashier charge
// again. A final outcome is confirmed by query at once; a pending one
// changes nothing.
func (o *Order) onPush(t Transaction) (ask bool) {
	if !t.Outcome().Final() || !o.matches(&t, "push") {
		return false
	}
	return o.claim(t.Outcome())
}

// claim notes a final outcome a push reported, showing "confirming" for a
// payment; fresh reports a new claim (a repeat waits for the next poll, so
// a stream of pushes is not a stream of queries).
func (o *Order) claim(out Outcome) (fresh bool) {
	if out == o.pushSaid {
		return false
	}
	o.pushSaid, o.pushDoubted = out, false
	if out == OutcomePaid && o.state() == StateAwaitingPayment {
		o.update(EventConfirmingPaid, func(s *Snapshot) { s.ConfirmingPaid = true })
	}
	return true
}

// answered compares the gateway's record with what a push said, and
// returns the source to log: "push+query" when the record confirms the
// push. Once it disagrees the order waits on (the gateway's word is the
// truth), still asked every PollFast in case its records were only behind
// the push.
func (o *Order) answered(t *Transaction, source string) string {
	switch {
	case o.pushSaid == OutcomeUnknown:
		return source
	case t.Outcome() == o.pushSaid:
		return "push+query"
	case o.pushDoubted:
		return source
	}
	o.pushDoubted = true
	o.log.Warn("a push disagreed with the gateway; the gateway's record decides", "push_said", o.pushSaid, "gateway_says", t.Outcome(), "respcd", t.Code)
	if !t.Outcome().Final() && o.Snapshot().ConfirmingPaid {
		o.update(EventPushDisputed, func(s *Snapshot) { s.ConfirmingPaid = false })
	}
	return source
}

// confirmPaid asks the gateway whether an order shown final that a push
// says is paid really is; a paid record turns it Paid late.
func (o *Order) confirmPaid(ctx context.Context, source string) {
	cctx, cancel := context.WithTimeout(ctx, o.cfg.CallTimeout)
	defer cancel()
	txn, err := o.cfg.Gateway.QueryOrder(cctx, o.ref())
	if err != nil {
		o.log.Warn("could not confirm a push that says paid; the late watch asks again", "source", source, "err", err)
		o.unconfirmed = true
		return
	}
	if !o.matches(txn, source) || txn.Outcome() != OutcomePaid {
		o.log.Warn("a push said paid but the gateway's record does not", "source", source, "outcome", txn.Outcome(), "cancel", txn.Cancel)
		return
	}
	o.paid(txn, source)
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

// pushDuringCall notes a push that comes while a gateway call is out; the
// call goes on, and a query (this one's, the next poll's, the late
// watch's) decides.
func (o *Order) pushDuringCall(t Transaction) {
	switch st := o.state(); {
	case st == StatePaid:
	case st.Final():
		if t.Outcome() == OutcomePaid && o.matches(&t, "push") {
			o.unconfirmed = true // the late watch confirms it by query
		}
	case st == StateCreating:
		if t.Outcome() == OutcomePaid && o.matches(&t, "push") {
			// Said paid before the create's answer is in: the order is
			// shown first (the journal and the CLI's "created" line need
			// its syssn), then the gateway is asked at once.
			o.earlyPaid = true
		}
	default:
		o.onPush(t)
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

// finish ends an order that is not paid: ask once more, withdraw it where
// the wallet allows, and decide by a final query. If the customer paid in
// the meantime, the order ends Paid whatever was asked.
func (o *Order) finish(ctx context.Context, want State, code Code, reason string) error {
	o.update(EventCancelling, func(s *Snapshot) { s.Cancelling = true })
	if done, err := o.poll(ctx); done || err != nil {
		return err
	}
	ref := o.ref()
	err := o.call(ctx, func(cctx context.Context) error { return o.cfg.Gateway.CancelOrder(cctx, ref) })
	withdrawn := err == nil
	switch {
	case ctx.Err() != nil:
		return err
	case errors.Is(err, ErrCancelUnsupported):
		o.payableUntil = o.gatewayExpiry()
		o.log.Info("wallet has no cancel; the QR stays payable at the gateway until it expires there", "pay_type", o.req.PayType.Code, "payable_until", o.payableUntil)
	case err != nil:
		o.log.Warn("withdrawing the order failed; the final query decides", "err", err)
	}
	var txn *Transaction
	for attempt := 1; ; attempt++ {
		err = o.call(ctx, func(cctx context.Context) error {
			var err error
			txn, err = o.cfg.Gateway.QueryOrder(cctx, o.ref())
			return err
		})
		if ctx.Err() != nil {
			return err
		}
		if err == nil || errors.Is(err, ErrNotFound) || attempt == 3 {
			break
		}
		if err := o.wait(ctx, o.cfg.SettleRetry); err != nil {
			return err
		}
	}
	switch {
	case err == nil && o.matches(txn, "final query"):
		switch txn.Outcome() {
		case OutcomePaid:
			o.paid(txn, "final query")
			return errPaid
		case OutcomeFailed:
			o.fail(failureReason(txn), txn.Code)
			return nil
		case OutcomeExpired:
			withdrawn = true // run out at the gateway: nobody can pay it now
			if !o.cpm() {
				want = StateExpired
			}
		case OutcomeClosed:
			withdrawn = true // by our withdrawal or on the gateway's own
		case OutcomePending:
			withdrawn = false // the withdrawal is still in progress
			o.stillOpen()
		}
		// Closed by our own withdrawal, or still pending on a wallet without
		// cancel: the kiosk stops offering it, and a late payment still
		// turns it Paid.
	case err == nil:
	case errors.Is(err, ErrNotFound):
		// Nothing at the gateway: nothing to charge.
	default:
		o.log.Warn("could not confirm the final state with the gateway; will keep checking", "err", err)
		o.unconfirmed = true
	}
	o.withdrawn = withdrawn
	if reason == cpmNotConfirmed && !withdrawn {
		reason = cpmNotConfirmedOpen
	}
	o.final(want, code, reason)
	return nil
}

// gatewayExpiry is when the gateway stops taking payment for the QR of a
// wallet without cancel: the kiosk's expiry where the gateway honours it,
// else the gateway's own (zero when not known).
func (o *Order) gatewayExpiry() time.Time {
	switch {
	case o.req.PayType.HonoursExpiry:
		return o.req.TxTime.Add(o.req.Expiry)
	case o.cfg.GatewayExpiry > 0:
		return o.req.TxTime.Add(o.cfg.GatewayExpiry)
	}
	return time.Time{}
}

// stillOpen notes that the gateway still holds the order payable although
// the kiosk stopped offering it: it is queried for LatePoll more (never
// past the time the gateway stops taking payment for it, when known).
func (o *Order) stillOpen() {
	if o.openUntil.IsZero() {
		o.openUntil = o.cfg.Clock.Now().Add(o.cfg.LatePoll)
		if !o.payableUntil.IsZero() && o.payableUntil.Before(o.openUntil) {
			o.openUntil = o.payableUntil
		}
		o.log.Info("the order stays payable at the gateway; watching for a late payment", "until", o.openUntil)
	}
}

func (o *Order) final(st State, code Code, reason string) {
	if o.state().Final() {
		return
	}
	o.update(finalKind(st), func(s *Snapshot) {
		s.State, s.Code, s.Reason, s.Cancelling, s.ConfirmingPaid = st, code, reason, false, false
		s.Withdrawn, s.PayableUntil = o.withdrawn, o.payableUntil
		s.NotConfirmed = reason == cpmNotConfirmed || reason == cpmNotConfirmedOpen
	})
	close(o.done)
	o.log.Info("order final", "state", st, "respcd", code)
}

func (o *Order) fail(reason string, code Code) { o.final(StateFailed, code, reason) }

// paid ends the order Paid on the gateway's record t, whose code the
// order keeps.
func (o *Order) paid(t *Transaction, source string) {
	if o.state().Final() {
		o.paidLate(t, source)
		return
	}
	o.final(StatePaid, t.Code, "")
	o.log.Info("order paid", "source", source)
}

// paidLate turns an Expired or Cancelled order into Paid: the gateway's
// record wins over what the screen showed, and the cashier must be told.
func (o *Order) paidLate(t *Transaction, source string) {
	if o.state() == StatePaid {
		return
	}
	o.update(EventPaidLate, func(s *Snapshot) {
		s.State, s.Code, s.Reason, s.Late, s.Cancelling = StatePaid, t.Code, "", true, false
	})
	o.log.Warn("order paid after the kiosk stopped offering it", "source", source)
}

// afterFinal keeps listening once the order is final: a late push proves a
// late payment, an unconfirmed result is checked until the gateway
// answers, and an order still payable at the gateway is queried for
// LatePoll. It ends when ctx does, once the order is Paid, or after
// LateWatch once the result is confirmed: a kiosk that runs for weeks does
// not keep a goroutine and a relay subscription for every sale.
func (o *Order) afterFinal(ctx context.Context) {
	watch := o.cfg.Clock.NewTimer(o.cfg.LateWatch)
	defer watch.Stop()
	watching := watch.C()
	for {
		if o.state() == StatePaid || (watching == nil && !o.unconfirmed) {
			return
		}
		var retry <-chan time.Time
		var t Timer
		switch {
		case o.unconfirmed:
			t = o.cfg.Clock.NewTimer(o.cfg.SettleRetry)
		case o.cfg.Clock.Now().Before(o.openUntil):
			t = o.cfg.Clock.NewTimer(o.cfg.PollSlow)
		}
		if t != nil {
			retry = t.C()
		}
		select {
		case <-ctx.Done():
			if t != nil {
				t.Stop()
			}
			return
		case <-watching:
			watching = nil
		case <-o.cancel:
		case up := <-o.link:
			o.onLink(up)
		case p := <-o.push:
			if o.state() != StatePaid && p.Outcome() == OutcomePaid && o.matches(&p, "push") {
				o.confirmPaid(ctx, "push")
			}
		case <-retry:
			cctx, cancel := context.WithTimeout(ctx, o.cfg.CallTimeout)
			txn, err := o.cfg.Gateway.QueryOrder(cctx, o.ref())
			cancel()
			if err == nil || errors.Is(err, ErrNotFound) {
				o.unconfirmed = false
			}
			if err == nil && o.matches(txn, "settle") {
				switch txn.Outcome() {
				case OutcomePaid:
					o.paidLate(txn, "late query")
				case OutcomePending:
					o.stillOpen()
				default: // closed or expired at the gateway now: nothing more to watch for
					o.openUntil = time.Time{}
				}
			}
		}
		if t != nil {
			t.Stop()
		}
	}
}

// String describes the order for logs.
func (o *Order) String() string {
	s := o.Snapshot()
	return fmt.Sprintf("order %s %s %s", s.OutTradeNo, s.Amount.Display(), s.State)
}

// cpm reports a customer-presented payment: the cashier scanned the
// customer's code; there is no QR to show.
func (o *Order) cpm() bool { return o.req.PayType.Mode == CPM }

// Reasons a customer-presented payment fails, for the cashier.
const (
	cpmNotConfirmed     = "The customer did not confirm the payment on the phone within 2 minutes; it was withdrawn and nothing was charged. Please charge again."
	cpmNotConfirmedOpen = "The customer did not confirm the payment on the phone within 2 minutes and the gateway cannot withdraw it: if the customer confirms it now, it shows as paid late. Please charge again."
	cpmNotSent          = "The payment never reached the gateway; nothing was charged. Please scan the code again."
)

// liveCPM takes a customer-presented payment to a final state. The code is
// charged once and never again (it may already be spent); a "confirming"
// (pending) answer is followed by a query every PollCPM; an unknown
// outcome is settled by query; one still unconfirmed after
// CPMConfirmWindow is withdrawn (reversal for Alipay, close for WeChat)
// and fails, so the cashier charges again. A restart resumes it the same
// way, without charging.
func (o *Order) liveCPM(ctx context.Context) error {
	if !o.cfg.Resume {
		g, ok := o.cfg.Gateway.(CPMGateway)
		if !ok {
			o.fail("This gateway cannot charge a scanned payment code.", "")
			return nil
		}
		var txn *Transaction
		err := o.call(ctx, func(cctx context.Context) error {
			var err error
			txn, err = g.ChargeCPM(cctx, o.req)
			return err
		})
		var fe *FieldError
		var ge *Error
		switch {
		case ctx.Err() != nil:
			return err
		case err == nil:
			if done, err := o.apply(txn, "charge"); done || err != nil {
				return err
			}
		case o.earlyPaid:
			// A push said paid: the gateway's record decides, not this
			// answer (an error can come after the payment went through).
			o.log.Warn("charge answered an error after a push said paid; asking the gateway", "err", err)
		case errors.As(err, &fe):
			o.fail(err.Error(), "")
			return nil
		case errors.As(err, &ge):
			o.fail(failureReason(&Transaction{Code: ge.Code, Text: ge.Text, ErrMsg: ge.Message}), ge.Code)
			return nil
		case errors.Is(err, ErrNotSent):
			o.fail(cpmNotSent, "")
			return nil
		default:
			o.log.Warn("outcome of the scanned code unknown; asking the gateway (never charging it again)", "err", err)
			o.update(EventChecking, func(s *Snapshot) { s.Reason = "Checking the payment with the gateway…" })
		}
	}
	if o.earlyPaid {
		o.claim(OutcomePaid)
	}
	if o.cancelAsked {
		return o.finish(ctx, StateCancelled, "", "")
	}
	if o.cfg.Resume || o.earlyPaid || o.state() == StateCreating {
		if done, err := o.poll(ctx); done || err != nil {
			return err
		}
	}
	return o.await(ctx)
}

// accepted shows a customer-presented payment the gateway holds.
func (o *Order) accepted(t *Transaction) {
	o.shownAt = o.cfg.Clock.Now()
	o.update(EventCreated, func(s *Snapshot) {
		s.SysSN, s.State, s.Reason = t.SysSN, StateAwaitingPayment, ""
	})
}
