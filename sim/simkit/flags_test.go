package simkit

import (
	"flag"
	"io"
	"strings"
	"testing"
	"time"
)

func parseCommon(t *testing.T, args ...string) *Common {
	t.Helper()
	fs := flag.NewFlagSet("sim", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c := AddFlags(fs, "/trade/", "the retry schedule", "payments")
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCommonFlags(t *testing.T) {
	c := parseCommon(t)
	if c.Listen != "127.0.0.1:0" || c.NotifyScale != 1 || c.Latency != 0 || c.Fail5xx != 0 {
		t.Fatalf("defaults %+v: loopback, a free port, QFPay's schedule, no faults", c)
	}
	if err := c.Check(nil); err != nil {
		t.Fatalf("defaults refused: %v", err)
	}
	c = parseCommon(t, "--latency", "1500ms", "--commit-drop", "1", "--notify-scale", "0.01")
	if c.Latency != 1500*time.Millisecond || c.CommitDrop != 1 || c.NotifyScale != 0.01 {
		t.Fatalf("parsed %+v", c)
	}
	for _, tc := range []struct {
		args  []string
		rates map[string]float64
		want  string
	}{
		{[]string{"--notify-scale", "0"}, nil, "--notify-scale 0: must be positive"},
		{[]string{"--latency", "-1s"}, nil, "--latency -1s: must not be negative"},
		{[]string{"--notify-dup", "2"}, nil, "--notify-dup 2: must be between 0 and 1"},
		{nil, map[string]float64{"query-1161": -1}, "--query-1161 -1: must be between 0 and 1"},
	} {
		err := parseCommon(t, tc.args...).Check(tc.rates)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%v %v: %v; want %q", tc.args, tc.rates, err, tc.want)
		}
	}
}

func TestCommonStartAnnouncesTheBoundAddress(t *testing.T) {
	c := parseCommon(t, "--public-url", "http://192.0.2.1:8080/")
	var out strings.Builder
	ln, base, err := c.Start(&out)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if want := "listening on http://" + ln.Addr().String() + "\n"; out.String() != want || base != "http://192.0.2.1:8080" {
		t.Fatalf("announced %q, base %q; want %q and the public URL without its slash", out.String(), base, want)
	}
}
