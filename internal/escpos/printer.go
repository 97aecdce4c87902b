package escpos

import (
	"context"
	"errors"
	"image"
	"time"
)

// Defaults for the Options left at zero.
const (
	// DefaultTimeout bounds a whole print when the caller's context has no
	// deadline: a slip is under 150 KB, seconds even on a slow printer.
	DefaultTimeout = 30 * time.Second
	// DefaultDialTimeout: a printer on the shop's LAN answers in
	// milliseconds; longer means it is off.
	DefaultDialTimeout = 3 * time.Second
	// DefaultStatusTimeout: a printer that answers DLE EOT does so at once;
	// one that stays silent costs this once per job.
	DefaultStatusTimeout = 500 * time.Millisecond
)

// Options tune a Printer; the zero value is the defaults.
type Options struct {
	DialTimeout   time.Duration
	StatusTimeout time.Duration
	// BandRows is the height of one GS v 0 band, for printers that need
	// less than MaxBandRows.
	BandRows int
}

// Printer is one receipt printer at a configured address. Its methods are
// safe for concurrent use: jobs go one at a time, each on its own
// connection, so the printer stays free for other programs in between.
type Printer struct {
	addr string
	to   address
	opt  Options
	busy chan struct{}
}

// Open checks the address ("tcp://192.168.1.50:9100", "tcp://printer.local"
// for port 9100, or a device path such as "/dev/usb/lp0") and returns its
// printer. It connects to nothing.
func Open(addr string, opt Options) (*Printer, error) {
	to, err := parseAddress(addr)
	if err != nil {
		return nil, err
	}
	if opt.DialTimeout <= 0 {
		opt.DialTimeout = DefaultDialTimeout
	}
	if opt.StatusTimeout <= 0 {
		opt.StatusTimeout = DefaultStatusTimeout
	}
	return &Printer{addr: addr, to: to, opt: opt, busy: make(chan struct{}, 1)}, nil
}

// Addr is the address the printer was opened with.
func (p *Printer) Addr() string { return p.addr }

// Print prints img (one dot per pixel; a dark pixel is a dot) and cuts the
// paper. It first asks the printer's status and prints nothing when the
// printer says it cannot (ErrOutOfPaper, ErrCoverOpen, …); a printer that
// does not answer is printed to all the same. Errors are *Error with one
// of the ErrXxx kinds, or the context's error when the caller cancelled.
func (p *Printer) Print(ctx context.Context, img image.Image) error {
	job := Job(img, p.opt.BandRows)
	return p.session(ctx, func(l *link) error {
		st, err := l.status(p.opt.StatusTimeout)
		if err != nil {
			return err
		}
		if err := st.Err(); err != nil {
			return &Error{Err: err}
		}
		if err := l.write(job); err != nil {
			return err
		}
		return l.finish()
	})
}

// Status asks the printer how it is. A printer that cannot be reached is an
// error (ErrOffline, ErrNotConnected); one that does not answer has
// Status.Known false.
func (p *Printer) Status(ctx context.Context) (Status, error) {
	var st Status
	err := p.session(ctx, func(l *link) error {
		var err error
		st, err = l.status(p.opt.StatusTimeout)
		return err
	})
	return st, err
}

// session runs fn on a fresh link, one at a time, within the context's
// deadline (DefaultTimeout when it has none).
func (p *Printer) session(ctx context.Context, fn func(*link) error) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultTimeout)
		defer cancel()
	}
	select {
	case p.busy <- struct{}{}:
		defer func() { <-p.busy }()
	case <-ctx.Done():
		return p.fail(ctx, &Error{Err: ErrOffline, Cause: ctx.Err()})
	}
	var l *link
	var err error
	if p.to.device != "" {
		l, err = openDevice(ctx, p.to.device)
	} else {
		l, err = dialTCP(ctx, p.to.tcp, p.opt.DialTimeout)
	}
	if err != nil {
		return p.fail(ctx, err)
	}
	defer l.rw.Close()
	stop := context.AfterFunc(ctx, l.interrupt)
	defer stop()
	return p.fail(ctx, fn(l))
}

// fail gives an error the printer's address; a caller that cancelled gets
// its own context error back.
func (p *Printer) fail(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(ctx.Err(), context.Canceled) {
		return ctx.Err()
	}
	var e *Error
	if errors.As(err, &e) {
		e.Addr = p.addr
	}
	return err
}
