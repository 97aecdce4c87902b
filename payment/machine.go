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
	// PollFast the interval while it is down or absent (2 s).
	PollSlow, PollFast time.Duration
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
	unconfirmed bool // final state shown, but the gateway has not confirmed it
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
	if req.Expiry == 0 {
		o.req.Expiry = DefaultExpiryMinutes * time.Minute
	}
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
	o.update(EventCreated, func(s *Snapshot) {
		s.SysSN, s.QRCode, s.State, s.Reason = created.SysSN, created.QRCode, StateAwaitingPayment, ""
	})
	if created.Existing != nil {
		if done, err := o.apply(created.Existing, "create"); done || err != nil {
			return err
		}
	}
	if created.QRCode == "" {
		o.log.Warn("order exists at the gateway but its QR code was lost; withdrawing it")
		return o.finish(ctx, StateFailed, "", "The QR code was lost in a network error; nothing was charged. Please charge again.")
	}
	if o.cfg.Resume {
		// Whatever happened while the kiosk was down, one query now.
		if done, err := o.poll(ctx); done || err != nil {
			return err
		}
	}
	return o.await(ctx)
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
	if errors.Is(err, errPaid) || ctx.Err() != nil {
		return nil, err
	}
	var fe *FieldError
	var ge *Error
	switch {
	case err == nil:
		if o.cancelAsked {
			o.update(EventCreated, func(s *Snapshot) {
				s.SysSN, s.QRCode, s.State, s.Reason = created.SysSN, created.QRCode, StateAwaitingPayment, ""
			})
			return nil, o.finish(ctx, StateCancelled, "", "")
		}
		return created, nil
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
		case errors.Is(err, errPaid) || ctx.Err() != nil:
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
			return o.finish(ctx, StateExpired, "", "")
		case <-o.cancel:
			poll.Stop()
			return o.finish(ctx, StateCancelled, "", "")
		case t := <-o.push:
			poll.Stop()
			if err := o.onPush(t); err != nil {
				return err
			}
			continue
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

func (o *Order) pollInterval() time.Duration {
	o.mu.Lock()
	up := o.snap.PushUp
	o.mu.Unlock()
	if up && o.pollFails == 0 {
		return o.cfg.PollSlow
	}
	return o.cfg.PollFast
}

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
	if errors.Is(err, errPaid) || ctx.Err() != nil {
		return true, err
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
	switch t.Outcome() {
	case OutcomePaid:
		o.paid(source)
		return true, errPaid
	case OutcomeFailed:
		o.fail(failureReason(t), t.Code)
		return true, nil
	case OutcomeExpired:
		o.final(StateExpired, "", "")
		return true, nil
	case OutcomeClosed:
		o.final(StateCancelled, t.Code, "The order was withdrawn at the gateway.")
		return true, nil
	}
	return false, nil
}

func failureReason(t *Transaction) string {
	if txt := t.Code.Text(); txt != "" {
		return txt
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

// onPush handles a notification; errPaid when it settles the order.
func (o *Order) onPush(t Transaction) error {
	if t.Outcome() != OutcomePaid {
		return nil // QFPay notifies successes only
	}
	if !o.matches(&t, "push") {
		return nil
	}
	o.paid("push")
	return errPaid
}

// call runs one gateway call while still listening to pushes, cancels and
// link changes. A push that proves payment wins at once (errPaid).
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
			if o.state().Final() && o.state() != StatePaid {
				if t.Outcome() == OutcomePaid && o.matches(&t, "push") {
					o.paidLate("push")
					return errPaid
				}
				continue
			}
			if err := o.onPush(t); err != nil {
				return err
			}
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
	switch {
	case errors.Is(err, errPaid) || ctx.Err() != nil:
		return err
	case errors.Is(err, ErrCancelUnsupported):
		o.log.Info("wallet has no cancel; the order is left to expire at the gateway", "pay_type", o.req.PayType.Code)
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
		if errors.Is(err, errPaid) || ctx.Err() != nil {
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
			o.paid("final query")
			return errPaid
		case OutcomeFailed:
			o.fail(failureReason(txn), txn.Code)
			return nil
		case OutcomeExpired:
			want = StateExpired
		case OutcomePending:
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
	o.final(want, code, reason)
	return nil
}

// stillOpen notes that the gateway still holds the order payable although
// the kiosk stopped offering it: it is queried for LatePoll more.
func (o *Order) stillOpen() {
	if o.openUntil.IsZero() {
		o.openUntil = o.cfg.Clock.Now().Add(o.cfg.LatePoll)
		o.log.Info("the order stays payable at the gateway; watching for a late payment", "for", o.cfg.LatePoll)
	}
}

func (o *Order) final(st State, code Code, reason string) {
	if o.state().Final() {
		return
	}
	o.update(finalKind(st), func(s *Snapshot) {
		s.State, s.Code, s.Reason, s.Cancelling = st, code, reason, false
	})
	close(o.done)
	o.log.Info("order final", "state", st, "respcd", code)
}

func (o *Order) fail(reason string, code Code) { o.final(StateFailed, code, reason) }

func (o *Order) paid(source string) {
	if o.state().Final() {
		o.paidLate(source)
		return
	}
	o.final(StatePaid, CodeSuccess, "")
	o.log.Info("order paid", "source", source)
}

// paidLate turns an Expired or Cancelled order into Paid: the gateway's
// record wins over what the screen showed, and the cashier must be told.
func (o *Order) paidLate(source string) {
	if o.state() == StatePaid {
		return
	}
	o.update(EventPaidLate, func(s *Snapshot) {
		s.State, s.Code, s.Reason, s.Late, s.Cancelling = StatePaid, CodeSuccess, "", true, false
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
				o.paidLate("push")
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
					o.paidLate("late query")
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
