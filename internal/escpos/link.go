package escpos

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// link is one open connection to a printer: a TCP connection or an open
// device file. Every call ends by the deadline given to open.
type link struct {
	rw interface {
		io.ReadWriteCloser
		SetReadDeadline(time.Time) error
		SetWriteDeadline(time.Time) error
	}
	deadline time.Time
	done     <-chan struct{} // the caller's context
	// readable: the printer's answers can be read (a TCP connection, a
	// USB printer opened read-write); otherwise its status is unknown.
	readable bool
	device   bool
}

// closeWait bounds how long a finished TCP job waits for the printer to
// close its side, which tells that it has read the whole job.
const closeWait = 3 * time.Second

// dialTCP connects to a network printer. Refused, unreachable and timed
// out are all ErrOffline: to the cashier the printer is off.
func dialTCP(ctx context.Context, hostport string, timeout time.Duration) (*link, error) {
	d := net.Dialer{Timeout: timeout}
	c, err := d.DialContext(ctx, "tcp", hostport)
	if err != nil {
		return nil, kindError(ErrOffline, err)
	}
	dl, _ := ctx.Deadline()
	c.SetWriteDeadline(dl)
	return &link{rw: c, deadline: dl, done: ctx.Done(), readable: true}, nil
}

// openDevice opens a printer's device file without blocking: a USB printer
// (a character device) read-write for its status when allowed, anything
// else (a FIFO to a print spooler) write-only.
func openDevice(ctx context.Context, path string) (*link, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, openError(err)
	}
	if !printerFile(fi.Mode()) {
		return nil, kindError(ErrNotADevice, fmt.Errorf("%s is a %s", path, fileKind(fi.Mode())))
	}
	var f *os.File
	readable := fi.Mode()&fs.ModeCharDevice != 0
	if readable {
		f, err = os.OpenFile(path, os.O_RDWR|syscall.O_NONBLOCK, 0)
		if errors.Is(err, fs.ErrPermission) {
			readable = false
		}
	}
	if !readable {
		f, err = os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0)
	}
	if err != nil {
		return nil, openError(err)
	}
	// Only a device or a FIFO is a printer: a print job written into a
	// regular file (config.toml, the journal) would destroy it. Checked on
	// what was opened, so a path swapped after the Stat is caught too.
	if fi, err := f.Stat(); err != nil || !printerFile(fi.Mode()) {
		f.Close()
		if err == nil {
			err = fmt.Errorf("%s is a %s", path, fileKind(fi.Mode()))
		}
		return nil, kindError(ErrNotADevice, err)
	}
	dl, _ := ctx.Deadline()
	// A device without deadlines (os.ErrNoDeadline) is written blocking.
	f.SetWriteDeadline(dl)
	return &link{rw: f, deadline: dl, done: ctx.Done(), readable: readable, device: true}, nil
}

// printerFile: only a device or a FIFO (a spooler's) can be a printer.
func printerFile(m fs.FileMode) bool { return m&(fs.ModeCharDevice|fs.ModeNamedPipe) != 0 }

// fileKind names what a path is, for a refusal.
func fileKind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "directory"
	case m.IsRegular():
		return "regular file"
	}
	return "file of mode " + m.Type().String()
}

func openError(err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENODEV), errors.Is(err, syscall.ENXIO):
		// ENXIO: a FIFO with no reader, a device node whose printer is gone.
		return kindError(ErrNotConnected, err)
	case errors.Is(err, fs.ErrPermission):
		return kindError(ErrNoPermission, err)
	}
	return kindError(ErrOffline, err)
}

// kindError pairs a kind with its cause until the Printer adds its address.
func kindError(kind, cause error) error { return &Error{Err: kind, Cause: cause} }

// interrupt makes pending and later I/O fail at once (the caller's context
// is done).
func (l *link) interrupt() {
	past := time.Unix(1, 0)
	l.rw.SetReadDeadline(past)
	l.rw.SetWriteDeadline(past)
}

func (l *link) write(b []byte) error {
	if _, err := l.rw.Write(b); err != nil {
		return l.ioError(err)
	}
	return nil
}

// ioError names what a failed read or write means for the cashier.
func (l *link) ioError(err error) error {
	switch {
	case l.device && errors.Is(err, syscall.ENOSPC):
		// usblp's answer when the printer reports paper end.
		return kindError(ErrOutOfPaper, err)
	case l.device && (errors.Is(err, syscall.ENODEV) || errors.Is(err, syscall.ENXIO) || errors.Is(err, syscall.EPIPE)):
		return kindError(ErrNotConnected, err)
	}
	return kindError(ErrOffline, err)
}

// status asks DLE EOT 1, 2 and 4, each answer awaited at most timeout. A
// printer that does not answer the first, or answers something that is no
// status, has an unknown status; a closed or broken link is an error.
func (l *link) status(timeout time.Duration) (Status, error) {
	var st Status
	if !l.readable {
		return st, nil
	}
	var b [1]byte
	if l.device {
		// A USB printer's read buffer outlives the open: drop what an
		// earlier session left (a late answer) so it is not taken for ours.
		l.rw.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
		for {
			if _, err := l.rw.Read(b[:]); err != nil {
				break
			}
		}
	}
	for _, n := range statusRequests {
		if err := l.write(StatusRequest(n)); err != nil {
			return Status{}, err
		}
		wait := time.Now().Add(timeout)
		if !l.deadline.IsZero() && l.deadline.Before(wait) {
			wait = l.deadline
		}
		l.rw.SetReadDeadline(wait)
		_, err := io.ReadFull(l.rw, b[:])
		switch {
		case errors.Is(err, os.ErrDeadlineExceeded):
			return Status{}, nil // silent: the job's own writes tell whether it is there
		case errors.Is(err, io.EOF) && l.device:
			return Status{}, nil // a FIFO or a printer that cannot answer
		case err != nil:
			return Status{}, l.ioError(err)
		case !validStatus(b[0]):
			return Status{}, nil
		}
		st.apply(n, b[0])
	}
	st.Known = true
	return st, nil
}

// finish waits, until the deadline, for the printer to have taken the whole
// job, then closes the link. Closing at once could lose its end: a TCP
// socket closed with an unread byte in it (a late status answer) is reset,
// and closing a USB printer kills the transfer still in flight.
func (l *link) finish() error {
	defer l.rw.Close()
	if l.device {
		return l.drainDevice()
	}
	c, ok := l.rw.(*net.TCPConn)
	if !ok {
		return nil
	}
	if err := c.CloseWrite(); err != nil {
		return l.ioError(err)
	}
	wait := time.Now().Add(closeWait)
	if !l.deadline.IsZero() && l.deadline.Before(wait) {
		wait = l.deadline
	}
	c.SetReadDeadline(wait)
	// The printer closes its side once it has read everything; one that
	// keeps it open is left at the wait, its job most likely printed.
	io.Copy(io.Discard, c)
	return nil
}

// drainDevice waits until the device can take more, which for usblp means
// the last transfer has completed. It polls in slices so that a cancelled
// caller is not held until the deadline.
func (l *link) drainDevice() error {
	f, ok := l.rw.(*os.File)
	if !ok {
		return nil
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return nil
	}
	var perr error
	rc.Control(func(fd uintptr) {
		const slice = 100 * time.Millisecond
		for {
			select {
			case <-l.done:
				perr = kindError(ErrOffline, context.Canceled)
				return
			default:
			}
			ms := int(slice / time.Millisecond)
			if !l.deadline.IsZero() {
				left := time.Until(l.deadline)
				if left <= 0 {
					perr = kindError(ErrOffline, os.ErrDeadlineExceeded)
					return
				}
				ms = int(min(left, slice)/time.Millisecond) + 1
			}
			fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLOUT}}
			n, err := unix.Poll(fds, ms)
			switch {
			case errors.Is(err, unix.EINTR), err == nil && n == 0:
				continue
			case err != nil:
				perr = l.ioError(err)
			case fds[0].Revents&(unix.POLLHUP|unix.POLLERR) != 0:
				perr = kindError(ErrNotConnected, syscall.ENODEV)
			}
			return
		}
	})
	return perr
}
