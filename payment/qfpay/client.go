package qfpay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"qrkiosk/payment"
	"qrkiosk/payment/internal/retry"
)

// Environments QFPay publishes (spec: "Environments").
var environments = map[string]string{
	"sandbox":    "https://openapi-int.qfapi.com",
	"test":       "https://test-openapi-hk.qfapi.com",
	"production": "https://openapi-hk.qfapi.com",
}

// API paths.
const (
	PathPayment  = "/trade/v1/payment"
	PathQuery    = "/trade/v1/query"
	PathReversal = "/trade/v1/reversal"
	PathClose    = "/trade/v1/close"
	PathRefund   = "/trade/v1/refund"
)

// Client talks to QFPay's trade/v1 API. It is safe for concurrent use.
type Client struct {
	baseURL     string
	appCode     string
	key         string
	mchID       string
	udid        string
	signType    SignType
	http        *http.Client
	loc         *time.Location
	log         *slog.Logger
	maxAttempts int
	backoff     retry.Backoff
	rateWait    time.Duration // least wait after a 429
}

// Option configures a Client.
type Option func(*Client) error

// WithEnvironment selects sandbox, test or production.
func WithEnvironment(name string) Option {
	return func(c *Client) error {
		u, ok := environments[strings.ToLower(strings.TrimSpace(name))]
		if !ok {
			return fmt.Errorf("QFPAY_ENV %q: must be sandbox, test or production (or set QFPAY_BASE_URL)", name)
		}
		c.baseURL = u
		return nil
	}
}

// WithBaseURL points the client at any QFPay-compatible base URL (the
// simulator, a proxy).
func WithBaseURL(raw string) Option {
	return func(c *Client) error {
		u, err := url.Parse(strings.TrimRight(raw, "/"))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("QFPAY_BASE_URL %q: must be an http(s) URL", raw)
		}
		c.baseURL = u.String()
		return nil
	}
}

// WithMchID sets the merchant id QFPay issued; leave it unset if none was.
func WithMchID(id string) Option { return func(c *Client) error { c.mchID = id; return nil } }

// WithUDID names this kiosk on every call (≤40 characters).
func WithUDID(udid string) Option {
	return func(c *Client) error {
		if len(udid) > 40 {
			return &payment.FieldError{Field: "udid", Value: udid, Rule: "must be at most 40 characters"}
		}
		c.udid = udid
		return nil
	}
}

// WithSignType selects MD5 (default) or SHA256.
func WithSignType(t SignType) Option { return func(c *Client) error { c.signType = t; return nil } }

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

// WithLocation sets the merchant's time zone for txdtm (default UTC+8).
func WithLocation(loc *time.Location) Option {
	return func(c *Client) error { c.loc = loc; return nil }
}

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

// DefaultEnvironment is where a client with credentials and no QFPAY_ENV
// talks: a shop with real credentials needs production. (QFPay's sandbox
// simulates card payments only; wallet tests go to "test".)
const DefaultEnvironment = "production"

// WithRateLimitWait sets the least wait before asking again after the
// gateway answered 429 without saying how long (default 2 s).
func WithRateLimitWait(d time.Duration) Option {
	return func(c *Client) error { c.rateWait = d; return nil }
}

// NewClient builds a client for the merchant's app code and client key.
func NewClient(appCode, key string, opts ...Option) (*Client, error) {
	c := &Client{
		baseURL:     environments[DefaultEnvironment],
		appCode:     appCode,
		key:         key,
		signType:    SignMD5,
		http:        &http.Client{Timeout: 15 * time.Second},
		loc:         payment.HongKong,
		log:         slog.New(slog.DiscardHandler),
		maxAttempts: 4,
		backoff:     retry.Backoff{First: 300 * time.Millisecond, Max: 2400 * time.Millisecond},
		rateWait:    2 * time.Second,
	}
	for _, o := range opts {
		if err := o(c); err != nil {
			return nil, err
		}
	}
	if strings.TrimSpace(appCode) == "" {
		return nil, &payment.FieldError{Field: "QFPAY_APPCODE", Rule: "is required"}
	}
	if strings.TrimSpace(key) == "" {
		return nil, &payment.FieldError{Field: "QFPAY_KEY", Rule: "is required"}
	}
	return c, nil
}

// BaseURL is the gateway the client talks to.
func (c *Client) BaseURL() string { return c.baseURL }

// DefaultExpiry is how long QFPay keeps a QR payable when the wallet does
// not take the kiosk's expired_time (its documented default, 30 min).
func (c *Client) DefaultExpiry() time.Duration { return payment.DefaultExpiryMinutes * time.Minute }

// Name is "qfpay", recorded with every order.
func (c *Client) Name() string { return Name }

// Name is the gateway's name in the journal and the configuration.
const Name = "qfpay"

// VerifyNotification checks a notification's X-QF-SIGN with this
// merchant's key and reads it (payment.NotificationVerifier).
func (c *Client) VerifyNotification(rawBody []byte, signHeader string) (*payment.Transaction, error) {
	if err := VerifyNotification(rawBody, signHeader, c.key, SignMD5); err != nil {
		return nil, err
	}
	n, err := ParseNotification(rawBody)
	if err != nil {
		return nil, err
	}
	return &n.Transaction, nil
}

// FormatTime renders t as txdtm in the merchant's zone.
func (c *Client) FormatTime(t time.Time) string { return t.In(c.loc).Format(payment.LocalTimeLayout) }

// txzone is the "+0800"-style zone, sent only when it is not QFPay's default.
func (c *Client) txzone(t time.Time) string {
	_, off := t.In(c.loc).Zone()
	if off == 8*3600 {
		return ""
	}
	sign := '+'
	if off < 0 {
		sign, off = '-', -off
	}
	return fmt.Sprintf("%c%02d%02d", sign, off/3600, off%3600/60)
}

// attemptResult says what a single HTTP exchange established.
type attemptResult int

const (
	answered attemptResult = iota // a JSON answer arrived
	notSent                       // the gateway certainly did not act (dial failure, 429)
	unknown                       // it may have acted (timeout, dropped reply, 5xx)
)

// exchange signs and sends one request and classifies what happened.
func (c *Client) exchange(ctx context.Context, op, path string, params url.Values) ([]byte, attemptResult, error) {
	form := url.Values{}
	for k, v := range params {
		if len(v) > 0 && v[0] != "" {
			form.Set(k, v[0])
		}
	}
	if c.mchID != "" {
		form.Set("mchid", c.mchID)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.baseURL+path, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, notSent, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8")
	req.Header.Set(HeaderAppCode, c.appCode)
	req.Header.Set(HeaderSign, Sign(form, c.key, c.signType))
	if c.signType != SignMD5 {
		req.Header.Set(HeaderSignType, string(c.signType))
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, unknown, ctx.Err()
		}
		if retry.NotSent(err) {
			return nil, notSent, &payment.TransportError{Op: "dial", Err: err}
		}
		return nil, unknown, &payment.TransportError{Op: "send", Err: err, MaybeActed: true}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		// QFPay allows 400 requests a minute per merchant, all its kiosks
		// together: past it, nothing was done.
		te := &payment.TransportError{Op: "send", Status: resp.StatusCode}
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
			te.RetryAfter = time.Duration(s) * time.Second
		}
		return nil, notSent, te
	case resp.StatusCode >= 500:
		return nil, unknown, &payment.TransportError{Op: "send", Status: resp.StatusCode, MaybeActed: true}
	case resp.StatusCode != http.StatusOK:
		// The gateway refused the request outright: it did not act on it.
		return nil, answered, &payment.TransportError{Op: "send", Status: resp.StatusCode}
	case err != nil:
		return nil, unknown, &payment.TransportError{Op: "read", Err: err, MaybeActed: true}
	}
	return body, answered, nil
}

// call performs op with retries where that is safe: always when the
// request certainly was not acted on, and for an unknown result only when
// idempotent is true. It returns the decoded answer.
func (c *Client) call(ctx context.Context, op, path string, params url.Values, idempotent bool, out any) error {
	var lastErr error
	for attempt := 1; attempt <= c.maxAttempts; attempt++ {
		if attempt > 1 {
			if err := c.sleep(ctx, attempt-1, lastErr); err != nil {
				return err
			}
		}
		start := time.Now()
		body, res, err := c.exchange(ctx, op, path, params)
		c.log.Debug("qfpay call", "op", op, "out_trade_no", params.Get("out_trade_no"), "attempt", attempt, "took", time.Since(start), "err", err)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err == nil {
			if jerr := json.Unmarshal(body, out); jerr != nil {
				err, res = &payment.TransportError{Op: op, Err: fmt.Errorf("unreadable answer: %w", jerr), MaybeActed: true}, unknown
			} else {
				return nil
			}
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
	return lastErr
}

// sleep waits a jittered, doubling back-off, or until ctx ends. After a
// 429 it waits at least what the gateway asked, else c.rateWait: asking
// again at once only spends more of the merchant's budget.
func (c *Client) sleep(ctx context.Context, n int, last error) error {
	d := c.backoff.Delay(n)
	var te *payment.TransportError
	if errors.As(last, &te) && te.Status == http.StatusTooManyRequests {
		d = max(d, te.RetryAfter, c.rateWait)
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d {
			// The wait would outlast the caller: give the 429 back now,
			// so that it backs off as from a rate limit, not a timeout.
			return last
		}
	}
	return retry.Wait(ctx, d)
}

// isUnknown reports errors after which the gateway may have acted.
func isUnknown(err error) bool {
	var te *payment.TransportError
	return errors.As(err, &te) && te.MaybeActed
}

func gatewayError(op string, w wireTxn) *payment.Error {
	code := payment.Code(w.Respcd.String())
	e := &payment.Error{Op: op, Code: code, Message: w.message(), Text: Describe(code), HTTPStatus: http.StatusOK}
	if e.Code == CodeSignatureError {
		// Credentials belong to one environment: sent to another they
		// fail the signature check.
		e.Hint = "check that QFPAY_ENV (test or production) matches these credentials"
	}
	return e
}
