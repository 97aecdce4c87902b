package escpostest

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"testing"
	"time"
)

// State is what the fake printer is doing.
type State int

const (
	Online State = iota
	PaperNearEnd
	PaperOut
	CoverOpen
	// Off: switched off; the port is closed and connections are refused.
	Off
	// Silent takes jobs but never answers a status query, as many clones
	// and printers in other emulations do.
	Silent
)

func (s State) String() string {
	return [...]string{"online", "paper near end", "paper out", "cover open", "off", "silent"}[s]
}

// answers are an Epson TM's replies to DLE EOT 1, 2 and 4 in each state:
// online 0x16 (drawer pin high), offline bit 0x08; cover 0x04 and paper-end
// stop 0x20 in the offline cause; near end 0x0c and end 0x60 on the roll
// sensor.
var answers = map[State]map[byte]byte{
	Online:       {1: 0x16, 2: 0x12, 4: 0x12},
	PaperNearEnd: {1: 0x16, 2: 0x12, 4: 0x1e},
	PaperOut:     {1: 0x1e, 2: 0x32, 4: 0x7e},
	CoverOpen:    {1: 0x1e, 2: 0x16, 4: 0x12},
}

// Printer is a fake receipt printer: on the network at 127.0.0.1 (Start)
// or behind a device file (StartUSB).
type Printer struct {
	addr   string   // host:port, kept across Off and on again
	device string   // the device file's path (StartUSB)
	usb    *os.File // the printer's end of the device (StartUSB)
	jobs   chan []byte

	mu    sync.Mutex
	state State
	ln    net.Listener
	conns map[net.Conn]bool
	wg    sync.WaitGroup
}

// Start runs a fake printer, online, until the test ends.
func Start(tb testing.TB) *Printer {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p := &Printer{addr: ln.Addr().String(), jobs: make(chan []byte, 64), conns: map[net.Conn]bool{}}
	p.serve(ln)
	tb.Cleanup(p.close)
	return p
}

// Addr is the printer's address as the kiosk's configuration writes it.
func (p *Printer) Addr() string {
	if p.device != "" {
		return p.device
	}
	return "tcp://" + p.addr
}

// Set switches the printer to state s. Off closes the port and every
// connection; leaving Off listens on the same port again.
func (p *Printer) Set(tb testing.TB, s State) {
	tb.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if s == Off && p.device != "" {
		tb.Fatal("a fake USB printer cannot be switched off: use a device path that does not exist")
	}
	was := p.state
	p.state = s
	switch {
	case s == Off && was != Off:
		p.ln.Close()
		for c := range p.conns {
			c.Close()
		}
	case s != Off && was == Off:
		ln, err := net.Listen("tcp", p.addr)
		if err != nil {
			tb.Fatalf("switching the fake printer on again: %v", err)
		}
		p.serve(ln)
	}
}

func (p *Printer) serve(ln net.Listener) {
	p.ln = ln
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			if p.state == Off {
				p.mu.Unlock()
				c.Close()
				continue
			}
			p.conns[c] = true
			p.wg.Add(1)
			p.mu.Unlock()
			go p.handle(c)
		}
	}()
}

// handle serves one network connection: the whole stream is a job when
// the sender closes.
func (p *Printer) handle(c net.Conn) {
	defer p.wg.Done()
	defer func() {
		p.mu.Lock()
		delete(p.conns, c)
		p.mu.Unlock()
		c.Close()
	}()
	p.serve1(c, false)
}

// serve1 records a stream's bytes and answers its status queries as they
// arrive. A job ends where the stream does or, with endAtCut (a device,
// which has no end of connection), after each cut.
func (p *Printer) serve1(rw io.ReadWriter, endAtCut bool) {
	var got []byte
	parsed := 0 // bytes of got parsed into whole commands
	garbage := false
	buf := make([]byte, 32<<10)
	for {
		n, err := rw.Read(buf)
		got = append(got, buf[:n]...)
		for !garbage && parsed < len(got) {
			cmd, _, size, perr := parse(got[parsed:])
			if errors.Is(perr, errShort) {
				break
			}
			if perr != nil {
				garbage = true // Decode reports it; a printer would print junk
				break
			}
			parsed += size
			switch {
			case cmd.Name == "DLE EOT":
				p.answer(rw, byte(cmd.Arg))
			case cmd.Name == "GS V" && endAtCut:
				p.record(got[:parsed])
				got, parsed = got[parsed:], 0
			}
		}
		if err != nil {
			break
		}
	}
	if !endAtCut {
		p.record(got)
	}
}

func (p *Printer) record(job []byte) {
	if len(job) == 0 {
		return
	}
	select {
	case p.jobs <- append([]byte(nil), job...):
	default: // a test that sends more than it reads has failed anyway
	}
}

func (p *Printer) answer(w io.Writer, n byte) {
	p.mu.Lock()
	reply, ok := answers[p.state][n]
	p.mu.Unlock()
	if ok {
		w.Write([]byte{reply})
	}
}

// Next waits for the next connection to end and returns every byte it
// sent; the test fails when none ends within timeout.
func (p *Printer) Next(tb testing.TB, timeout time.Duration) []byte {
	tb.Helper()
	select {
	case b := <-p.jobs:
		return b
	case <-time.After(timeout):
		tb.Fatalf("the fake printer received nothing within %v", timeout)
		return nil
	}
}

// Pending is how many finished connections have not been taken by Next.
func (p *Printer) Pending() int { return len(p.jobs) }

func (p *Printer) close() {
	p.mu.Lock()
	p.ln.Close()
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}
