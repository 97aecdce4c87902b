package proctest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestBufferConcurrentWrites(t *testing.T) {
	var b Buffer
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 100 {
				fmt.Fprintf(&b, "%d\n", i)
			}
		})
	}
	wg.Wait()
	if n := strings.Count(b.String(), "\n"); n != 800 {
		t.Fatalf("%d lines, want 800", n)
	}
}

// A started program's stdout comes line by line, its stderr is kept, and
// its exit code is read once it ends.
func TestStart(t *testing.T) {
	p := Start(t, exec.Command("sh", "-c", `echo "listening on http://127.0.0.1:1"; echo oops >&2; echo a; echo b; exit 3`))
	if u := p.Listening(10 * time.Second); u != "http://127.0.0.1:1" {
		t.Fatalf("Listening %q", u)
	}
	if rest := p.Rest(10 * time.Second); strings.Join(rest, ",") != "a,b" {
		t.Fatalf("rest %q", rest)
	}
	if code := p.Wait(10 * time.Second); code != 3 {
		t.Fatalf("exit %d, want 3", code)
	}
	if p.Stderr.String() != "oops\n" {
		t.Fatalf("stderr %q", p.Stderr.String())
	}
}

// A program still running when the test ends is killed.
func TestStartKilledAtCleanup(t *testing.T) {
	var p *Proc
	t.Run("inner", func(t *testing.T) {
		p = Start(t, exec.Command("sleep", "600"))
	})
	select {
	case <-p.done:
	default:
		t.Fatal("the program still runs after its test ended")
	}
}

func TestGetJSON(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte(`[{"SysSN":"1","TxAmt":5}]`))
	}))
	defer srv.Close()
	got := GetJSON[[]struct {
		SysSN string
		TxAmt int64
	}](t, srv.URL)
	if len(got) != 1 || got[0].SysSN != "1" || got[0].TxAmt != 5 {
		t.Fatalf("%+v", got)
	}
}

func TestStartXvfb(t *testing.T) {
	xvfb, err := exec.LookPath("Xvfb")
	if err != nil {
		t.Skip("Xvfb is not installed (make deps installs it)")
	}
	display := StartXvfb(t, xvfb, "-screen", "0", "640x480x24", "-nolisten", "tcp")
	if !strings.HasPrefix(display, ":") || len(display) < 2 {
		t.Fatalf("display %q", display)
	}
}
