package terminal

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"qrkiosk/internal/ecr/posclient"
	"qrkiosk/internal/kiosk"
	"qrkiosk/payment"
)

const (
	posKey    = "0123456789abcdef0123456789ABCDEF"
	notifyKey = "my_qfpay_notification_key"
	tradeNo   = "f1c2e3d4-a5b6-4c7d-8e9f-0a1b2c3d4e5f--17--3"
)

// rig is a demo kiosk on loopback (its simulated gateway and relay in the
// process) answering a POS, with a webhook that checks notifications as
// Odoo's /qfpay/notify does.
type rig struct {
	t    testing.TB
	k    *kiosk.Kiosk
	term *Terminal
	pos  *posclient.Client
	pool *x509.CertPool
	hook *webhook
	data string
	logs *logBuf
}

// logBuf keeps the kiosk's log, to look for what must never be in it.
type logBuf struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// webhook is the POS's /qfpay/notify: posclient's Receiver, with an
// answer that can be made to fail first.
type webhook struct {
	*httptest.Server
	mu      sync.Mutex
	notices []*posclient.Notice
	fail    int // answer 500 to the next fail posts
	posts   int
}

func newWebhook(t testing.TB) *webhook {
	h := &webhook{}
	recv := &posclient.Receiver{NotifyKey: notifyKey, Log: slog.New(slog.DiscardHandler), OnNotice: func(n *posclient.Notice) {
		h.mu.Lock()
		h.notices = append(h.notices, n)
		h.mu.Unlock()
	}}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		h.posts++
		fail := h.fail > 0
		if fail {
			h.fail--
		}
		h.mu.Unlock()
		if fail {
			http.Error(w, "odoo is restarting", http.StatusInternalServerError)
			return
		}
		recv.ServeHTTP(w, r)
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *webhook) got() []*posclient.Notice {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]*posclient.Notice(nil), h.notices...)
}

type rigOpt struct {
	data    string // the data directory (default: a new one)
	config  string // more of config.toml
	opts    Options
	webhook *webhook
	quiet   bool // the log only in r.logs (a fuzz target must not log through f)
}

func newRig(t testing.TB, o rigOpt) *rig {
	t.Helper()
	r := &rig{t: t, hook: o.webhook, data: o.data, logs: &logBuf{}}
	if r.hook == nil {
		r.hook = newWebhook(t)
	}
	if r.data == "" {
		r.data = t.TempDir()
	}
	cfg := "expiry_minutes = 5\n" + o.config + "\n[ecr]\nlisten = \"127.0.0.1:0\"\npos_key = \"" + posKey + "\"\nnotify_key = \"" + notifyKey + "\"\nnotify_url = \"" + r.hook.URL + "/qfpay/notify\"\n"
	path := t.TempDir() + "/config.toml"
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"QRKIOSK_CONFIG": path}
	var logTo io.Writer = io.MultiWriter(testWriter{t}, r.logs)
	if o.quiet {
		logTo = r.logs
	}
	k, err := kiosk.Open(kiosk.Options{DataDir: r.data, Getenv: func(k string) string { return env[k] }, DemoIfUnconfigured: true, DemoHost: "127.0.0.1",
		Logger: slog.New(slog.NewTextHandler(logTo, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	if o.opts.Backoff == nil {
		o.opts.Backoff = []time.Duration{50 * time.Millisecond}
	}
	if o.opts.Sweep == 0 {
		o.opts.Sweep = 200 * time.Millisecond
	}
	term, err := Serve(k, o.opts)
	if err != nil {
		k.Close()
		t.Fatal(err)
	}
	r.k, r.term = k, term
	t.Cleanup(r.close)
	pem, err := os.ReadFile(k.LAN().CAPath())
	if err != nil {
		t.Fatal(err)
	}
	r.pool = x509.NewCertPool()
	r.pool.AppendCertsFromPEM(pem)
	r.pos = posclient.New(strings.TrimPrefix(k.LAN().URL(), "https://"), posKey, r.pool)
	return r
}

var closeOnce sync.Map

func (r *rig) close() {
	if _, done := closeOnce.LoadOrStore(r, true); done {
		return
	}
	if s, ok := r.k.Till.Live(); ok {
		s.Order.Cancel()
		select {
		case <-s.Order.Done():
		case <-time.After(10 * time.Second):
		}
	}
	r.term.Close()
	r.k.Close()
}

// testWriter logs through t, so a failing test shows the kiosk's log.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// send sends a payload as Odoo's page does and returns the answer.
func (r *rig) send(endpoint string, p posclient.Payload) *posclient.Answer {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	a, err := r.pos.Send(ctx, endpoint, p)
	if err != nil {
		r.t.Fatal(err)
	}
	return a
}

// sendAsync sends in the background, for requests held until the sale
// ends.
func (r *rig) sendAsync(endpoint string, p posclient.Payload) <-chan *posclient.Answer {
	out := make(chan *posclient.Answer, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		a, err := r.pos.Send(ctx, endpoint, p)
		if err != nil {
			r.t.Error(err)
			a = &posclient.Answer{}
		}
		out <- a
	}()
	return out
}

func (r *rig) answer(ch <-chan *posclient.Answer) *posclient.Answer {
	r.t.Helper()
	select {
	case a := <-ch:
		return a
	case <-time.After(45 * time.Second):
		r.t.Fatal("no answer")
		return nil
	}
}

// live waits for the till's live sale, with its QR shown.
func (r *rig) live() kiosk.Sale {
	r.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if s, ok := r.k.Till.Live(); ok && s.Order.Snapshot().State == payment.StateAwaitingPayment && s.Order.Snapshot().SysSN != "" {
			return s
		}
		time.Sleep(10 * time.Millisecond)
	}
	r.t.Fatal("no live sale with its QR")
	return kiosk.Sale{}
}

// notices waits until the webhook has n notices.
func (r *rig) notices(n int) []*posclient.Notice {
	r.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if got := r.hook.got(); len(got) >= n {
			return got
		}
		time.Sleep(20 * time.Millisecond)
	}
	r.t.Fatalf("the webhook has %d notices; want %d", len(r.hook.got()), n)
	return nil
}

// data reads an answer's data.
func data(t testing.TB, a *posclient.Answer) map[string]string {
	t.Helper()
	var d map[string]string
	if err := json.Unmarshal([]byte(a.Data), &d); err != nil {
		t.Fatalf("answer %+v: data: %v", a, err)
	}
	return d
}

// orders is how many orders the kiosk's journal holds today.
func (r *rig) orders() int {
	r.t.Helper()
	day, err := r.k.Journal.Today(context.Background())
	if err != nil {
		r.t.Fatal(err)
	}
	return len(day.Orders)
}

// trade is Odoo's payment request for amount on channel.
func trade(amount float64, channel, ref string) posclient.Payload {
	return posclient.Trade(posclient.Number(amount), channel, ref)
}
