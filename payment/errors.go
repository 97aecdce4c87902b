package payment

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Every error the gateways and the order machine share: a refused input
// (*FieldError), a gateway's refusal (*Error), a failed exchange
// (*TransportError), and the sentinels they match.

// FieldError reports input that breaks a rule. It names the field and the
// rule so the cashier (or a script) can fix exactly that, and it is returned
// before anything is sent to a gateway.
type FieldError struct {
	Field string // "amount", "expired_time", "goods_name", ...
	Value string // the offending input, for context; never a secret
	Rule  string // the rule that was broken, in plain words
}

func (e *FieldError) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("%s: %s", e.Field, e.Rule)
	}
	return fmt.Sprintf("%s %q: %s", e.Field, e.Value, e.Rule)
}

func fieldErr(field, value, rule string) error {
	return &FieldError{Field: field, Value: value, Rule: rule}
}

// Error is a gateway's refusal: its own code and words for it, the
// operation that got it and the HTTP status. Match it with errors.As.
type Error struct {
	Op      string // "create", "query", "reversal", "close", "refund"
	Code    Code
	Message string // the gateway's own message (respmsg, resperr, msg)
	// Text is the gateway's words for Code for the cashier, from its
	// client's table ("" when it has none).
	Text       string
	HTTPStatus int
	// Hint says what to check when the cause is likely the kiosk's own
	// settings (a signature error: credentials of another environment).
	Hint string
}

func (e *Error) Error() string {
	msg := e.Message
	if msg == "" {
		msg = e.Text
	}
	if msg == "" {
		msg = "unknown response code"
	}
	if e.Hint != "" {
		msg += " (" + e.Hint + ")"
	}
	return fmt.Sprintf("%s: respcd %s: %s", e.Op, e.Code, msg)
}

// Reason is a plain sentence for the cashier and the customer.
func (e *Error) Reason() string {
	r := e.Text
	if r == "" {
		r = e.Message
	}
	if r == "" {
		r = "payment failed (" + string(e.Code) + ")"
	}
	if e.Hint != "" {
		r += " — " + e.Hint
	}
	return r
}

// CodeOf returns the gateway's code carried by err, if any.
func CodeOf(err error) (Code, bool) {
	var ge *Error
	if errors.As(err, &ge) {
		return ge.Code, true
	}
	return "", false
}

// TransportError is a failed exchange with a gateway: no answer that can be
// believed (none arrived, an HTTP error, or one that could not be read or
// verified). Both gateway clients return it.
type TransportError struct {
	Op     string
	Status int // HTTP status, 0 when none arrived
	Err    error
	// MaybeActed: the request may have reached the gateway and taken
	// effect (timeout, dropped reply, 5xx, an answer that cannot be read
	// or fails its signature check).
	MaybeActed bool
	// RetryAfter is how long a 429 asked the client to wait (0: not said).
	RetryAfter time.Duration
}

func (e *TransportError) Error() string {
	if e.Status != 0 && e.Err == nil {
		return fmt.Sprintf("%s: gateway answered HTTP %d", e.Op, e.Status)
	}
	return fmt.Sprintf("%s: %v", e.Op, e.Err)
}

func (e *TransportError) Unwrap() error { return e.Err }

// Is makes an exchange that certainly never reached the gateway match
// ErrNotSent, and a 429 match ErrRateLimited too.
func (e *TransportError) Is(target error) bool {
	switch target {
	case ErrNotSent:
		return !e.MaybeActed
	case ErrRateLimited:
		return e.Status == http.StatusTooManyRequests
	}
	return false
}

// Sentinel errors shared by gateways and the order machine.
var (
	// ErrOutcomeUnknown: a call may or may not have taken effect and a query
	// could not settle it yet.
	ErrOutcomeUnknown = errors.New("outcome unknown: confirm by query before doing anything else")
	// ErrNotFound: the gateway has no transaction with that reference.
	ErrNotFound = errors.New("no such transaction at the gateway")
	// ErrNotSent: the request certainly never reached the gateway (no
	// connection, or refused before it was read): nothing was done there.
	ErrNotSent = errors.New("the request never reached the gateway; nothing was done")
	// ErrRateLimited: the gateway refused the request for too many
	// requests (HTTP 429): nothing was done; ask less often.
	ErrRateLimited = errors.New("the gateway refused the request: too many requests")
	// ErrCancelUnsupported: the wallet has no cancel; the order is left to expire.
	ErrCancelUnsupported = errors.New("this wallet cannot be cancelled at the gateway; the order is left to expire")
)
