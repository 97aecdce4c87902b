// Package proctest runs programs for tests: it starts a binary and reads
// its output line by line as it comes, collects what it and other
// goroutines write while the test reads it, starts a virtual X server, and
// asks a running server's JSON endpoints. It is for tests only.
package proctest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// Buffer collects what a child process or a logger writes from other
// goroutines while the test reads it. The zero value is ready to use.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Proc is a started program: its stdout comes line by line on Lines and
// its stderr collects in Stderr.
type Proc struct {
	Cmd    *exec.Cmd
	Lines  <-chan string // stdout; closed when the program closes it
	Stderr *Buffer

	t    testing.TB
	done chan struct{}
	code int
}

// Start starts cmd (its Stdout and Stderr unset). When the test ends the
// program is killed if it still runs, and its stderr is logged if the test
// failed.
func Start(t testing.TB, cmd *exec.Cmd) *Proc {
	t.Helper()
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 1000)
	p := &Proc{Cmd: cmd, Lines: lines, Stderr: &Buffer{}, t: t, done: make(chan struct{})}
	cmd.Stderr = p.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		cmd.Wait()
		p.code = cmd.ProcessState.ExitCode()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			cmd.Process.Kill()
			for range lines { // unread stdout must not block the reader
			}
			<-p.done
		}
		if t.Failed() {
			t.Logf("%s stderr:\n%s", cmd.Path, p.Stderr.String())
		}
	})
	return p
}

// Line is the next line of stdout. The test fails if none comes within
// timeout or the program ends first.
func (p *Proc) Line(timeout time.Duration) string {
	p.t.Helper()
	select {
	case l, ok := <-p.Lines:
		if !ok {
			p.t.Fatalf("%s ended before printing the expected line; stderr:\n%s", p.Cmd.Path, p.Stderr.String())
		}
		return l
	case <-time.After(timeout):
		p.t.Fatalf("%s printed nothing for %v; stderr:\n%s", p.Cmd.Path, timeout, p.Stderr.String())
	}
	return ""
}

// Rest is the rest of stdout, until the program closes it. The test fails
// if that takes longer than timeout.
func (p *Proc) Rest(timeout time.Duration) []string {
	p.t.Helper()
	var out []string
	deadline := time.After(timeout)
	for {
		select {
		case l, ok := <-p.Lines:
			if !ok {
				return out
			}
			out = append(out, l)
		case <-deadline:
			p.t.Fatalf("%s did not finish its output within %v; stderr:\n%s", p.Cmd.Path, timeout, p.Stderr.String())
		}
	}
}

// Wait is the program's exit code once it has ended (-1 if a signal ended
// it). The test fails if it runs longer than timeout.
func (p *Proc) Wait(timeout time.Duration) int {
	p.t.Helper()
	select {
	case <-p.done:
		return p.code
	case <-time.After(timeout):
		p.t.Fatalf("%s did not exit within %v; stderr:\n%s", p.Cmd.Path, timeout, p.Stderr.String())
	}
	return -1
}

// Listening reads the first line of a server that prints "listening on
// URL" once it accepts connections (the simulators, the relay), and
// returns the URL.
func (p *Proc) Listening(timeout time.Duration) string {
	p.t.Helper()
	first := p.Line(timeout)
	u, ok := strings.CutPrefix(first, "listening on ")
	if !ok {
		p.t.Fatalf("%s's first line %q, want \"listening on URL\"; stderr:\n%s", p.Cmd.Path, first, p.Stderr.String())
	}
	return u
}

// GetJSON decodes the JSON that a GET of url answers (a simulator's
// /sim/orders, say).
func GetJSON[T any](t testing.TB, url string) T {
	t.Helper()
	var v T
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// StartXvfb starts the virtual X server xvfb (its path) with args (the
// screen, say) on a free display, which it reports on a pipe, and returns
// the display's name (":N"). The server is killed when the test ends.
func StartXvfb(t testing.TB, xvfb string, args ...string) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	x := exec.Command(xvfb, append([]string{"-displayfd", "3"}, args...)...)
	x.ExtraFiles = []*os.File{w}
	if err := x.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	t.Cleanup(func() {
		x.Process.Kill()
		x.Wait()
	})
	got := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(r).ReadString('\n')
		got <- strings.TrimSpace(line)
	}()
	select {
	case n := <-got:
		if n == "" {
			t.Fatal("Xvfb did not report a display")
		}
		return ":" + n
	case <-time.After(20 * time.Second):
		t.Fatal("Xvfb did not start")
	}
	return ""
}
