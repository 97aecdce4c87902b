package escpos

import (
	"errors"
	"fmt"
)

// What went wrong, in the words the cashier pane shows. Match with
// errors.Is; an *Error carries the detail for the log.
var (
	// ErrOffline: the printer does not answer (connection refused or timed
	// out, switched off, unplugged from the network) or stopped taking data.
	ErrOffline = errors.New("printer offline")
	// ErrNotConnected: the USB printer's device file is missing (the
	// printer is unplugged or switched off).
	ErrNotConnected = errors.New("printer not connected")
	ErrOutOfPaper   = errors.New("out of paper")
	ErrCoverOpen    = errors.New("cover open")
	// ErrPrinterError: the printer reports an error of its own (a paper jam,
	// the cutter, overheating); switching it off and on usually clears it.
	ErrPrinterError = errors.New("printer error")
	// ErrNoPermission: the kiosk may not open the device file (the user is
	// not in the lp group).
	ErrNoPermission = errors.New("no permission to use the printer")
	// ErrNotADevice: the address names a regular file or a directory, not a
	// printer's device file; nothing is written to it.
	ErrNotADevice = errors.New("not a printer's device file")
)

// Error is a failed print or status query: Err is one of the ErrXxx above,
// Cause what the system said.
type Error struct {
	Addr  string // the printer's address as configured
	Err   error
	Cause error // nil when the printer itself reported Err
}

func (e *Error) Error() string {
	if e.Cause == nil {
		return fmt.Sprintf("%v (%s)", e.Err, e.Addr)
	}
	return fmt.Sprintf("%v (%s: %v)", e.Err, e.Addr, e.Cause)
}

// Unwrap lets errors.Is match both the kind (ErrOffline…) and the cause
// (context.DeadlineExceeded, syscall.ECONNREFUSED…).
func (e *Error) Unwrap() []error {
	if e.Cause == nil {
		return []error{e.Err}
	}
	return []error{e.Err, e.Cause}
}
