package relay

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"qrkiosk/relay/wire"
)

// Kiosks that subscribe and never read cannot make the relay hold their
// replays in memory: together they hold at most ReplayMemory (here one
// page), each at most one page, and they are dropped as slow; a kiosk
// that reads gets its whole replay once there is room.
func TestStalledReplaysAreBounded(t *testing.T) {
	tr := startRelay(t, t.TempDir(), "127.0.0.1:0", func(c *Config) {
		c.WriteTimeout = 2 * time.Second
		c.ReplayMemory = replayPageCost // one page in flight at a time
	})
	// 120 notifications of 60 KB: 10 MB of frames, more than the kernel
	// buffers of a socket nobody reads.
	const stored = 120
	pad := strings.Repeat("x", 60<<10)
	var wg sync.WaitGroup
	work := make(chan int)
	for range 8 {
		wg.Go(func() {
			for i := range work {
				body := fmt.Appendf(nil, `{"notify_type":"payment","status":"1","respcd":"0000","syssn":"S-%d",`+
					`"out_trade_no":"O-%d","txamt":"100","txcurrcd":"HKD","udid":"K-STALL","goods_name":%q}`, i, i, pad)
				postSigned(t, tr, body)
			}
		})
	}
	for i := range stored {
		work <- i
	}
	close(work)
	wg.Wait()

	var queued atomic.Int64 // the most frames ever queued, all connections together
	stop := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		for {
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
			tr.s.hub.mu.RLock()
			n := 0
			for c := range tr.s.hub.conns {
				n += len(c.send)
			}
			tr.s.hub.mu.RUnlock()
			if int64(n) > queued.Load() {
				queued.Store(int64(n))
			}
		}
	}()
	for range 3 {
		k := dialKiosk(t, tr, nil)
		k.send(wire.TypeSubscribe, "", "K-STALL") // and never read
	}
	reader := dialKiosk(t, tr, nil)
	reader.send(wire.TypeSubscribe, "", "K-STALL")
	got := 0
	for {
		m, err := reader.next(30 * time.Second)
		if err != nil {
			t.Fatalf("reading kiosk, after %d replayed: %v", got, err)
		}
		if m.Type == wire.TypeSubscribed {
			if got != stored || *m.Replayed != stored {
				t.Fatalf("reading kiosk got %d, ack says %d, want %d", got, *m.Replayed, stored)
			}
			break
		}
		got++
	}
	close(stop)
	<-watched
	if n := queued.Load(); n > replayPage {
		t.Fatalf("up to %d replayed frames queued at once, want at most one page (%d)", n, replayPage)
	}
	if _, _, err := websocket.DefaultDialer.Dial(tr.wsURL(), http.Header{"Authorization": {"Bearer " + testToken}}); err != nil {
		t.Fatalf("the relay after the stalled replays: %v", err)
	}
}
