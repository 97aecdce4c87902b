package scanforpay

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"qrkiosk/payment"
	"qrkiosk/payment/internal/retry"
)

// ProductionURL is the gateway's base URL (spec: every endpoint is on it).
const ProductionURL = "https://pay.scanforpay.com"

// API paths.
const (
	PathCreate = "/api/offline/create"
	PathPay    = "/api/offline/pay"
	PathQuery  = "/api/common/payQuery"
	PathRefund = "/api/common/refund"
)

// Name is the gateway's name in the journal and the configuration.
const Name = "scanforpay"

// Client talks to ScanForPay. It is safe for concurrent use.
type Client struct {
	baseURL     string
	partnerNo   string
	key         string
	storeNo     string
	terminalNo  string
	notifyURL   string
	http        *http.Client
	loc         *time.Location
	now         func() time.Time
	log         *slog.Logger
	maxAttempts int
	backoff     retry.Backoff
}

// Option configures a Client.
type Option func(*Client) error

// WithBaseURL points the client at another ScanForPay-compatible base URL
// (the simulator, ScanForPay's test host, a proxy).
func WithBaseURL(raw string) Option {
	return func(c *Client) error {
		u, err := url.Parse(strings.TrimRight(strings.TrimSpace(raw), "/"))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("%s %q: must be an http(s) URL", EnvBaseURL, raw)
		}
		c.baseURL = u.String()
		return nil
	}
}

// WithStoreNo sets the store ScanForPay assigned (≤15); required.
func WithStoreNo(s string) Option {
	return func(c *Client) error {
		if len(s) > 15 {
			return &payment.FieldError{Field: EnvStoreNo, Value: s, Rule: "must be at most 15 characters (storeNo)"}
		}
		c.storeNo = s
		return nil
	}
}

// WithTerminalNo names this kiosk on every order (≤20).
func WithTerminalNo(s string) Option {
	return func(c *Client) error {
		if len(s) > 20 {
			return &payment.FieldError{Field: EnvTerminalNo, Value: s, Rule: "must be at most 20 characters (terminalNo)"}
		}
		c.terminalNo = s
		return nil
	}
}

// WithNotifyURL is where ScanForPay posts each order's result (the relay's
// /notify/scanforpay, ≤200). ScanForPay notifies only the URL sent with
// the order: without one, the kiosk learns results by polling alone.
func WithNotifyURL(raw string) Option {
	return func(c *Client) error {
		if raw == "" {
			c.notifyURL = ""
			return nil
		}
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("%s %q: must be an http(s) URL", EnvNotifyURL, raw)
		}
		if len(raw) > 200 {
			return &payment.FieldError{Field: EnvNotifyURL, Value: raw, Rule: "must be at most 200 characters (notifyUrl)"}
		}
		c.notifyURL = raw
		return nil
	}
}

// WithHTTPClient replaces the HTTP client (its Timeout bounds each attempt).
func WithHTTPClient(h *http.Client) Option { return func(c *Client) error { c.http = h; return nil } }

// WithTimeout bounds each HTTP attempt.
func WithTimeout(d time.Duration) Option {
	return func(c *Client) error {
		h := *c.http
		h.Timeout = d
		c.http = &h
		return nil
	}
}

// WithLocation sets the merchant's zone, the offset of the request time
// (default UTC+8).
func WithLocation(loc *time.Location) Option {
	return func(c *Client) error { c.loc = loc; return nil }
}

// WithClock replaces time.Now for the request time.
func WithClock(now func() time.Time) Option { return func(c *Client) error { c.now = now; return nil } }

// WithLogger sets the logger. Keys and signatures are never logged.
func WithLogger(l *slog.Logger) Option { return func(c *Client) error { c.log = l; return nil } }

// WithRetry caps attempts per call (≥1) and sets the first back-off delay;
// delays double, with jitter, up to 8× the first.
func WithRetry(maxAttempts int, first time.Duration) Option {
	return func(c *Client) error {
		if maxAttempts < 1 {
			maxAttempts = 1
		}
		c.maxAttempts, c.backoff = maxAttempts, retry.Backoff{First: first, Max: 8 * first}
		return nil
	}
}

// NewClient builds a client for the partner number and sign key ScanForPay
// issued; WithStoreNo is required too.
func NewClient(partnerNo, key string, opts ...Option) (*Client, error) {
	c := &Client{
		baseURL:     ProductionURL,
		partnerNo:   partnerNo,
		key:         key,
		http:        &http.Client{Timeout: 15 * time.Second},
		loc:         payment.HongKong,
		now:         time.Now,
		log:         slog.New(slog.DiscardHandler),
		maxAttempts: 4,
		backoff:     retry.Backoff{First: 300 * time.Millisecond, Max: 2400 * time.Millisecond},
	}
	for _, o := range opts {
		if err := o(c); err != nil {
			return nil, err
		}
	}
	switch {
	case strings.TrimSpace(partnerNo) == "":
		return nil, &payment.FieldError{Field: EnvPartnerNo, Rule: "is required"}
	case len(partnerNo) > 15:
		return nil, &payment.FieldError{Field: EnvPartnerNo, Value: partnerNo, Rule: "must be at most 15 characters (partnerNo)"}
	case strings.TrimSpace(key) == "":
		return nil, &payment.FieldError{Field: EnvKey, Rule: "is required"}
	case strings.TrimSpace(c.storeNo) == "":
		return nil, &payment.FieldError{Field: EnvStoreNo, Rule: "is required"}
	}
	return c, nil
}

// BaseURL is the gateway the client talks to.
func (c *Client) BaseURL() string { return c.baseURL }

// Name is "scanforpay", recorded with every order.
func (c *Client) Name() string { return Name }

// NewMsgID returns a unique reqMsgId: 32 hex digits (ScanForPay's limit is
// 32; its samples' UUIDs with hyphens would be 36).
func NewMsgID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return hex.EncodeToString(b[:])
}

// FormatTime renders t in RFC 3339 with the merchant's offset, as the
// request time is sent ("2018-07-25T17:53:52+08:00").
func (c *Client) FormatTime(t time.Time) string { return t.In(c.loc).Format(time.RFC3339) }

// envelope serialises one request with a fresh reqMsgId and time, and
// seals it: the bytes signed are the bytes sent.
func (c *Client) envelope(body any) ([]byte, error) {
	at := c.FormatTime(c.now())
	obj, err := Marshal(Request{
		Header: Header{Version: Version, PartnerNo: c.partnerNo, ReqMsgID: NewMsgID(), RequestTime: at, ReqTime: at, SignType: SignType},
		Body:   body,
	})
	if err != nil {
		return nil, err
	}
	return SealRequest(obj, c.key), nil
}

// attemptResult says what a single HTTP exchange established.
type attemptResult int

const (
	answered attemptResult = iota // a signed answer arrived
	notSent                       // the gateway certainly did not act (dial failure, 429)
	unknown                       // it may have acted (timeout, dropped reply, 5xx, unverifiable answer)
)

// exchange sends one sealed request and returns the verified `response`
// object. An answer whose signature does not verify with the merchant's
// key is never read: it is a transport failure after which the gateway may
// have acted.
func (c *Client) exchange(ctx context.Context, path string, envelope []byte) (json.RawMessage, attemptResult, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.baseURL+path, bytes.NewReader(envelope))
	if err != nil {
		return nil, notSent, err
	}
	req.Header.Set("Content-Type", "application/json; charset=UTF-8")
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, unknown, ctx.Err()
		}
		if retry.NotSent(err) {
			return nil, notSent, &payment.TransportError{Err: err}
		}
		return nil, unknown, &payment.TransportError{Err: err, MaybeActed: true}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		return nil, notSent, &payment.TransportError{Status: resp.StatusCode}
	case resp.StatusCode >= 500:
		return nil, unknown, &payment.TransportError{Status: resp.StatusCode, MaybeActed: true}
	case resp.StatusCode != http.StatusOK:
		// Refused outright (404, 400 before reading the body): not acted on.
		return nil, answered, &payment.TransportError{Status: resp.StatusCode}
	case err != nil:
		return nil, unknown, &payment.TransportError{Err: fmt.Errorf("reading the answer: %w", err), MaybeActed: true}
	}
	obj, err := OpenResponse(raw, c.key)
	if err != nil {
		return nil, unknown, &payment.TransportError{Status: resp.StatusCode, Err: fmt.Errorf("answer not believed: %w", err), MaybeActed: true}
	}
	return obj, answered, nil
}

// call performs op with retries where that is safe: always when the
// request certainly was not acted on, and for an unknown result only when
// idempotent is true. Each attempt is a new envelope (a new reqMsgId and
// time) around the same body. It returns the verified answer's body.
func (c *Client) call(ctx context.Context, op, path string, body any, idempotent bool, ref string) (ResultBody, error) {
	var lastErr error
	for attempt := 1; attempt <= c.maxAttempts; attempt++ {
		if attempt > 1 {
			if err := c.sleep(ctx, attempt-1); err != nil {
				return ResultBody{}, err
			}
		}
		env, err := c.envelope(body)
		if err != nil {
			return ResultBody{}, err
		}
		start := time.Now()
		obj, res, err := c.exchange(ctx, path, env)
		c.log.Debug("scanforpay call", "op", op, "partner_order_no", ref, "attempt", attempt, "took", time.Since(start), "err", err)
		if ctx.Err() != nil {
			return ResultBody{}, ctx.Err()
		}
		if err == nil {
			var rb ResultBody
			if rb, err = c.read(obj); err == nil {
				return rb, nil
			}
			res = unknown
		}
		switch {
		case errors.Is(err, ErrBadSignature):
			c.log.Warn("scanforpay answer refused: its signature does not verify with the merchant's key", "op", op, "partner_order_no", ref)
		case errors.Is(err, ErrDuplicateKey):
			c.log.Warn("scanforpay answer refused: it gives a key twice, so what was signed is not certain", "op", op, "partner_order_no", ref, "err", err)
		}
		lastErr = err
		if res == answered || (res == unknown && !idempotent) {
			break
		}
	}
	var te *payment.TransportError
	if errors.As(lastErr, &te) {
		te.Op = op
	}
	return ResultBody{}, lastErr
}

// read decodes a verified response object.
func (c *Client) read(obj json.RawMessage) (ResultBody, error) {
	var r Response
	var rb ResultBody
	if err := json.Unmarshal(obj, &r); err != nil {
		return rb, &payment.TransportError{Err: fmt.Errorf("unreadable answer: %w", err), MaybeActed: true}
	}
	if r.Header.PartnerNo != "" && r.Header.PartnerNo != c.partnerNo {
		return rb, &payment.TransportError{Err: fmt.Errorf("answer for partner %q, not this merchant", r.Header.PartnerNo), MaybeActed: true}
	}
	if err := json.Unmarshal(r.Body, &rb); err != nil || !rb.Code.Set {
		if err == nil {
			err = errors.New("no code")
		}
		return rb, &payment.TransportError{Err: fmt.Errorf("unreadable answer body: %w", err), MaybeActed: true}
	}
	return rb, nil
}

// sleep waits a jittered, doubling back-off, or until ctx ends.
func (c *Client) sleep(ctx context.Context, n int) error {
	return retry.Wait(ctx, c.backoff.Delay(n))
}

// isUnknown reports errors after which the gateway may have acted.
func isUnknown(err error) bool {
	var te *payment.TransportError
	return errors.As(err, &te) && te.MaybeActed
}

// gatewayError is an answer with a code other than success.
func gatewayError(op string, b ResultBody) *payment.Error {
	msg := strings.TrimSpace(b.Msg)
	if msg == "" {
		msg = "refused by ScanForPay"
	}
	return &payment.Error{Op: op, Code: payment.Code(fmt.Sprint(b.Code.Value)), Message: msg, HTTPStatus: http.StatusOK}
}
