package escpos

// Status is what the printer said about itself through DLE EOT (real-time
// status transmission).
type Status struct {
	// Known: the printer answered. Many clones and printers in other
	// emulations answer nothing: their status is unknown, which is no reason
	// not to print when the connection works.
	Known        bool
	Online       bool
	CoverOpen    bool
	PaperOut     bool
	PaperNearEnd bool // the roll is running out: worth a word to the cashier
	Error        bool // a jam, the cutter, overheating
}

// The DLE EOT n requests sent before a job, in this order: printer status,
// offline cause, paper roll sensor.
var statusRequests = [...]byte{1, 2, 4}

// StatusRequest is the bytes of DLE EOT n.
func StatusRequest(n byte) []byte { return []byte{dle, eot, n} }

// validStatus: every DLE EOT answer has bits 1 and 4 set and bits 0 and 7
// clear, which tells it from stray bytes (an ASB message, another
// protocol's reply).
func validStatus(b byte) bool { return b&0x93 == 0x12 }

// apply reads the answer to DLE EOT n into s.
func (s *Status) apply(n, b byte) {
	switch n {
	case 1:
		s.Online = b&0x08 == 0
	case 2:
		s.CoverOpen = b&0x04 != 0
		s.PaperOut = s.PaperOut || b&0x20 != 0
		s.Error = b&0x40 != 0
	case 4:
		s.PaperNearEnd = b&0x0c != 0
		s.PaperOut = s.PaperOut || b&0x60 != 0
	}
}

// Err is the reason the printer cannot print now, nil when it can or when
// its status is unknown.
func (s Status) Err() error {
	switch {
	case !s.Known:
		return nil
	case s.CoverOpen:
		return ErrCoverOpen
	case s.PaperOut:
		return ErrOutOfPaper
	case s.Error:
		return ErrPrinterError
	case !s.Online:
		return ErrOffline
	}
	return nil
}
