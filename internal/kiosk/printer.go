package kiosk

import (
	"context"
	"errors"
	"image"
	_ "image/jpeg" // the merchant's logo
	_ "image/png"
	"os"
	"sync"
	"time"

	"qrkiosk/internal/escpos"
	"qrkiosk/internal/journal"
	"qrkiosk/internal/receipt"
	"qrkiosk/payment"
)

// ErrNoPrinter: the kiosk has no [printer] configured.
var ErrNoPrinter = errors.New("no receipt printer configured")

// ErrPrintQueueFull: more slips wait than a printer prints in a minute;
// the printer is stuck or far too slow.
var ErrPrintQueueFull = errors.New("print queue full")

// printQueue is how many slips may wait for the printer.
const printQueue = 16

// PrintTimeout bounds one slip: dialling, the status query and the data.
// A printer that takes longer is reported, and its slip can be printed
// again. A variable for tests.
var PrintTimeout = 20 * time.Second

// What a print job prints.
const (
	JobSale    = "sale"
	JobRefund  = "refund"
	JobSummary = "summary"
	// jobDrain prints nothing: once it is taken, every slip queued before
	// it is done.
	jobDrain = "drain"
)

// PrintResult is the outcome of one slip, as the cashier pane shows it.
type PrintResult struct {
	Job        string // JobSale, JobRefund or JobSummary
	OutTradeNo string // the sale's or the refund's; "" for a summary
	// Err is nil when the slip printed; else escpos's kinds
	// (escpos.ErrOffline, ErrOutOfPaper, …), ErrPrintQueueFull, or why
	// the slip could not be made.
	Err error
	At  time.Time
}

// Printer prints the kiosk's receipts, one slip at a time on a goroutine
// of its own: a sale never waits for paper. It is safe for concurrent use.
// With no printer configured every print is ErrNoPrinter.
type Printer struct {
	k    *Kiosk
	dev  *escpos.Printer // nil: none configured
	auto bool
	opts receipt.Options
	jobs chan printJob
	stop chan struct{}
	done chan struct{}

	mu       sync.Mutex
	watchers map[*func(PrintResult)]struct{}
	printed  map[string]bool // sales printed since start: printed again, they say COPY
	closed   bool
}

type printJob struct {
	kind       string
	outTradeNo string
	from, to   string
	// paid is the sale as its order machine ended it, for a slip printed
	// the moment it is paid (the journal may be writing it still).
	paid   *payment.Snapshot
	result chan error // nil: nobody waits
}

// newPrinter opens the configured printer (config check has made sure the
// address parses) and starts its goroutine.
func newPrinter(k *Kiosk) *Printer {
	p := &Printer{k: k, jobs: make(chan printJob, printQueue), stop: make(chan struct{}), done: make(chan struct{}),
		watchers: map[*func(PrintResult)]struct{}{}, printed: map[string]bool{}}
	cfg := k.Config.Printer
	if cfg.Address != "" {
		dev, err := escpos.Open(cfg.Address, escpos.Options{})
		if err != nil {
			k.log.Error("receipt printer not used", "address", cfg.Address, "err", err)
		} else {
			p.dev, p.auto = dev, cfg.Auto
			p.opts = receipt.Options{Width: cfg.Dots(), Zone: k.Journal.Location(), Logo: loadLogo(k.Config.Logo, k)}
		}
	}
	go p.run()
	return p
}

// Printer is the kiosk's receipt printer (never nil).
func (k *Kiosk) Printer() *Printer { return k.printer }

// Configured reports whether a printer is set up.
func (p *Printer) Configured() bool { return p.dev != nil }

// Auto reports whether every paid sale prints by itself.
func (p *Printer) Auto() bool { return p.auto }

// Address is the printer's address as configured ("" = none).
func (p *Printer) Address() string {
	if p.dev == nil {
		return ""
	}
	return p.dev.Addr()
}

// Watch calls fn with the outcome of every slip, on the printer's
// goroutine, until stop.
func (p *Printer) Watch(fn func(PrintResult)) (stop func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.watchers[&fn] = struct{}{}
	return func() {
		p.mu.Lock()
		delete(p.watchers, &fn)
		p.mu.Unlock()
	}
}

// PrintSale prints a paid sale's receipt (COPY when it printed before)
// and returns once it printed or failed; ctx bounds the wait, not the
// print.
func (p *Printer) PrintSale(ctx context.Context, outTradeNo string) error {
	return p.submit(ctx, printJob{kind: JobSale, outTradeNo: outTradeNo})
}

// PrintRefund prints the receipt of a refund the gateway confirmed.
func (p *Printer) PrintRefund(ctx context.Context, refundOutTradeNo string) error {
	return p.submit(ctx, printJob{kind: JobRefund, outTradeNo: refundOutTradeNo})
}

// PrintSummary prints the end-of-day summary of a period (from and to as
// YYYY-MM-DD, "" today), checked against the gateway.
func (p *Printer) PrintSummary(ctx context.Context, from, to string) error {
	return p.submit(ctx, printJob{kind: JobSummary, from: from, to: to})
}

// Status asks the printer how it is (see escpos.Printer.Status).
func (p *Printer) Status(ctx context.Context) (escpos.Status, error) {
	if p.dev == nil {
		return escpos.Status{}, ErrNoPrinter
	}
	return p.dev.Status(ctx)
}

func (p *Printer) submit(ctx context.Context, j printJob) error {
	if p.dev == nil {
		return ErrNoPrinter
	}
	j.result = make(chan error, 1)
	if err := p.enqueue(j); err != nil {
		return err
	}
	select {
	case err := <-j.result:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// enqueue queues a job without waiting; a full queue is reported to the
// watchers like a failed slip.
func (p *Printer) enqueue(j printJob) error {
	p.mu.Lock()
	closed := p.closed
	p.mu.Unlock()
	if closed {
		return ErrNoPrinter
	}
	select {
	case p.jobs <- j:
		return nil
	default:
		p.report(PrintResult{Job: j.kind, OutTradeNo: j.outTradeNo, Err: ErrPrintQueueFull, At: time.Now()})
		return ErrPrintQueueFull
	}
}

// onPaid prints a sale the moment its machine says it is paid, when the
// kiosk prints every sale; called on the machine's goroutine, after the
// journal's observer, so it only queues.
func (p *Printer) onPaid(snap payment.Snapshot) {
	if p.dev == nil || !p.auto {
		return
	}
	if err := p.enqueue(printJob{kind: JobSale, outTradeNo: snap.OutTradeNo, paid: &snap}); err != nil {
		p.k.log.Warn("receipt not printed", "out_trade_no", snap.OutTradeNo, "err", err)
	}
}

func (p *Printer) run() {
	defer close(p.done)
	for {
		select {
		case <-p.stop:
			return
		case j := <-p.jobs:
			if j.kind == jobDrain {
				j.result <- nil
				continue
			}
			err := p.print(j)
			if j.result != nil {
				j.result <- err
			}
			p.report(PrintResult{Job: j.kind, OutTradeNo: j.outTradeNo, Err: err, At: time.Now()})
		}
	}
}

// print makes the job's slip and prints it.
func (p *Printer) print(j printJob) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-p.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	// Making the slip and printing it have a limit each: a summary first
	// asks the gateway (up to SummaryWait, then it prints unchecked), and
	// that wait must not eat the printer's time.
	limit := PrintTimeout
	if j.kind == JobSummary {
		limit = SummaryWait + PrintTimeout
	}
	mctx, mcancel := context.WithTimeout(ctx, limit)
	img, err := p.slip(mctx, j)
	mcancel()
	if err != nil {
		p.k.log.Error("receipt not made", "job", j.kind, "out_trade_no", j.outTradeNo, "err", err)
		return err
	}
	pctx, pcancel := context.WithTimeout(ctx, PrintTimeout)
	defer pcancel()
	if err := p.dev.Print(pctx, img); err != nil {
		p.k.log.Warn("receipt not printed", "job", j.kind, "out_trade_no", j.outTradeNo, "printer", p.dev.Addr(), "err", err)
		return err
	}
	if j.kind == JobSale {
		p.mu.Lock()
		p.printed[j.outTradeNo] = true
		p.mu.Unlock()
	}
	p.k.log.Info("receipt printed", "job", j.kind, "out_trade_no", j.outTradeNo)
	return nil
}

// slip draws the job's slip from the journal (a sale just paid from its
// machine's snapshot when the journal does not have it paid yet).
func (p *Printer) slip(ctx context.Context, j printJob) (image.Image, error) {
	switch j.kind {
	case JobRefund:
		s, err := p.k.RefundSlip(ctx, j.outTradeNo)
		if err != nil {
			return nil, err
		}
		return receipt.Render(s, p.opts)
	case JobSummary:
		s, _, err := p.k.Summary(ctx, j.from, j.to)
		if err != nil {
			return nil, err
		}
		return receipt.RenderSummary(s, p.opts)
	}
	s, err := p.k.SaleSlip(ctx, j.outTradeNo)
	if err != nil && j.paid != nil {
		// The journal keeps a transition it could not write yet: the
		// machine's word is the gateway's.
		s, err = p.k.saleSlip(orderOf(*j.paid), time.Now()), nil
	}
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	s.Copy = p.printed[j.outTradeNo]
	p.mu.Unlock()
	return receipt.Render(s, p.opts)
}

// orderOf is a paid snapshot as the journal would hold it.
func orderOf(s payment.Snapshot) journal.Order {
	return journal.Order{OutTradeNo: s.OutTradeNo, SysSN: s.SysSN, Amount: s.Amount, PayType: s.PayType, State: s.State}
}

func (p *Printer) report(r PrintResult) {
	p.mu.Lock()
	fns := make([]func(PrintResult), 0, len(p.watchers))
	for fn := range p.watchers {
		fns = append(fns, *fn)
	}
	p.mu.Unlock()
	for _, fn := range fns {
		fn(r)
	}
}

// closeWait bounds how long Close lets the slips already queued print
// (`qrkiosk charge` ends the moment its sale is paid).
const closeWait = 5 * time.Second

// close lets the queued slips print for up to closeWait, then stops the
// printer's goroutine: a slip still printing is abandoned (it can be
// printed again from the journal).
func (p *Printer) close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	p.mu.Unlock()
	drained := make(chan error, 1)
	select {
	case p.jobs <- printJob{kind: jobDrain, result: drained}:
		select {
		case <-drained:
		case <-time.After(closeWait):
			p.k.log.Warn("receipts still queued at exit are not printed")
		}
	default:
	}
	close(p.stop)
	<-p.done
}

// loadLogo reads the merchant's logo for the slips (config check has made
// sure it is a PNG or JPEG); one that cannot be read is logged and left
// out.
func loadLogo(path string, k *Kiosk) image.Image {
	if path == "" {
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		k.log.Warn("logo not printed", "path", path, "err", err)
		return nil
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		k.log.Warn("logo not printed", "path", path, "err", err)
		return nil
	}
	return img
}
