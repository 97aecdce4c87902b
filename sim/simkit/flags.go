package simkit

import (
	"flag"
	"fmt"
	"io"
	"maps"
	"net"
	"time"
)

// Common is what every simulator command takes: where it listens, the
// public base of its customer page, and the faults both gateways' tests
// inject. AddFlags registers them; Check validates them after Parse.
type Common struct {
	Listen, PublicURL     string
	NotifyScale           float64
	Latency               time.Duration
	Fail5xx, CommitDrop   float64
	NotifyDrop, NotifyDup float64
}

// AddFlags registers the common flags on fs. api names the calls the
// latency and 502 faults apply to ("/trade/"); schedule describes the
// notification retry schedule --notify-scale multiplies; commitDrop says
// what a dropped commit applies to.
func AddFlags(fs *flag.FlagSet, api, schedule, commitDrop string) *Common {
	c := &Common{}
	fs.StringVar(&c.Listen, "listen", "127.0.0.1:0", "address to listen on (port 0 picks a free port)")
	fs.StringVar(&c.PublicURL, "public-url", "", "public base of the customer page put in qrcode (default http://<bound address>)")
	fs.Float64Var(&c.NotifyScale, "notify-scale", 1, "multiplier of "+schedule)
	fs.DurationVar(&c.Latency, "latency", 0, "delay added to every "+api+" call")
	fs.Float64Var(&c.Fail5xx, "fail-5xx", 0, "fraction (0..1) of "+api+" calls answered 502 without effect")
	fs.Float64Var(&c.CommitDrop, "commit-drop", 0, "fraction (0..1) of "+commitDrop+" committed and then answered with a dropped connection")
	fs.Float64Var(&c.NotifyDrop, "notify-drop", 0, "fraction (0..1) of payments never notified")
	fs.Float64Var(&c.NotifyDup, "notify-dup", 0, "fraction (0..1) of notifications sent twice")
	return c
}

// Check names the first common flag out of range, with the command's own
// fault rates (name → value) checked alongside.
func (c *Common) Check(rates map[string]float64) error {
	all := map[string]float64{"fail-5xx": c.Fail5xx, "commit-drop": c.CommitDrop, "notify-drop": c.NotifyDrop, "notify-dup": c.NotifyDup}
	maps.Copy(all, rates)
	if err := CheckRates(all); err != nil {
		return err
	}
	switch {
	case c.NotifyScale <= 0:
		return fmt.Errorf("--notify-scale %v: must be positive", c.NotifyScale)
	case c.Latency < 0:
		return fmt.Errorf("--latency %v: must not be negative", c.Latency)
	}
	return nil
}

// Start listens and announces: the first line on stdout is "listening on
// http://ADDR" with the bound address. It returns the listener and the
// public base URL of the customer page.
func (c *Common) Start(stdout io.Writer) (net.Listener, string, error) {
	ln, base, err := Listen(c.Listen, c.PublicURL)
	if err != nil {
		return nil, "", err
	}
	fmt.Fprintf(stdout, "listening on http://%s\n", ln.Addr())
	return ln, base, nil
}
