package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
	"github.com/jackc/pgx/v5"

	"qrkiosk/relay"
	"qrkiosk/relay/pgstore"
	"qrkiosk/relay/pgtest"
	"qrkiosk/relay/sqlitestore"
	"qrkiosk/relay/store"
)

// fleetSize is how many kiosks the -scenario runs connect (-fleet).
var fleetSize = 10000

// instance is one relay child process.
type instance struct {
	name  string
	addr  string
	pid   int
	cmd   *exec.Cmd
	stdin io.WriteCloser
	dead  atomic.Bool
}

// startInstance runs a relay child on its own data directory, or on db.
func startInstance(name, dir, db string) (*instance, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), childEnv+"="+dir, childDBEnv+"="+db, childInstanceEnv+"="+name)
	cmd.Stderr = os.Stderr
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return nil, fmt.Errorf("relay %s: %w", name, err)
	}
	return &instance{name: name, addr: strings.TrimSpace(strings.TrimPrefix(line, "listening on http://")),
		pid: cmd.Process.Pid, cmd: cmd, stdin: stdin}, nil
}

func (in *instance) stop() {
	if in.dead.Load() {
		return
	}
	in.stdin.Close()
	in.cmd.Wait()
}

func (in *instance) kill() {
	in.dead.Store(true)
	in.cmd.Process.Signal(syscall.SIGKILL)
	in.cmd.Wait()
}

func (in *instance) cpu() time.Duration { return cpuTime(in.pid) }

// openStore opens the PostgreSQL database of url, or without one the
// SQLite journal in dir (locked when a relay serves it), as qrkiosk-relay
// does.
func openStore(ctx context.Context, url, dir string, lock bool, log *slog.Logger) (store.Store, error) {
	if url != "" {
		st, err := pgstore.Open(ctx, url, pgstore.Options{Logger: log})
		if err != nil {
			return nil, err
		}
		return st, nil
	}
	st, err := sqlitestore.Open(dir, sqlitestore.Options{Lock: lock})
	if err != nil {
		return nil, err
	}
	return st, nil
}

// issueTokens gives each of n kiosks its own token (merchant default,
// device bench-kiosk-N) in the store of url or dir; returns the secrets.
func issueTokens(url, dir string, n int) ([]string, error) {
	ctx := context.Background()
	st, err := openStore(ctx, url, dir, false, nil)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	out := make([]string, n)
	var wg sync.WaitGroup
	var firstErr atomic.Value
	work := make(chan int)
	for range 32 {
		wg.Go(func() {
			for i := range work {
				secret, _, err := relay.IssueToken(ctx, st, relay.DefaultMerchant, udidOf(i), "relay-bench")
				if err != nil {
					firstErr.CompareAndSwap(nil, err)
					continue
				}
				out[i] = secret
			}
		})
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		return nil, err
	}
	return out, nil
}

func udidOf(i int) string { return "bench-kiosk-" + strconv.Itoa(i) }

// collector records deliveries across a fleet: the latency of the first
// delivery of each notification, raw repeats (at-least-once), and what a
// cashier would be shown (de-duplicated by syssn and notify_type per
// kiosk, as the order machine does).
type collector struct {
	sent      sync.Map // syssn → postInfo, until first delivered
	mu        sync.Mutex
	lat       []time.Duration
	cross     []time.Duration // posted to the other instance than the kiosk's
	delivered sync.Map        // syssn → delivery{kiosk, id}
	unique    atomic.Int64
	twoIDs    atomic.Int64 // one syssn delivered under two stored ids: stored twice
	repeats   atomic.Int64
	misrouted atomic.Int64
}

type postInfo struct {
	at    time.Time
	kiosk int
	cross bool
}

func (c *collector) reset() {
	c.mu.Lock()
	c.lat, c.cross = c.lat[:0], c.cross[:0]
	c.mu.Unlock()
}

type delivery struct {
	kiosk int
	id    int64
}

func (c *collector) got(k int, syssn string, id int64, now time.Time) {
	if prev, dup := c.delivered.LoadOrStore(syssn, delivery{k, id}); dup {
		c.repeats.Add(1)
		if p := prev.(delivery); p.kiosk != k {
			c.misrouted.Add(1)
		} else if p.id != id {
			c.twoIDs.Add(1)
		}
		return
	}
	c.unique.Add(1)
	if v, ok := c.sent.LoadAndDelete(syssn); ok {
		p := v.(postInfo)
		if p.kiosk != k {
			c.misrouted.Add(1)
		}
		c.mu.Lock()
		c.lat = append(c.lat, now.Sub(p.at))
		if p.cross {
			c.cross = append(c.cross, now.Sub(p.at))
		}
		c.mu.Unlock()
	}
}

// simKiosk is one kiosk: its own token, subscribed to its own order, and,
// when its relay goes away, reconnecting to the next one (as behind a load
// balancer) and resubscribing, which replays what it missed.
type simKiosk struct {
	i       int
	token   string
	addrs   []string // instances, preferred first
	col     *collector
	mu      sync.Mutex
	ws      *websocket.Conn
	on      int // index in addrs of the current connection
	closing atomic.Bool
	reconn  atomic.Int64  // reconnections
	failed  atomic.Int64  // reconnection attempts that failed
	slowest time.Duration // longest single successful reconnection attempt (dial to acknowledgement)
	downAt  time.Time
	gapMax  time.Duration
}

var kioskDialer = &websocket.Dialer{HandshakeTimeout: 10 * time.Second, ReadBufferSize: 1024, WriteBufferSize: 512}

// connect dials addrs from index from on, subscribes and waits for the ack
// (replayed notifications before it count as deliveries).
func (k *simKiosk) connect(from int) error {
	var last error
	for j := range k.addrs {
		idx := (from + j) % len(k.addrs)
		ws, _, err := kioskDialer.Dial("ws://"+k.addrs[idx]+"/ws", http.Header{
			"Authorization": {"Bearer " + k.token}, "X-QRKiosk-UDID": {udidOf(k.i)}})
		if err != nil {
			last = err
			continue
		}
		ws.WriteJSON(map[string]string{"type": "subscribe", "out_trade_no": otn(k.i)})
		ws.SetReadDeadline(time.Now().Add(30 * time.Second))
		for {
			_, data, err := ws.ReadMessage()
			if err != nil {
				ws.Close()
				last = err
				break
			}
			if k.handle(data) {
				ws.SetReadDeadline(time.Time{})
				k.mu.Lock()
				k.ws, k.on = ws, idx
				k.mu.Unlock()
				return nil
			}
		}
	}
	return last
}

// handle records a frame; true for the subscription's acknowledgement.
func (k *simKiosk) handle(data []byte) bool {
	now := time.Now()
	var m struct {
		Type  string
		ID    int64  `json:"id"`
		SysSN string `json:"syssn"`
	}
	if json.Unmarshal(data, &m) != nil {
		return false
	}
	switch m.Type {
	case "notification":
		k.col.got(k.i, m.SysSN, m.ID, now)
	case "subscribed":
		return true
	}
	return false
}

// run reads until closed, reconnecting on a lost link.
func (k *simKiosk) run() {
	for {
		k.mu.Lock()
		ws, on := k.ws, k.on
		k.mu.Unlock()
		for {
			_, data, err := ws.ReadMessage()
			if err != nil {
				break
			}
			k.handle(data)
		}
		if k.closing.Load() {
			return
		}
		down := time.Now()
		wait := 250 * time.Millisecond
		var took time.Duration
		for {
			time.Sleep(wait/2 + rand.N(wait/2+1)) // jittered, as the Go client
			t0 := time.Now()
			if k.connect(on+1) == nil {
				took = time.Since(t0)
				break
			}
			k.failed.Add(1)
			if k.closing.Load() {
				return
			}
			wait = min(2*wait, 2*time.Second)
		}
		k.reconn.Add(1)
		k.mu.Lock()
		k.gapMax = max(k.gapMax, time.Since(down))
		k.slowest = max(k.slowest, took)
		k.mu.Unlock()
	}
}

func (k *simKiosk) close() {
	k.closing.Store(true)
	k.mu.Lock()
	if k.ws != nil {
		k.ws.Close()
	}
	k.mu.Unlock()
}

// connectFleet connects kiosks[i] to instance i % len(addrs) first.
func connectFleet(tokens []string, addrs []string, col *collector) ([]*simKiosk, error) {
	ks := make([]*simKiosk, len(tokens))
	work := make(chan int)
	var failed atomic.Value
	var wg sync.WaitGroup
	for range 64 {
		wg.Go(func() {
			for i := range work {
				k := &simKiosk{i: i, token: tokens[i], addrs: addrs, col: col}
				if err := k.connect(i % len(addrs)); err != nil {
					failed.CompareAndSwap(nil, fmt.Errorf("kiosk %d: %w", i, err))
					continue
				}
				ks[i] = k
				go k.run()
			}
		})
	}
	for i := range tokens {
		work <- i
	}
	close(work)
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		for _, k := range ks {
			if k != nil {
				k.close()
			}
		}
		return nil, err
	}
	return ks, nil
}

var poster = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 512, DisableCompression: true}}

// postNotification signs and posts one notification for kiosk k's order;
// ok means it was answered SUCCESS. Like QFPay's documented fields it
// names no device: it reaches kiosk k because k claimed its order by
// subscribing to it.
func postNotification(addr, syssn string, k int) (bool, error) {
	body := fmt.Appendf(nil, `{"notify_type":"payment","status":"1","respcd":"0000","syssn":%q,`+
		`"out_trade_no":%q,"txamt":"2500","txcurrcd":"HKD","pay_type":"800101",`+
		`"sysdtm":"2025-01-02 10:00:00","paydtm":"2025-01-02 10:00:03","cancel":"0"}`, syssn, otn(k))
	if err := postQFPay(poster, addr, body); err != nil {
		return false, err
	}
	return true, nil
}

// setup is one side of the comparison: its instances and its fleet.
type setup struct {
	label string
	ins   []*instance
	ks    []*simKiosk
	col   *collector
	seq   atomic.Int64
}

func (s *setup) close() {
	for _, k := range s.ks {
		k.close()
	}
	for _, in := range s.ins {
		in.stop()
	}
}

func (s *setup) addrs() []string {
	var out []string
	for _, in := range s.ins {
		out = append(out, in.addr)
	}
	return out
}

// latency offers n notifications at rate/s, each to a random kiosk,
// posted to a random instance, and measures POST start to receipt.
func (s *setup) latency(n, rate int) (all, cross []time.Duration, lost int, err error) {
	s.col.reset()
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	sem := make(chan struct{}, 32)
	var wg sync.WaitGroup
	var failed atomic.Int64
	var syssns []string
	for range n {
		<-tick.C
		sem <- struct{}{}
		k := rand.IntN(len(s.ks))
		to := rand.IntN(len(s.ins))
		syssn := fmt.Sprintf("%s-L-%d", s.label, s.seq.Add(1))
		syssns = append(syssns, syssn)
		wg.Go(func() {
			defer func() { <-sem }()
			s.col.sent.Store(syssn, postInfo{at: time.Now(), kiosk: k, cross: to != k%len(s.ins)})
			if ok, _ := postNotification(s.ins[to].addr, syssn, k); !ok {
				failed.Add(1)
				s.col.sent.Delete(syssn)
			}
		})
	}
	wg.Wait()
	if f := failed.Load(); f > 0 {
		return nil, nil, 0, fmt.Errorf("%s: %d notifications not answered SUCCESS", s.label, f)
	}
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		missing := 0
		for _, x := range syssns {
			if _, ok := s.col.delivered.Load(x); !ok {
				missing++
			}
		}
		if lost = missing; missing == 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.col.mu.Lock()
	defer s.col.mu.Unlock()
	return slices.Clone(s.col.lat), slices.Clone(s.col.cross), lost, nil
}

// throughput runs posters flat out for d against the instances in turn.
func (s *setup) throughput(posters int, d time.Duration) (ok, failed int64, elapsed time.Duration, cpu time.Duration) {
	var cpu0 time.Duration
	for _, in := range s.ins {
		cpu0 += in.cpu()
	}
	var okN, failN atomic.Int64
	stop := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for p := range posters {
		wg.Go(func() {
			for i := 0; time.Now().Before(stop); i++ {
				syssn := fmt.Sprintf("%s-T-%d", s.label, s.seq.Add(1))
				if done, _ := postNotification(s.ins[(p+i)%len(s.ins)].addr, syssn, rand.IntN(len(s.ks))); done {
					okN.Add(1)
				} else {
					failN.Add(1)
				}
			}
		})
	}
	wg.Wait()
	elapsed = time.Since(start)
	for _, in := range s.ins {
		cpu += in.cpu()
	}
	return okN.Load(), failN.Load(), elapsed, cpu - cpu0
}

func pct(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	return d[min(len(d)-1, len(d)*p/100)]
}

// analyze refreshes the planner's statistics after the set-up filled the
// tables, as autovacuum keeps them in a database that has been running:
// a never-analyzed table makes the planner scan a merchant's rows for
// one order's (0.5 ms instead of 0.07 ms per look-up at 10,000 kiosks).
func analyze(url string) error {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "ANALYZE")
	return err
}

// startPostgres starts a durable throwaway cluster (fsync and
// synchronous_commit on, as in production) and a database in it.
func startPostgres() (*pgtest.Cluster, string, error) {
	cl, err := pgtest.Start(pgtest.Options{Durable: true})
	if err != nil {
		return nil, "", err
	}
	url, err := cl.CreateDatabase("relay_bench")
	if err != nil {
		cl.Stop()
		return nil, "", err
	}
	return cl, url, nil
}

// multiScenario measures, in one run, one relay on SQLite and two relays
// on one PostgreSQL, each with fleetSize kiosks holding their own tokens.
func multiScenario(perLevel, rate, posters int, tput time.Duration) error {
	cl, url, err := startPostgres()
	if err != nil {
		return err
	}
	defer cl.Stop()
	var out bytes.Buffer
	fmt.Fprintf(&out, "Go %s; GOMAXPROCS %d; %d kiosks, each with its own token, subscribed to its own order; PostgreSQL from %s (fsync and synchronous_commit on), on 127.0.0.1.\n\n",
		runtime.Version(), runtime.GOMAXPROCS(0), fleetSize, cl.Dir)
	fmt.Fprintln(&out, "| set-up | notifications | offered | p50 | p99 | max | p50 / p99 posted to the other instance | lost | sustained (SUCCESS/s) | relay CPU per notification |")
	fmt.Fprintln(&out, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, kind := range []string{"sqlite", "postgres"} {
		s := &setup{label: kind, col: &collector{}}
		dir, err := os.MkdirTemp("", "relay-bench-"+kind+"-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		var tokens []string
		if kind == "sqlite" {
			tokens, err = issueTokens("", dir, fleetSize)
			if err == nil {
				var in *instance
				in, err = startInstance("sqlite-1", dir, "")
				s.ins = append(s.ins, in)
			}
		} else {
			tokens, err = issueTokens(url, "", fleetSize)
			for i := 0; err == nil && i < 2; i++ {
				var in *instance
				in, err = startInstance(fmt.Sprintf("pg-%d", i+1), dir, url)
				s.ins = append(s.ins, in)
			}
		}
		if err != nil {
			s.close()
			return fmt.Errorf("%s: %w", kind, err)
		}
		fmt.Fprintf(os.Stderr, "%s: %d instance(s) up, connecting %d kiosks\n", kind, len(s.ins), fleetSize)
		if s.ks, err = connectFleet(tokens, s.addrs(), s.col); err != nil {
			s.close()
			return fmt.Errorf("%s: %w", kind, err)
		}
		if kind == "postgres" {
			if err := analyze(url); err != nil {
				s.close()
				return err
			}
		}
		time.Sleep(time.Second)
		all, cross, lost, err := s.latency(perLevel, rate)
		if err != nil {
			s.close()
			return err
		}
		ok, failed, elapsed, cpu := s.throughput(posters, tput)
		time.Sleep(time.Second)
		crossCol := "-"
		if len(cross) > 0 {
			crossCol = fmt.Sprintf("%s / %s", ms(pct(cross, 50)), ms(pct(cross, 99)))
		}
		label := "1 relay, SQLite"
		if kind == "postgres" {
			label = "2 relays, PostgreSQL"
		}
		fmt.Fprintf(&out, "| %s | %d | %d/s | %s | %s | %s | %s | %d | %.0f (%d failed) | %.0f µs |\n", label, perLevel, rate,
			ms(pct(all, 50)), ms(pct(all, 99)), ms(pct(all, 100)), crossCol, lost, float64(ok)/elapsed.Seconds(), failed,
			float64(cpu.Microseconds())/float64(max(ok, 1)))
		fmt.Fprintf(os.Stderr, "%s: p50 %s p99 %s lost %d; %.0f/s\n", kind, ms(pct(all, 50)), ms(pct(all, 99)), lost, float64(ok)/elapsed.Seconds())
		if r := s.col.misrouted.Load(); r > 0 {
			return fmt.Errorf("%s: %d notifications reached a kiosk that is not their device", kind, r)
		}
		s.close()
	}
	fmt.Fprintf(&out, "\nLatency: POST start to receipt by the kiosk, at %d notifications/s offered, each to a random kiosk, posted to a random instance. Sustained: %d posters flat out for %s, alternating instances.\n", rate, posters, tput)
	os.Stdout.Write(out.Bytes())
	return nil
}

// faultScenario streams n notifications at rate/s to two relays on one
// PostgreSQL with fleetSize kiosks split across them, and kills one relay
// (-9) halfway. The poster retries a notification on the other relay
// until it is answered SUCCESS, as a gateway behind a load balancer does
// (QFPay's own first retry comes 2 minutes later). Then it checks that
// every notification answered SUCCESS reached its kiosk.
func faultScenario(n, rate int) error {
	cl, url, err := startPostgres()
	if err != nil {
		return err
	}
	defer cl.Stop()
	dir, err := os.MkdirTemp("", "relay-bench-fault-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	tokens, err := issueTokens(url, "", fleetSize)
	if err != nil {
		return err
	}
	s := &setup{label: "fault", col: &collector{}}
	defer s.close()
	for i := range 2 {
		in, err := startInstance(fmt.Sprintf("pg-%d", i+1), dir, url)
		if err != nil {
			return err
		}
		s.ins = append(s.ins, in)
	}
	if s.ks, err = connectFleet(tokens, s.addrs(), s.col); err != nil {
		return err
	}
	if err := analyze(url); err != nil {
		return err
	}
	time.Sleep(time.Second)
	victim := s.ins[0]
	onVictim := 0
	for _, k := range s.ks {
		k.mu.Lock()
		if k.on == 0 {
			onVictim++
		}
		k.mu.Unlock()
	}
	fmt.Fprintf(os.Stderr, "fault: %d kiosks, %d on %s; streaming %d notifications at %d/s\n", len(s.ks), onVictim, victim.name, n, rate)

	var answered sync.Map // syssn → kiosk
	var answeredN, firstTry, retried, attemptsFailed atomic.Int64
	var killedAt time.Time
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	sem := make(chan struct{}, 64)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		<-tick.C
		if i == n/2 {
			victim.kill()
			killedAt = time.Now()
			fmt.Fprintf(os.Stderr, "fault: killed %s (pid %d) -9 after %d notifications\n", victim.name, victim.pid, i)
		}
		sem <- struct{}{}
		k := rand.IntN(len(s.ks))
		syssn := fmt.Sprintf("F-%d", i)
		to := i % 2
		wg.Go(func() {
			defer func() { <-sem }()
			s.col.sent.Store(syssn, postInfo{at: time.Now(), kiosk: k})
			for attempt := 0; ; attempt++ {
				in := s.ins[(to+attempt)%2]
				if ok, _ := postNotification(in.addr, syssn, k); ok {
					answered.Store(syssn, k)
					answeredN.Add(1)
					if attempt == 0 {
						firstTry.Add(1)
					} else {
						retried.Add(1)
					}
					return
				}
				attemptsFailed.Add(1)
				time.Sleep(50 * time.Millisecond)
			}
		})
	}
	wg.Wait()
	streamed := time.Since(start)

	// Every answered notification must reach its kiosk.
	deadline := time.Now().Add(60 * time.Second)
	var lost []string
	for {
		lost = lost[:0]
		answered.Range(func(key, _ any) bool {
			if _, ok := s.col.delivered.Load(key); !ok {
				lost = append(lost, key.(string))
			}
			return true
		})
		if len(lost) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	allDelivered := time.Now()
	// Every kiosk of the killed relay reconnects (those with nothing to
	// receive after the kill may still be backing off).
	reconnectedAll := func() (n int64) {
		for _, k := range s.ks {
			n += k.reconn.Load()
		}
		return n
	}
	for deadline := time.Now().Add(60 * time.Second); reconnectedAll() < int64(onVictim) && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	ctx := context.Background()
	st, err := openStore(ctx, url, "", false, nil)
	if err != nil {
		return err
	}
	stored, _ := st.Count(ctx)
	st.Close()
	var reconnected, failedAttempts int64
	var gapMax, slowest time.Duration
	var gaps []time.Duration
	for _, k := range s.ks {
		reconnected += k.reconn.Load()
		failedAttempts += k.failed.Load()
		k.mu.Lock()
		gapMax = max(gapMax, k.gapMax)
		slowest = max(slowest, k.slowest)
		if k.gapMax > 0 {
			gaps = append(gaps, k.gapMax)
		}
		k.mu.Unlock()
	}
	fmt.Printf("Fault: %d kiosks with their own tokens split over two relays on one PostgreSQL (fsync on); %d notifications offered at %d/s (%s), each to a random kiosk, alternating relays; %s killed -9 after %d.\n\n",
		len(s.ks), n, rate, streamed.Round(time.Millisecond), victim.name, n/2)
	fmt.Println("| measure | value |")
	fmt.Println("|---|---:|")
	fmt.Printf("| answered SUCCESS | %d of %d (%d at the first try, %d after a retry on the other relay; %d failed attempts) |\n", answeredN.Load(), n, firstTry.Load(), retried.Load(), attemptsFailed.Load())
	fmt.Printf("| stored rows | %d |\n", stored)
	fmt.Printf("| answered but never delivered (lost) | %d |\n", len(lost))
	fmt.Printf("| delivered to the wrong kiosk | %d |\n", s.col.misrouted.Load())
	fmt.Printf("| repeats received (at-least-once: live, then replayed on reconnect) | %d |\n", s.col.repeats.Load())
	fmt.Printf("| notifications stored twice (one syssn under two ids) | %d |\n", s.col.twoIDs.Load())
	fmt.Printf("| duplicates shown to a cashier | %d (the kiosk de-duplicates repeats by syssn and notify_type; only a notification stored twice could show twice) |\n", s.col.twoIDs.Load())
	fmt.Printf("| kiosks that reconnected | %d of %d on the killed relay; time without a link p50 %s, p99 %s, max %s; %d attempts failed; slowest attempt %s |\n",
		reconnected, onVictim, pct(gaps, 50).Round(time.Millisecond), pct(gaps, 99).Round(time.Millisecond),
		gapMax.Round(time.Millisecond), failedAttempts, slowest.Round(time.Millisecond))
	fmt.Printf("| last delivery after the kill | %s |\n", allDelivered.Sub(killedAt).Round(time.Millisecond))
	if len(lost) > 0 {
		return fmt.Errorf("%d notifications answered SUCCESS were not delivered, e.g. %s", len(lost), lost[0])
	}
	if stored != answeredN.Load() {
		return fmt.Errorf("%d rows stored for %d answered notifications", stored, answeredN.Load())
	}
	if s.col.misrouted.Load() > 0 || s.col.twoIDs.Load() > 0 {
		return errors.New("a notification reached a kiosk that is not its device, or was stored twice")
	}
	return nil
}
