package main

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"qrkiosk/relay"
)

// serve's flags default to the server's own defaults, so a relay started
// with no flags runs as a zero relay.Config would; a flag beats its
// environment variable, which beats the default.
func TestParseServe(t *testing.T) {
	clearRelayEnv(t)
	t.Setenv("QFPAY_KEY", "k")
	sf, _, err := parseServe(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	d := relay.Defaults()
	got := sf.relay
	if got.MaxSubscriptions != d.MaxSubscriptions || got.MaxConnsPerToken != d.MaxConnsPerToken ||
		got.MaxConnsShared != d.MaxConnsShared || got.MaxConns != d.MaxConns || got.RefusalsPerMinute != d.RefusalsPerMinute ||
		got.Claims != d.Claims || got.ReplayMemory != d.ReplayMemory || got.Retain != d.Retain {
		t.Errorf("defaults: %+v\nwant those of %+v", got, d)
	}
	host, _ := os.Hostname()
	if sf.listen != "127.0.0.1:8080" || got.Instance != host+"/127.0.0.1:8080" || got.Key != "k" || !sf.qfpay ||
		sf.database != "" || sf.data != "qrkiosk-relay-data" {
		t.Errorf("defaults: %+v", sf)
	}

	t.Setenv("QRKIOSK_RELAY_MAX_CONNS", "9")
	t.Setenv("QRKIOSK_RELAY_MAX_SUBSCRIPTIONS", "7")
	sf, _, err = parseServe([]string{"--max-conns", "5", "--retain-days", "0", "--unpaid-claim-hours", "48",
		"--replay-memory-mib", "64", "--max-claims-per-device", "3", "--allow-ip", "qfpay", "--trusted-proxy", "10.0.0.0/8",
		"--instance", "relay-1", "--listen", "127.0.0.1:0", "--token", "t", "--insecure-no-auth"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	got = sf.relay
	if got.MaxConns != 5 || got.MaxSubscriptions != 7 || got.Retain >= 0 || got.Claims.TTL != 48*time.Hour ||
		got.Claims.PerDevice != 3 || got.Claims.PerMerchant != d.Claims.PerMerchant || got.ReplayMemory != 64<<20 ||
		len(got.AllowIPs) != len(relay.QFPayNotifierAddrs) || len(got.TrustedProxies) != 1 || got.Instance != "relay-1" ||
		got.Token != "t" || !got.InsecureNoAuth || sf.listen != "127.0.0.1:0" || sf.retainDays != "0" {
		t.Errorf("flags and environment: %+v", sf)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--max-conns", "0"}, "--max-conns (or QRKIOSK_RELAY_MAX_CONNS)"},
		{[]string{"--retain-days", "3"}, "--retain-days"},
		{[]string{"--tls-cert", "c"}, "--tls-cert and --tls-key go together"},
		{[]string{"--allow-ip", "nonsense"}, "--allow-ip"},
		{[]string{"surplus"}, `unexpected argument "surplus"`},
	} {
		if _, _, err := parseServe(c.args, io.Discard); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want an error naming %q", c.args, err, c.want)
		}
	}
	if _, _, err := parseServe([]string{"--no-such-flag"}, io.Discard); err != errFlags {
		t.Errorf("an unknown flag: %v, want errFlags (the flag package has said so)", err)
	}
}

// The relay the command starts counts into Prometheus and serves it on
// /metrics, naming its instance and store, with the process's metrics.
func TestStartRelayServesMetrics(t *testing.T) {
	clearRelayEnv(t)
	t.Setenv("QFPAY_KEY", "k")
	sf, _, err := parseServe([]string{"--data", filepath.Join(t.TempDir(), "data"), "--instance", "shop-relay"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := startRelay(sf, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown(t.Context())
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{`qrkiosk_relay_instance_info{instance_name="shop-relay",storage="sqlite"} 1`,
		"qrkiosk_relay_ready 1", "qrkiosk_relay_connected_kiosks 0", "go_goroutines", "process_start_time_seconds"} {
		if rec.Code != 200 || !strings.Contains(body, want) {
			t.Errorf("/metrics %d lacks %q", rec.Code, want)
		}
	}
}

// FuzzParseServe: whatever value a numeric or address flag is given, serve
// either refuses it naming the flag or runs within the flag's rule.
func FuzzParseServe(f *testing.F) {
	flags := []string{"max-subscriptions", "max-conns-per-token", "max-conns-shared-token", "max-conns",
		"refusals-per-minute", "max-claims-per-device", "max-claims-per-merchant", "replay-memory-mib",
		"retain-days", "unpaid-claim-hours", "allow-ip", "trusted-proxy", "max-receipts-per-device", "max-receipts-per-merchant",
		"receipt-days", "public-url"}
	for i, v := range []string{"1", " 8 ", "1000000", "0", "-3", "x", "90", "720", "qfpay,10.0.0.0/8", "::1", "1e3", ""} {
		f.Add(uint8(i), v)
	}
	f.Fuzz(func(t *testing.T, which uint8, value string) {
		name := flags[int(which)%len(flags)]
		sf, _, err := parseServe([]string{"--qfpay-key=k", "--" + name + "=" + value}, io.Discard)
		if err != nil {
			if !strings.Contains(err.Error(), "--"+name) {
				t.Fatalf("--%s=%q refused without naming it: %v", name, value, err)
			}
			return
		}
		c := sf.relay
		for _, n := range []int{c.MaxSubscriptions, c.MaxConnsPerToken, c.MaxConnsShared, c.MaxConns, c.RefusalsPerMinute,
			c.Claims.PerDevice, c.Claims.PerMerchant, int(c.ReplayMemory >> 20), c.Receipts.PerDevice, c.Receipts.PerMerchant} {
			if n < 1 || n > 1_000_000 {
				t.Fatalf("--%s=%q gave a limit of %d", name, value, n)
			}
		}
		if c.Retain != -1 && (c.Retain < 7*24*time.Hour || c.Retain > 100*365*24*time.Hour) {
			t.Fatalf("--%s=%q gave Retain %v", name, value, c.Retain)
		}
		if c.ReceiptRetain != -1 && (c.ReceiptRetain < 24*time.Hour || c.ReceiptRetain > 3650*24*time.Hour) {
			t.Fatalf("--%s=%q gave ReceiptRetain %v", name, value, c.ReceiptRetain)
		}
		if relay.CheckPublicURL(c.PublicURL) != nil {
			t.Fatalf("--%s=%q gave a public URL %q the relay refuses", name, value, c.PublicURL)
		}
		if c.Claims.TTL < 3*time.Hour || c.Claims.TTL > 720*time.Hour {
			t.Fatalf("--%s=%q gave an unpaid-claim TTL of %v", name, value, c.Claims.TTL)
		}
	})
}
