// Package probe tests the kiosk's settings part by part with calls that
// move no money — the gateway with a query for an order that does not
// exist, the relay by connecting with the kiosk's token, the receipt
// printer with a test slip — and says in one sentence what works or what
// to fix. The setup page's "Test" buttons and `qrkiosk config test` use it.
package probe

import (
	"context"
	"time"

	"qrkiosk/internal/config"
)

// Part is a part of the settings that can be tested.
type Part string

const (
	PartGateway Part = "gateway"
	PartRelay   Part = "relay"
	PartPrinter Part = "printer"
)

// Result is what testing one part found.
type Result struct {
	Part Part `json:"part"`
	OK   bool `json:"ok"`
	// Text is one sentence for the owner: what works, or what is wrong
	// and which setting to fix. It never holds a key or a token.
	Text string `json:"text"`
	// Field is the setting to fix, by its config.toml key ("qfpay.key",
	// "qfpay.env", "relay_token", …); "" when OK or when no one setting
	// is at fault (the gateway could not be reached).
	Field string `json:"field,omitempty"`
}

// Options tune the tests; the zero value is the real gateways.
type Options struct {
	// QFPayEnvironments maps QFPay's environment names to base URLs (nil:
	// QFPay's own): tests point them at simulators.
	QFPayEnvironments map[string]string
	// Timeout bounds each call (0: 10 s).
	Timeout time.Duration
}

func (o Options) timeout() time.Duration {
	if o.Timeout <= 0 {
		return 10 * time.Second
	}
	return o.Timeout
}

// All tests every part the configuration sets up: the gateway always (a
// kiosk without credentials fails: it takes no real money), the relay
// when it has a URL. Each result is one line of `qrkiosk config test`.
func All(ctx context.Context, c config.Config, o Options) []Result {
	out := []Result{Gateway(ctx, c, o)}
	if c.RelayURL != "" {
		out = append(out, Relay(ctx, c, o))
	}
	return out
}
