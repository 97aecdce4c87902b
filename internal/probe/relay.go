package probe

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"qrkiosk/internal/config"
	"qrkiosk/relay/relayclient"
)

// Relay connects to the relay once with the kiosk's token and udid, as the
// kiosk will, and hangs up.
func Relay(ctx context.Context, c config.Config, o Options) Result {
	r := Result{Part: PartRelay}
	switch {
	case c.RelayURL == "":
		r.OK, r.Text = true, "No relay: the kiosk learns each result by asking the gateway every 2 seconds."
		return r
	case c.RelayToken == "":
		r.Text, r.Field = "The relay needs this kiosk's token (qrkiosk-relay token add makes one).", "relay_token"
		return r
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout())
	defer cancel()
	err := relayclient.Check(ctx, relayclient.Config{URL: c.RelayURL, Token: c.RelayToken, UDID: c.UDID})
	var ref *relayclient.ConnectRefusedError
	switch {
	case err == nil:
		r.OK, r.Text = true, fmt.Sprintf("The relay at %s took this kiosk's token.", c.RelayURL)
	case errors.As(err, &ref) && ref.Status == http.StatusUnauthorized:
		r.Text, r.Field = fmt.Sprintf("The relay at %s refused the token: %s.", c.RelayURL, relaySays(ref)), "relay_token"
	case errors.As(err, &ref) && ref.Status == http.StatusForbidden:
		r.Text, r.Field = fmt.Sprintf("The relay at %s refused the token for this kiosk (device id %q): %s.", c.RelayURL, c.UDID, relaySays(ref)), "udid"
	case errors.As(err, &ref) && (ref.Status == http.StatusTooManyRequests || ref.Status == http.StatusServiceUnavailable):
		r.Text = fmt.Sprintf("The relay at %s is busy and took no new connection: %s.", c.RelayURL, relaySays(ref))
	case errors.As(err, &ref):
		r.Text, r.Field = fmt.Sprintf("%s answered HTTP %d: it is not a relay's websocket address (…/ws).", c.RelayURL, ref.Status), "relay_url"
	default:
		r.Text, r.Field = fmt.Sprintf("The relay at %s could not be reached: %s.", c.RelayURL, strings.TrimSuffix(err.Error(), ".")), "relay_url"
	}
	return r
}

func relaySays(e *relayclient.ConnectRefusedError) string {
	if s := strings.TrimSpace(e.RelaySays); s != "" {
		return strings.TrimSuffix(s, ".")
	}
	return fmt.Sprintf("HTTP %d", e.Status)
}
