// Command relay-bench is a bounded load generator for qrkiosk-relay, on
// loopback only. It runs the relay in a child process (so its RSS is the
// relay's alone), connects 1, 1,000 and 10,000 kiosks, and measures
// notification-to-kiosk latency, sustained notifications per second, RSS
// per idle connection and, side by side, polling alone at 2 s. It prints a
// Markdown report on stdout.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"

	"qrkiosk/payment/qfpay"
	"qrkiosk/relay"
	"qrkiosk/relay/prommetrics"
)

const (
	benchKey   = "bench-client-key"
	benchToken = "bench-token"
	childEnv   = "QRKIOSK_RELAY_BENCH_CHILD"

	childDBEnv       = "QRKIOSK_RELAY_BENCH_DB"
	childInstanceEnv = "QRKIOSK_RELAY_BENCH_INSTANCE"
)

func main() {
	raiseNoFile()
	if dir := os.Getenv(childEnv); dir != "" {
		os.Exit(child(dir))
	}
	levels := flag.String("kiosks", "1,1000,10000", "connected-kiosk levels for the latency runs")
	perLevel := flag.Int("notifications", 1000, "notifications per latency level")
	rate := flag.Int("rate", 500, "notifications/s offered in latency runs")
	posters := flag.Int("posters", 256, "concurrent posters in the throughput run")
	tput := flag.Duration("throughput-for", 5*time.Second, "length of the throughput run")
	orders := flag.Int("poll-orders", 300, "orders in the polling-alone comparison")
	pollEvery := flag.Duration("poll-interval", 2*time.Second, "polling interval")
	replayMem := flag.Bool("replay-memory", false, "only measure the relay's peak RSS while 30 kiosks each subscribe 5 times to 100 stored 60 KB notifications, then while 1,000 subscribe and never read")
	scenario := flag.String("scenario", "", "instead of the one-relay run: multi (two relays on PostgreSQL beside one on SQLite) or fault (kill -9 one of two relays mid-stream)")
	faultN := flag.Int("fault-notifications", 5000, "notifications in the fault scenario's stream")
	flag.IntVar(&fleetSize, "fleet", fleetSize, "kiosks in the -scenario runs, each with its own token")
	flag.Parse()
	if *scenario != "" {
		var err error
		switch *scenario {
		case "multi":
			err = multiScenario(*perLevel, *rate, *posters, *tput)
		case "fault":
			err = faultScenario(*faultN, *rate)
		default:
			err = errors.New("-scenario: multi or fault")
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "relay-bench:", err)
			os.Exit(1)
		}
		return
	}
	if *replayMem {
		if err := replayMemory(); err != nil {
			fmt.Fprintln(os.Stderr, "relay-bench:", err)
			os.Exit(1)
		}
		return
	}
	var ks []int
	for _, f := range strings.Split(*levels, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 20000 {
			fmt.Fprintln(os.Stderr, "relay-bench: --kiosks: want 1..20000, comma-separated")
			os.Exit(64)
		}
		ks = append(ks, n)
	}
	slices.Sort(ks)
	b := &bench{perLevel: *perLevel, rate: *rate, posters: *posters, tput: *tput}
	if err := b.run(ks, *orders, *pollEvery); err != nil {
		fmt.Fprintln(os.Stderr, "relay-bench:", err)
		os.Exit(1)
	}
}

// raiseNoFile lifts the soft open-files limit to the hard one: 10,000
// websockets need 10,000 descriptors on each side.
func raiseNoFile() {
	var l syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l) == nil && l.Cur < l.Max {
		l.Cur = l.Max
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	}
}

// child runs the relay on a free loopback port until stdin closes. SIGUSR1
// returns freed heap to the OS so idle RSS reflects live memory.
func child(dir string) int {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: childLogLevel()}))
	// 10,000 kiosks on the shared token; with QRKIOSK_RELAY_BENCH_DB the
	// store is that PostgreSQL database (the -scenario runs).
	st, err := openStore(context.Background(), os.Getenv(childDBEnv), dir, true, log)
	if err != nil {
		log.Error("start", "err", err)
		return 1
	}
	s, err := relay.NewServer(relay.Config{Key: benchKey, Token: benchToken, Store: st, Metrics: prommetrics.New(), Logger: log,
		Instance: os.Getenv(childInstanceEnv), MaxConnsShared: 20000})
	if err != nil {
		log.Error("start", "err", err)
		return 1
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Error("listen", "err", err)
		return 1
	}
	hs := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 15 * time.Second,
		WriteTimeout: 15 * time.Second, IdleTimeout: 120 * time.Second}
	go hs.Serve(ln)
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	go func() {
		for range usr1 {
			debug.FreeOSMemory()
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			log.Debug("relay memory", "goroutines", runtime.NumGoroutine(), "stack_inuse", m.StackInuse,
				"heap_inuse", m.HeapInuse, "heap_objects", m.HeapObjects)
			if childLogLevel() == slog.LevelDebug {
				if f, err := os.Create(filepath.Join(os.TempDir(), "relay-bench-heap.pprof")); err == nil {
					pprof.WriteHeapProfile(f)
					f.Close()
				}
			}
		}
	}()
	fmt.Printf("listening on http://%s\n", ln.Addr())
	io.Copy(io.Discard, os.Stdin)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	hs.Shutdown(ctx)
	s.Shutdown(ctx)
	return 0
}

// childLogLevel is Warn, or Debug with RELAY_BENCH_DEBUG=1: then each RSS
// sample also logs the Go memory breakdown and writes a heap profile.
func childLogLevel() slog.Level {
	if os.Getenv("RELAY_BENCH_DEBUG") == "1" {
		return slog.LevelDebug
	}
	return slog.LevelWarn
}

type bench struct {
	perLevel, rate, posters int
	tput                    time.Duration

	addr  string
	pid   int
	post  *http.Client
	seq   atomic.Int64
	sent  sync.Map // syssn → time.Time
	mu    sync.Mutex
	lat   []time.Duration
	got   atomic.Int64
	conns []*websocket.Conn
	out   bytes.Buffer
}

// startRelay starts this binary as a relay child on SQLite in a new
// temporary directory and returns its address and pid; stop ends it (it
// quits when its stdin closes) and removes the directory.
func startRelay(tmpPrefix string) (addr string, pid int, stop func(), err error) {
	dir, err := os.MkdirTemp("", tmpPrefix)
	if err != nil {
		return "", 0, nil, err
	}
	in, err := startInstance("", dir, "")
	if err != nil {
		os.RemoveAll(dir)
		return "", 0, nil, err
	}
	return in.addr, in.pid, func() { in.stop(); os.RemoveAll(dir) }, nil
}

func (b *bench) run(levels []int, orders int, pollEvery time.Duration) error {
	addr, pid, stop, err := startRelay("relay-bench-")
	if err != nil {
		return err
	}
	defer stop()
	b.addr, b.pid = addr, pid
	b.post = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		MaxIdleConnsPerHost: b.posters + 16, DisableCompression: true}}

	fmt.Fprintf(&b.out, "relay pid %d on %s; Go %s; GOMAXPROCS %d\n\n", b.pid, b.addr, runtime.Version(), runtime.GOMAXPROCS(0))
	// Warm up: one notification to nobody, so SQLite and the handlers are loaded.
	if err := b.notify(fmt.Sprintf("warm-%d", time.Now().UnixNano()), "nobody"); err != nil {
		return err
	}
	rss0 := b.idleRSS()

	fmt.Fprintln(&b.out, "| kiosks connected | notifications | offered rate | p50 | p99 | max | lost |")
	fmt.Fprintln(&b.out, "|---:|---:|---:|---:|---:|---:|---:|")
	rss := map[int]int64{0: rss0}
	for _, n := range levels {
		if err := b.connectUpTo(n); err != nil {
			return fmt.Errorf("connecting %d kiosks: %w", n, err)
		}
		rss[n] = b.idleRSS()
		p50, p99, mx, lost, err := b.latency(n)
		if err != nil {
			return err
		}
		fmt.Fprintf(&b.out, "| %d | %d | %d/s | %s | %s | %s | %d |\n", n, b.perLevel, b.rate, ms(p50), ms(p99), ms(mx), lost)
		fmt.Fprintf(os.Stderr, "kiosks=%d p50=%s p99=%s max=%s lost=%d\n", n, ms(p50), ms(p99), ms(mx), lost)
	}

	fmt.Fprintln(&b.out, "\n| relay RSS, idle | KiB |")
	fmt.Fprintln(&b.out, "|---|---:|")
	fmt.Fprintf(&b.out, "| 0 kiosks | %d |\n", rss0/1024)
	for _, n := range levels {
		fmt.Fprintf(&b.out, "| %d kiosks | %d |\n", n, rss[n]/1024)
	}
	top := levels[len(levels)-1]
	if top > 1 {
		fmt.Fprintf(&b.out, "\nRSS per idle connection: %.1f KB averaged over %d (from 0), %.1f KB marginal between %d and %d.\n",
			float64(rss[top]-rss0)/float64(top)/1000, top,
			float64(rss[top]-rss[levels[0]])/float64(top-levels[0])/1000, levels[0], top)
	}

	cpu0 := cpuTime(b.pid)
	ok, delivered, failed, elapsed := b.throughput(len(b.conns))
	relayCPU := cpuTime(b.pid) - cpu0 // includes the 1 s drain after the run
	fmt.Fprintf(&b.out, "\nThroughput: %d posters for %s with %d kiosks connected: %d notifications verified+journaled+answered SUCCESS (%.0f/s), %d delivered to kiosks, %d failed.\n",
		b.posters, elapsed.Round(time.Millisecond), len(b.conns), ok, float64(ok)/elapsed.Seconds(), delivered, failed)
	fmt.Fprintf(&b.out, "The relay process used %.2f s of CPU for them (%.0f µs per notification, %.2f cores on average); the load generator used the rest of the machine.\n",
		relayCPU.Seconds(), float64(relayCPU.Microseconds())/float64(max(ok, 1)), relayCPU.Seconds()/elapsed.Seconds())
	fmt.Fprintf(os.Stderr, "throughput %.0f/s\n", float64(ok)/elapsed.Seconds())

	pp50, pp99, pmx, mean := pollingAlone(orders, pollEvery)
	fmt.Fprintf(&b.out, "\nPolling alone (%d orders, paid at a random moment, queried every %s against a local endpoint): p50 %s, p99 %s, max %s, mean %s.\n",
		orders, pollEvery, ms(pp50), ms(pp99), ms(pmx), ms(mean))

	for _, c := range b.conns {
		c.Close()
	}
	os.Stdout.Write(b.out.Bytes())
	return nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

// idleRSS lets the relay settle, asks it to return freed memory, and
// reads its resident set size.
func (b *bench) idleRSS() int64 {
	time.Sleep(time.Second)
	syscall.Kill(b.pid, syscall.SIGUSR1)
	time.Sleep(500 * time.Millisecond)
	return procStatusKB(b.pid, "VmRSS:") * 1024
}

// cpuTime is process pid's user+system CPU time so far.
func cpuTime(pid int) time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the parenthesised command name; utime and stime are
	// the 14th and 15th fields overall, in clock ticks (100/s on Linux).
	f := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+s) * 10 * time.Millisecond
}

func otn(i int) string { return "bench-" + strconv.Itoa(i) }

// connectUpTo opens kiosk connections until there are n, each subscribed
// to its own out_trade_no, and waits for every acknowledgement.
func (b *bench) connectUpTo(n int) error {
	start := len(b.conns)
	if start >= n {
		return nil
	}
	conns := make([]*websocket.Conn, n-start)
	work := make(chan int)
	errs := make(chan error, 64)
	var wg sync.WaitGroup
	dialer := &websocket.Dialer{HandshakeTimeout: 10 * time.Second, ReadBufferSize: 1024, WriteBufferSize: 512}
	for range 64 {
		wg.Go(func() {
			for i := range work {
				ws, _, err := dialer.Dial("ws://"+b.addr+"/ws", http.Header{"Authorization": {"Bearer " + benchToken}})
				if err != nil {
					errs <- err
					continue
				}
				ws.WriteJSON(map[string]string{"type": "subscribe", "out_trade_no": otn(i)})
				ws.SetReadDeadline(time.Now().Add(10 * time.Second))
				var ack struct{ Type string }
				if err := ws.ReadJSON(&ack); err != nil || ack.Type != "subscribed" {
					errs <- fmt.Errorf("kiosk %d: no ack (%v)", i, err)
					ws.Close()
					continue
				}
				ws.SetReadDeadline(time.Time{})
				conns[i-start] = ws
				go b.read(ws)
			}
		})
	}
	for i := start; i < n; i++ {
		select {
		case work <- i:
		case err := <-errs:
			close(work)
			wg.Wait()
			return err
		}
	}
	close(work)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
	}
	b.conns = append(b.conns, conns...)
	return nil
}

// read records, for each notification, the time since its POST began.
func (b *bench) read(ws *websocket.Conn) {
	for {
		_, data, err := ws.ReadMessage()
		if err != nil {
			return
		}
		now := time.Now()
		var m struct {
			Type  string
			SysSN string `json:"syssn"`
		}
		if json.Unmarshal(data, &m) != nil || m.Type != "notification" {
			continue
		}
		if t, ok := b.sent.LoadAndDelete(m.SysSN); ok {
			b.mu.Lock()
			b.lat = append(b.lat, now.Sub(t.(time.Time)))
			b.mu.Unlock()
			b.got.Add(1)
		}
	}
}

func (b *bench) notify(syssn, outTradeNo string) error {
	body := fmt.Appendf(nil, `{"notify_type":"payment","status":"1","respcd":"0000","syssn":%q,`+
		`"out_trade_no":%q,"txamt":"2500","txcurrcd":"HKD","pay_type":"800101","udid":"",`+
		`"sysdtm":"2025-01-02 10:00:00","paydtm":"2025-01-02 10:00:03","cancel":"0"}`, syssn, outTradeNo)
	return postQFPay(b.post, b.addr, body)
}

// postQFPay posts body to the relay at addr as QFPay notifies, signed
// with the bench merchant's key, and wants SUCCESS back.
func postQFPay(c *http.Client, addr string, body []byte) error {
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/notify/qfpay", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-QF-SIGN", qfpay.SignBody(body, benchKey, qfpay.SignMD5))
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(got) != "SUCCESS" {
		return fmt.Errorf("notify: %d %q", resp.StatusCode, got)
	}
	return nil
}

// latency offers perLevel notifications at the configured rate, each to a
// random one of the n connected kiosks, and measures POST start to
// receipt by the kiosk.
func (b *bench) latency(n int) (p50, p99, mx time.Duration, lost int, err error) {
	b.mu.Lock()
	b.lat = b.lat[:0]
	b.mu.Unlock()
	b.got.Store(0)
	tick := time.NewTicker(time.Second / time.Duration(b.rate))
	defer tick.Stop()
	sem := make(chan struct{}, 16)
	var wg sync.WaitGroup
	var failed atomic.Int64
	for range b.perLevel {
		<-tick.C
		sem <- struct{}{}
		syssn := fmt.Sprintf("L%d-%d", n, b.seq.Add(1))
		target := otn(rand.IntN(n))
		wg.Go(func() {
			defer func() { <-sem }()
			b.sent.Store(syssn, time.Now())
			if err := b.notify(syssn, target); err != nil {
				failed.Add(1)
				b.sent.Delete(syssn)
			}
		})
	}
	wg.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for b.got.Load()+failed.Load() < int64(b.perLevel) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if f := failed.Load(); f > 0 {
		return 0, 0, 0, 0, fmt.Errorf("%d notifications failed at %d kiosks", f, n)
	}
	b.mu.Lock()
	d := slices.Clone(b.lat)
	b.mu.Unlock()
	if len(d) == 0 {
		return 0, 0, 0, b.perLevel, errors.New("no notification delivered")
	}
	slices.Sort(d)
	return d[len(d)*50/100], d[min(len(d)-1, len(d)*99/100)], d[len(d)-1], b.perLevel - len(d), nil
}

// throughput runs posters flat out for the configured time, each
// notification unique and addressed to a connected kiosk.
func (b *bench) throughput(kiosks int) (ok, delivered, failed int64, elapsed time.Duration) {
	b.got.Store(0)
	var okN, failN atomic.Int64
	stop := time.Now().Add(b.tput)
	start := time.Now()
	var wg sync.WaitGroup
	for range b.posters {
		wg.Go(func() {
			for time.Now().Before(stop) {
				syssn := fmt.Sprintf("T-%d", b.seq.Add(1))
				b.sent.Store(syssn, time.Now())
				if err := b.notify(syssn, otn(rand.IntN(max(kiosks, 1)))); err != nil {
					failN.Add(1)
					b.sent.Delete(syssn)
					continue
				}
				okN.Add(1)
			}
		})
	}
	wg.Wait()
	elapsed = time.Since(start)
	time.Sleep(time.Second)
	return okN.Load(), b.got.Load(), failN.Load(), elapsed
}

// pollingAlone models the kiosk without push: each order is paid at a
// random moment within 6 s of its creation, and the kiosk queries a local
// endpoint every interval from creation on. The latency is from the
// moment of payment to the query that first sees it.
func pollingAlone(orders int, every time.Duration) (p50, p99, mx, mean time.Duration) {
	paidAt := make([]time.Time, orders)
	var mu sync.Mutex
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i, _ := strconv.Atoi(r.URL.Query().Get("o"))
		mu.Lock()
		paid := i >= 0 && i < orders && !paidAt[i].IsZero() && time.Now().After(paidAt[i])
		mu.Unlock()
		if paid {
			io.WriteString(w, `{"respcd":"0000"}`)
			return
		}
		io.WriteString(w, `{"respcd":"1143"}`)
	}), ReadHeaderTimeout: 5 * time.Second}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return
	}
	go srv.Serve(ln)
	defer srv.Close()
	client := &http.Client{Timeout: 5 * time.Second}
	lat := make([]time.Duration, orders)
	var wg sync.WaitGroup
	for i := range orders {
		wg.Go(func() {
			time.Sleep(rand.N(time.Second)) // orders are created at scattered moments
			mu.Lock()
			paidAt[i] = time.Now().Add(rand.N(6 * time.Second))
			mu.Unlock()
			t := time.NewTicker(every)
			defer t.Stop()
			for range t.C {
				resp, err := client.Get(fmt.Sprintf("http://%s/query?o=%d", ln.Addr(), i))
				if err != nil {
					continue
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if bytes.Contains(body, []byte(`"0000"`)) {
					mu.Lock()
					lat[i] = time.Since(paidAt[i])
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	slices.Sort(lat)
	var sum time.Duration
	for _, d := range lat {
		sum += d
	}
	return lat[len(lat)*50/100], lat[min(len(lat)-1, len(lat)*99/100)], lat[len(lat)-1], sum / time.Duration(len(lat))
}
