package retry

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"testing"
	"time"
)

// Each wait is in the upper half of a delay that doubles up to Max.
func TestBackoffDelay(t *testing.T) {
	b := Backoff{First: 100 * time.Millisecond, Max: 400 * time.Millisecond}
	for _, tt := range []struct {
		n        int
		min, max time.Duration
	}{
		{1, 50 * time.Millisecond, 100 * time.Millisecond},
		{2, 100 * time.Millisecond, 200 * time.Millisecond},
		{3, 200 * time.Millisecond, 400 * time.Millisecond},
		{4, 200 * time.Millisecond, 400 * time.Millisecond},
		{80, 200 * time.Millisecond, 400 * time.Millisecond}, // the shift overflows: still Max
	} {
		seen := map[time.Duration]bool{}
		for range 200 {
			d := b.Delay(tt.n)
			if d < tt.min || d > tt.max {
				t.Fatalf("retry %d: %v, want %v..%v", tt.n, d, tt.min, tt.max)
			}
			seen[d] = true
		}
		if len(seen) < 10 {
			t.Errorf("retry %d: %d distinct waits in 200: no jitter", tt.n, len(seen))
		}
	}
	if d := (Backoff{}).Delay(1); d != 0 {
		t.Errorf("a zero back-off waits %v", d)
	}
}

func TestWait(t *testing.T) {
	if err := Wait(context.Background(), time.Millisecond); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Wait(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("%v, want the context's error at once", err)
	}
}

// A refused connection was never sent; a request that reached a server
// and lost its answer may have been acted on.
func TestNotSent(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, err = http.Post("http://"+addr+"/trade/v1/payment", "text/plain", nil)
	if err == nil || !NotSent(err) {
		t.Fatalf("refused connection: %v, NotSent false", err)
	}

	ln, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			c.Read(make([]byte, 1024))
			c.Close() // the request arrived; the answer is lost
		}
	}()
	_, err = http.Post("http://"+ln.Addr().String()+"/trade/v1/payment", "text/plain", nil)
	if err == nil || NotSent(err) {
		t.Fatalf("dropped answer: %v, NotSent true", err)
	}
	if NotSent(&url.Error{Op: "Post", Err: context.DeadlineExceeded}) || NotSent(nil) {
		t.Fatal("a timeout or no error is not 'never sent'")
	}
}
