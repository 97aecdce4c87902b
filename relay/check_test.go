package relay

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"qrkiosk/relay/relayclient"
)

// relayclient.Check, the setup page's and config test's "Test" of the
// relay settings, against the real relay: taken with a good token, refused
// with the relay's own words otherwise, and a place with no relay is told
// from a relay that says no.
func TestClientCheck(t *testing.T) {
	tr := startRelay(t, t.TempDir(), "127.0.0.1:0", nil)
	device, _ := issue(t, tr, "default", "counter-1")
	ctx := context.Background()
	for _, tc := range []struct {
		name, token, udid string
		status            int
		says              string
	}{
		{"the shared token", testToken, "", 0, ""},
		{"a device token on its device", device, "counter-1", 0, ""},
		{"an unknown token", "qrkt_nope", "counter-1", http.StatusUnauthorized, ""},
		{"a device token on another device", device, "counter-2", http.StatusForbidden, `this token is for device "counter-1"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := relayclient.Check(ctx, relayclient.Config{URL: tr.wsURL(), Token: tc.token, UDID: tc.udid})
			var ref *relayclient.ConnectRefusedError
			switch {
			case tc.status == 0 && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.status != 0 && (!errors.As(err, &ref) || ref.Status != tc.status || !strings.Contains(ref.RelaySays, tc.says)):
				t.Fatalf("err %v, want HTTP %d saying %q", err, tc.status, tc.says)
			}
		})
	}
	notRelay := httptest.NewServer(http.NotFoundHandler())
	defer notRelay.Close()
	err := relayclient.Check(ctx, relayclient.Config{URL: "ws" + strings.TrimPrefix(notRelay.URL, "http") + "/ws", Token: testToken})
	var ref *relayclient.ConnectRefusedError
	if !errors.As(err, &ref) || ref.Status != http.StatusNotFound {
		t.Errorf("a server that is not a relay: %v", err)
	}
	gone := tr.wsURL()
	tr.stop()
	if err := relayclient.Check(ctx, relayclient.Config{URL: gone, Token: testToken}); err == nil || errors.As(err, &ref) {
		t.Errorf("no relay at all: %v, want an error that is not a refusal", err)
	}
}
