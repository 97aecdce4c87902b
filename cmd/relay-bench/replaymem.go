package main

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Replay-memory scenario: what a buggy or hostile kiosk fleet costs the
// relay by resubscribing to a device with large stored notifications.
const (
	memStored     = 100      // notifications stored for one device
	memBody       = 60 << 10 // bytes of padding in each
	memConns      = 30       // kiosk connections
	memSubscribes = 5        // subscribes per connection, each replaying all
	memUDID       = "MEM-KIOSK"

	stallConns = 1000             // connections that subscribe and never read
	stallFor   = 20 * time.Second // how long they stay stalled
)

// replayMemory starts a relay child, stores memStored notifications of
// about memBody bytes for one udid, then has memConns connections each
// send memSubscribes subscriptions to that udid at once and read every
// replayed frame. It prints the relay's RSS before and its peak (VmHWM).
func replayMemory() error {
	addr, pid, stop, err := startRelay("relay-bench-mem-")
	if err != nil {
		return err
	}
	defer stop()
	if err := storeForDevice(addr, memBody); err != nil {
		return err
	}
	time.Sleep(time.Second)
	before := procStatusKB(pid, "VmRSS:")

	start := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	frames, failed := 0, 0
	for range memConns {
		ws, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/ws", http.Header{"Authorization": {"Bearer " + benchToken}})
		if err != nil {
			return err
		}
		defer ws.Close()
		wg.Go(func() {
			<-start
			for range memSubscribes {
				ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"subscribe","udid":"`+memUDID+`"}`))
			}
			acks, n := 0, 0
			ws.SetReadDeadline(time.Now().Add(2 * time.Minute))
			for acks < memSubscribes {
				_, data, err := ws.ReadMessage()
				if err != nil {
					mu.Lock()
					failed++
					mu.Unlock()
					return
				}
				if bytes.Contains(data, []byte(`"type":"subscribed"`)) {
					acks++
				} else {
					n++
				}
			}
			mu.Lock()
			frames += n
			mu.Unlock()
		})
	}
	t0 := time.Now()
	close(start)
	wg.Wait()
	took := time.Since(t0)
	peak := procStatusKB(pid, "VmHWM:")
	fmt.Printf("Replay memory: %d stored notifications of %d KB for one udid; %d connections × %d subscribes to it at once.\n",
		memStored, memBody>>10, memConns, memSubscribes)
	fmt.Printf("relay RSS before %d KiB, peak (VmHWM) %d KiB; %d notification frames replayed in %s; %d connections failed.\n",
		before, peak, frames, took.Round(time.Millisecond), failed)
	for _, size := range []int{1 << 10, 64<<10 - 1<<10} {
		if err := stalledReplays(size); err != nil {
			return err
		}
	}
	return nil
}

// storeForDevice stores memStored notifications for memUDID, each padded
// with pad bytes.
func storeForDevice(addr string, pad int) error {
	goods := strings.Repeat("x", pad)
	for i := range memStored {
		body := fmt.Appendf(nil, `{"notify_type":"payment","status":"1","respcd":"0000","syssn":"MEM-%d",`+
			`"out_trade_no":"MEM-O-%d","txamt":"2500","txcurrcd":"HKD","pay_type":"800101","udid":%q,`+
			`"goods_name":%q,"sysdtm":"2025-01-02 10:00:00"}`, i, i, memUDID, goods)
		if err := postQFPay(http.DefaultClient, addr, body); err != nil {
			return fmt.Errorf("storing %d: %w", i, err)
		}
	}
	return nil
}

// stalledReplays is a hostile fleet: stallConns connections each
// subscribe to a device with memStored notifications of about pad bytes
// and never read, for stallFor. It prints the relay's RSS before and its
// peak, in a relay of its own so the peak is this scenario's.
func stalledReplays(pad int) error {
	addr, pid, stop, err := startRelay("relay-bench-stall-")
	if err != nil {
		return err
	}
	defer stop()
	if err := storeForDevice(addr, pad); err != nil {
		return err
	}
	time.Sleep(time.Second)
	before := procStatusKB(pid, "VmRSS:")
	refused := 0
	for range stallConns {
		ws, resp, err := websocket.DefaultDialer.Dial("ws://"+addr+"/ws", http.Header{"Authorization": {"Bearer " + benchToken}})
		if err != nil {
			if resp == nil {
				return err
			}
			refused++
			continue
		}
		defer ws.Close()
		ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"subscribe","udid":"`+memUDID+`"}`))
	}
	time.Sleep(stallFor)
	fmt.Printf("Stalled replays: %d connections (%d refused) each subscribe to %d stored notifications of %d KB and never read, for %s.\n",
		stallConns, refused, memStored, (pad+1023)>>10, stallFor)
	fmt.Printf("relay RSS before %d KiB, peak (VmHWM) %d KiB (+%d KiB), at the end %d KiB.\n",
		before, procStatusKB(pid, "VmHWM:"), procStatusKB(pid, "VmHWM:")-before, procStatusKB(pid, "VmRSS:"))
	return nil
}

// procStatusKB reads one "Name:   N kB" field of /proc/PID/status.
func procStatusKB(pid int, field string) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(l, field); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb
		}
	}
	return 0
}
