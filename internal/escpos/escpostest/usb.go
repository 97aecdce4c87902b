package escpostest

import (
	"fmt"
	"os"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// StartUSB runs the fake printer behind a pseudo-terminal in raw mode. Its
// Addr (/dev/pts/N) is a character device which, like a USB printer's
// /dev/usb/lp0, is opened read-write, takes jobs and answers status; a job
// ends at its cut. An unplugged USB printer has no device file: test that
// with a path that does not exist, not with Off.
func StartUSB(tb testing.TB) *Printer {
	tb.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		tb.Skipf("no pseudo-terminals: %v", err)
	}
	var n int
	if err := control(master, func(fd int) error {
		if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
			return err
		}
		n, err = unix.IoctlGetInt(fd, unix.TIOCGPTN)
		return err
	}); err != nil {
		tb.Fatal(err)
	}
	path := fmt.Sprintf("/dev/pts/%d", n)
	// This end stays open for the test, so the terminal's raw settings last
	// between the kiosk's opens.
	slave, err := os.OpenFile(path, os.O_RDWR|syscall.O_NOCTTY|syscall.O_NONBLOCK, 0)
	if err != nil {
		tb.Fatal(err)
	}
	if err := control(slave, raw); err != nil {
		tb.Fatal(err)
	}
	p := &Printer{device: path, usb: master, jobs: make(chan []byte, 64)}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		p.serve1(master, true)
	}()
	tb.Cleanup(func() {
		master.Close()
		slave.Close()
		p.wg.Wait()
	})
	return p
}

// Unsolicited sends bytes to the host unasked, as a printer's late answer
// to an earlier session waits in a USB printer's read buffer.
func (p *Printer) Unsolicited(tb testing.TB, b []byte) {
	tb.Helper()
	if p.usb == nil {
		tb.Fatal("Unsolicited is for StartUSB's printer")
	}
	if _, err := p.usb.Write(b); err != nil {
		tb.Fatal(err)
	}
}

func control(f *os.File, fn func(fd int) error) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) { ferr = fn(int(fd)) }); err != nil {
		return err
	}
	return ferr
}

// raw turns off everything a terminal does to bytes (echo, line editing,
// newline translation, signals), as cfmakeraw does.
func raw(fd int) error {
	t, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return err
	}
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	t.Oflag &^= unix.OPOST
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	t.Cflag &^= unix.CSIZE | unix.PARENB
	t.Cflag |= unix.CS8
	t.Cc[unix.VMIN], t.Cc[unix.VTIME] = 1, 0
	return unix.IoctlSetTermios(fd, unix.TCSETS, t)
}
