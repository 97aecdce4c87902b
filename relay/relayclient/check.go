package relayclient

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/websocket"

	"qrkiosk/relay/wire"
)

// ConnectRefusedError: the relay answered and did not take the kiosk (an
// unknown or revoked token, another device's token, too many
// connections), or what answered is not a relay's /ws.
type ConnectRefusedError struct {
	Status    int    // the HTTP status of the answer
	RelaySays string // the answer's text, as the relay words its refusal
	Err       error
}

func (e *ConnectRefusedError) Error() string {
	if e.RelaySays != "" {
		return fmt.Sprintf("HTTP %d: %s", e.Status, e.RelaySays)
	}
	return fmt.Sprintf("HTTP %d: %v", e.Status, e.Err)
}

func (e *ConnectRefusedError) Unwrap() error { return e.Err }

// dial opens one websocket to the relay with the kiosk's token and udid:
// a *ConnectRefusedError when the relay answered no, another error when nothing
// answered.
func (c *Client) dial(ctx context.Context) (*websocket.Conn, error) {
	hdr := http.Header{}
	if c.cfg.Token != "" {
		hdr.Set("Authorization", "Bearer "+c.cfg.Token)
	}
	if c.cfg.UDID != "" {
		hdr.Set(wire.HeaderUDID, c.cfg.UDID)
	}
	d := websocket.Dialer{
		Proxy:            http.ProxyFromEnvironment,
		HandshakeTimeout: 10 * time.Second,
		ReadBufferSize:   4096,
		WriteBufferSize:  1024,
	}
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	ws, resp, err := d.DialContext(dctx, c.cfg.URL, hdr)
	if err == nil {
		return ws, nil
	}
	if resp == nil {
		return nil, err
	}
	// The relay says why it refused.
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	resp.Body.Close()
	return nil, &ConnectRefusedError{Status: resp.StatusCode, RelaySays: strings.TrimSpace(string(b)), Err: err}
}

// Check connects to the relay once, as Run would, and hangs up: nil when
// the relay takes the kiosk (its token, for its udid), a *ConnectRefusedError
// when it refuses, another error when it cannot be reached. It subscribes
// to nothing.
func Check(ctx context.Context, cfg Config) error {
	ws, err := NewClient(cfg).dial(ctx)
	if err != nil {
		return err
	}
	ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	return ws.Close()
}
