// Package terminal makes the kiosk a QFPay ECR terminal: it serves the
// routes a shop's POS calls (/api/pos/<endpoint> on the kiosk's LAN
// server), drives the kiosk's till with them, and carries each result to
// the POS's webhook through an outbox kept in the journal.
package terminal

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"qrkiosk/internal/ecr"
	"qrkiosk/internal/journal"
	"qrkiosk/internal/kiosk"
	"qrkiosk/internal/lan"
)

// Printer prints on the kiosk's receipt printer (3001, 3002), as
// *kiosk.Printer does; nil: the kiosk has none, and the POS is told so.
type Printer interface {
	PrintSale(ctx context.Context, outTradeNo string) error
	PrintSummary(ctx context.Context, from, to string) error
}

// Options are the terminal's choices beyond [ecr]; zero fields take the
// defaults in brackets.
type Options struct {
	// Printer [the kiosk's receipt printer, when [printer] names one].
	Printer Printer
	// RefundWait is how long a POS's refund waits for the manager PIN on
	// the kiosk before it is refused [2m].
	RefundWait time.Duration
	// Webhook posts the notifications [a client with the system's roots,
	// 15 s timeout, no redirects].
	Webhook *http.Client
	// Backoff is the wait before each retry of a notification the POS did
	// not take [5s, 15s, 30s, 1m, 2m, 5m, then 10m]; GiveUp how long one
	// is tried [24h, as QFPay does].
	Backoff []time.Duration
	GiveUp  time.Duration
	// Sweep is how often the journal is looked through for results not
	// yet in the outbox (a sale resumed after a restart) [15s].
	Sweep time.Duration
}

// Route is how the POS's endpoint is served: bodies capped well above
// what the decoder takes (it answers an oversized one itself, in the
// protocol), a few requests a second per POS, answers any origin can read
// (the POS is often a page in the cashier's browser).
var Route = lan.Route{MaxBody: 64 << 10, Rate: 2, Burst: 10, CrossOrigin: true}

// Terminal answers a POS on the kiosk's LAN server.
type Terminal struct {
	k    *kiosk.Kiosk
	keys ecr.Keys
	opts Options
	log  *slog.Logger
	ref  *lan.Sampler
	box  *outbox

	// startMu makes looking up a POS's reference and starting its sale one
	// step: a POS that retries at once attaches to the first request's
	// sale instead of racing it.
	startMu sync.Mutex
	waits   map[string]*kiosk.WaitTicket // SCAN_PAY sales waiting for the scanner, by reference
	// timedOut are the sales withdrawn because payment_timeout passed.
	timedOut map[string]bool
	// noticeMu makes a result's notice once, whoever asks first (the
	// request held for it, or the sweep).
	noticeMu sync.Mutex

	ctx      context.Context // ends with Close: held requests answer and return
	stop     context.CancelFunc
	wg       sync.WaitGroup
	stopTill func()
}

// Serve registers the POS's routes on the kiosk's LAN server and starts the
// outbox. It is an error when [ecr] is off or the LAN server is not
// running.
func Serve(k *kiosk.Kiosk, opts Options) (*Terminal, error) {
	cfg := k.Config.ECR
	if !cfg.On() {
		return nil, errors.New("ecr: no POS-KEY set ([ecr] pos_key): the kiosk does not answer a POS")
	}
	keys := ecr.Keys{POSKey: cfg.POSKey, Encryption: cfg.Encryption, Currency: k.Config.Currency}
	if err := keys.Check(); err != nil {
		return nil, err
	}
	l := k.LAN()
	if err := l.Err(); err != nil {
		return nil, err
	}
	if opts.Printer == nil && k.Printer().Configured() {
		opts.Printer = k.Printer()
	}
	t := newTerminal(k, keys, opts)
	l.Handle("/api/pos/{endpoint}", t, Route)
	t.start()
	k.Logger().Info("ecr: answering the POS", "url", l.URL()+"/api/pos/", "encryption", cfg.Encryption, "notify_url", cfg.NotifyURL)
	return t, nil
}

func newTerminal(k *kiosk.Kiosk, keys ecr.Keys, opts Options) *Terminal {
	if opts.RefundWait <= 0 {
		opts.RefundWait = 2 * time.Minute
	}
	if opts.Sweep <= 0 {
		opts.Sweep = 15 * time.Second
	}
	log := k.Logger().With("part", "ecr")
	t := &Terminal{k: k, keys: keys, opts: opts, log: log, ref: newRefusals(log, time.Minute),
		waits: map[string]*kiosk.WaitTicket{}, timedOut: map[string]bool{}}
	t.ctx, t.stop = context.WithCancel(context.Background())
	t.box = newOutbox(k.Journal, k.Config.ECR.NotifyKey, opts, log)
	return t
}

// start runs the outbox and the sweep until Close; a POS sale that ends
// (however it was followed) is swept at once.
func (t *Terminal) start() {
	t.wg.Add(2)
	go func() {
		defer t.wg.Done()
		t.box.run(t.ctx)
	}()
	sweepNow := make(chan struct{}, 1)
	t.stopTill = t.k.Till.Observe(func(ev kiosk.TillEvent) {
		if ev.Kind == kiosk.TillOrderEvent && ev.Sale.FromPOS && ev.Event.State.Final() {
			select {
			case sweepNow <- struct{}{}:
			default:
			}
		}
	})
	go func() {
		defer t.wg.Done()
		tick := time.NewTicker(t.opts.Sweep)
		defer tick.Stop()
		for {
			t.sweep(t.ctx)
			select {
			case <-t.ctx.Done():
				return
			case <-tick.C:
			case <-sweepNow:
			}
		}
	}()
}

// Close answers the requests still held (the kiosk is closing), stops the
// outbox (what it has not delivered stays in the journal for the next
// start) and waits for them.
func (t *Terminal) Close() {
	if t.stopTill != nil {
		t.stopTill()
	}
	t.stop()
	t.wg.Wait()
}

// ServeHTTP answers one POS request. Every answer is the protocol's JSON
// with HTTP 200 (what QFPay's terminal does; Odoo reads the body only).
func (t *Terminal) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	endpoint := r.PathValue("endpoint")
	a := t.serve(w, r, endpoint)
	if a.Respcd == "" { // the POS went away: nothing to answer
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(a.JSON())
}

// serve decodes and checks the request, then carries it out.
func (t *Terminal) serve(w http.ResponseWriter, r *http.Request, endpoint string) ecr.Answer {
	src := r.RemoteAddr
	if r.Method != http.MethodPost {
		return t.refuse(src, endpoint, ecr.Refused(ecr.CodeWrongMethod, "use POST"))
	}
	if _, ok := ecr.FuncTypeOf(endpoint); !ok {
		return t.refuse(src, endpoint, ecr.Refused(ecr.CodeOther, "unknown endpoint /api/pos/"+endpoint+": trade, cancel, cancel_request, query_transaction, print_receipt, transaction_info"))
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, ecr.MaxBody+1))
	if err != nil {
		return t.refuse(src, endpoint, ecr.Refused(ecr.CodeOther, "the request body could not be read"))
	}
	req, err := ecr.Decode(body, t.keys)
	if err == nil {
		err = ecr.CheckEndpoint(endpoint, req)
	}
	if err == nil {
		err = ecr.CheckFields(req)
	}
	if err != nil {
		return t.refuse(src, endpoint, ecr.AnswerFor(err))
	}
	t.log.Info("ecr: request", "endpoint", endpoint, "source", src, "func_type", int(req.FuncType()))
	var a ecr.Answer
	switch req := req.(type) {
	case *ecr.Payment:
		a = t.trade(w, r, req)
	case *ecr.Refund:
		a = t.refund(w, r, req)
	case *ecr.CancelRequest:
		a = t.cancelRequest()
	case *ecr.Inquiry:
		a = t.inquiry(r.Context(), req)
	case *ecr.PrintReceipt:
		a = t.printReceipt(r.Context(), req)
	case *ecr.PrintSummary:
		a = t.printSummary(r.Context())
	}
	if a.Respcd != "" {
		t.log.Info("ecr: answer", "endpoint", endpoint, "respcd", string(a.Respcd), "resperr", a.Resperr)
	}
	return a
}

// refuse logs a refused request (sampled; never the body, a key or a
// digest) and returns its answer.
func (t *Terminal) refuse(src, endpoint string, a ecr.Answer) ecr.Answer {
	t.ref.Refuse("request", "ecr: request refused", "endpoint", endpoint, "source", src, "respcd", string(a.Respcd), "resperr", a.Resperr)
	return a
}

// hold lets a request stay open for d: the POS's trade and refund are
// answered only once their outcome is known, beyond the LAN server's
// usual deadlines.
func hold(w http.ResponseWriter, d time.Duration) {
	rc := http.NewResponseController(w)
	until := time.Now().Add(d)
	// An expired read deadline would end the request's context (the
	// server watches the connection for the client going away).
	rc.SetReadDeadline(until)
	rc.SetWriteDeadline(until)
}

// findOrder finds the payment a POS names (orderId: the syssn, or an
// out_trade_no, the POS's or the kiosk's).
func (t *Terminal) findOrder(ctx context.Context, id string) (journal.Order, error) {
	j := t.k.Journal
	if o, err := j.OrderBySysSN(ctx, id); !errors.Is(err, journal.ErrNotFound) {
		return o, err
	}
	if s, err := j.POSSale(ctx, id); err == nil && s.Order != nil {
		return *s.Order, nil
	} else if err != nil && !errors.Is(err, journal.ErrNotFound) {
		return journal.Order{}, err
	}
	return j.Order(ctx, id)
}
