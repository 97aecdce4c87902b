package settle

import (
	"context"
	"errors"
	"sync"

	"qrkiosk/internal/journal"
	"qrkiosk/payment"
)

// Recovery follows the orders a previous run left unfinished.
type Recovery struct {
	// Orders are the machines following them: show those still awaiting
	// payment again; the others settle by themselves.
	Orders []*payment.Order
	// Records are the journal's records at the start, in the same order.
	Records []journal.Order
	// Foreign are unfinished orders of another gateway than the one the
	// kiosk runs with: they cannot be checked now and stay unfinished
	// until the kiosk runs with their gateway again.
	Foreign []journal.Order

	mu      sync.Mutex
	checked map[string]chan struct{}
	known   map[string]bool
	// settle: past its deadline or cancel asked at the restart, so Wait
	// waits for the order to be final.
	settle map[string]bool
}

// Recover resumes every order the journal holds as not final: the machine
// asks the gateway (it never creates again); paid → Paid, and marked as
// paid while the kiosk was offline (journal.AlertPaidOffline); pending
// before its deadline → followed again; past its deadline (or the cashier
// had asked to cancel) → withdrawn and settled by a final query. The
// machines run until ctx ends; whatever is not final by then is resumed at
// the next start. cfg.Gateway is the plain gateway; Recover journals it.
// Resume and Known are set per order.
func Recover(ctx context.Context, j *journal.Journal, cfg payment.MachineConfig) (*Recovery, error) {
	all, err := j.Pending(ctx)
	if err != nil {
		return nil, err
	}
	r := &Recovery{checked: map[string]chan struct{}{}, known: map[string]bool{}, settle: map[string]bool{}}
	var pending []journal.Order
	for _, rec := range all {
		if rec.Gateway != j.GatewayName() {
			j.Logger().Warn("an unfinished order of another gateway is left as it is", "out_trade_no", rec.OutTradeNo, "gateway", rec.Gateway, "kiosk_gateway", j.GatewayName())
			r.Foreign = append(r.Foreign, rec)
			continue
		}
		pending = append(pending, rec)
	}
	if len(pending) == 0 {
		return r, nil
	}
	tg := &trackingGateway{OrderGateway: Journaled(j, cfg.Gateway), first: map[string]payment.Outcome{}, onAnswer: r.answered}
	clock := cfg.Clock
	if clock == nil {
		clock = payment.RealClock{}
	}
	// The maps are filled before any machine starts: observers read them.
	for _, rec := range pending {
		r.checked[rec.OutTradeNo] = make(chan struct{})
		r.known[rec.OutTradeNo] = rec.SysSN != "" && rec.QRCode != ""
		r.settle[rec.OutTradeNo] = rec.CancelAsked || !clock.Now().Before(rec.Deadline)
	}
	for _, rec := range pending {
		if err := j.RecordResume(ctx, rec); err != nil {
			return nil, err
		}
		mc := cfg
		mc.Gateway = tg
		mc.Reissue = j.Reissue
		mc.Resume = true
		mc.Known = nil
		if r.known[rec.OutTradeNo] {
			mc.Known = &payment.Created{SysSN: rec.SysSN, OutTradeNo: rec.OutTradeNo, QRCode: rec.QRCode}
		}
		req := payment.CreateRequest{
			OutTradeNo: rec.OutTradeNo, Amount: rec.Amount, PayType: rec.PayType,
			Expiry: rec.Expiry, GoodsName: rec.GoodsName, TxTime: rec.TxTime,
		}
		otn := rec.OutTradeNo
		// The journal's observer runs first, so an order is marked checked
		// only once the journal shows what the gateway said.
		obs := func(e payment.Event) {
			if e.Kind == payment.EventCreated && !r.known[otn] && tg.firstWas(otn, payment.OutcomePending) {
				r.markChecked(otn) // found pending at the gateway and adopted
			}
			if !e.State.Final() {
				return
			}
			if e.Kind == payment.EventPaid && tg.firstWas(otn, payment.OutcomePaid) {
				j.MarkPaidOffline(otn)
			}
			r.markChecked(otn)
		}
		o := payment.StartOrder(ctx, mc, req, j.Observer(), obs)
		if rec.CancelAsked && clock.Now().Before(rec.Deadline) {
			// The cashier had asked to cancel when the kiosk went down: honour it.
			o.Cancel()
		}
		r.Orders = append(r.Orders, o)
		r.Records = append(r.Records, rec)
	}
	return r, nil
}

// answered is told each first gateway answer. A pending answer changes
// nothing in the journal of an order whose create answer was recorded; any
// other answer is followed by an event, which marks the order checked.
func (r *Recovery) answered(outTradeNo string, out payment.Outcome) {
	if out == payment.OutcomePending && r.known[outTradeNo] {
		r.markChecked(outTradeNo)
	}
}

func (r *Recovery) markChecked(outTradeNo string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c, ok := r.checked[outTradeNo]; ok {
		select {
		case <-c:
		default:
			close(c)
		}
	}
}

// Wait returns once the gateway has answered about every recovered order
// (so the journal shows what the gateway holds) and every order past its
// deadline is final — or when ctx ends, with its error.
func (r *Recovery) Wait(ctx context.Context) error {
	for i, o := range r.Orders {
		select {
		case <-r.checked[r.Records[i].OutTradeNo]:
		case <-ctx.Done():
			return ctx.Err()
		}
		if r.settle[r.Records[i].OutTradeNo] {
			select {
			case <-o.Done():
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	return nil
}

// trackingGateway notes each order's first answer from the gateway after the
// restart: paid at once means paid while the kiosk was down.
type trackingGateway struct {
	payment.OrderGateway
	onAnswer func(outTradeNo string, out payment.Outcome)

	mu    sync.Mutex
	first map[string]payment.Outcome
}

func (g *trackingGateway) QueryOrder(ctx context.Context, ref payment.OrderRef) (*payment.Transaction, error) {
	t, err := g.OrderGateway.QueryOrder(ctx, ref)
	outTradeNo := ref.OutTradeNo
	if err == nil || errors.Is(err, payment.ErrNotFound) {
		out := payment.OutcomeFailed // not found: the machine fails the order
		if err == nil {
			out = t.Outcome()
		}
		g.mu.Lock()
		_, seen := g.first[outTradeNo]
		if !seen {
			g.first[outTradeNo] = out
		}
		g.mu.Unlock()
		if !seen {
			g.onAnswer(outTradeNo, out)
		}
	}
	return t, err
}

func (g *trackingGateway) firstWas(outTradeNo string, out payment.Outcome) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	got, ok := g.first[outTradeNo]
	return ok && got == out
}
