package scanforpay

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"qrkiosk/payment"
)

// CheckCredentials asks ScanForPay, once, for an order that does not exist
// (payQuery moves no money) and reads its answer. ScanForPay publishes no
// code for a wrong key or partner, so the envelope tells: an answer that
// verifies with the key proves the partner and key right (code 1 or 30:
// taken; another code: the store refused); one signed with another key
// says the partner is known and the key is not its; an unsigned one says
// the gateway has no key for the partner at all.
func (c *Client) CheckCredentials(ctx context.Context) payment.CredentialCheck {
	env, err := c.envelope(QueryBody{StoreNo: c.storeNo, PartnerOrderNo: payment.NewOutTradeNo("QC", time.Now())})
	if err != nil {
		return payment.CredentialCheck{Verdict: payment.CredentialsUnreachable, Err: err}
	}
	raw, err := c.post(ctx, PathQuery, env)
	if err != nil {
		return payment.CredentialCheck{Verdict: payment.CredentialsUnreachable, Err: err}
	}
	obj, err := OpenResponse(raw, c.key)
	if err == nil {
		rb, err := c.read(obj)
		if err != nil {
			return payment.CredentialCheck{Verdict: payment.CredentialsUnreachable, Err: err}
		}
		cc := payment.CredentialCheck{Code: payment.Code(strconv.FormatInt(rb.Code.Value, 10)), Message: strings.TrimSpace(rb.Msg)}
		switch {
		case rb.OK() || rb.Code.Value == CodeOrderNotFound:
			cc.Verdict = payment.CredentialsAccepted
		case strings.Contains(strings.ToLower(rb.Msg), "store"):
			cc.Verdict, cc.Field = payment.CredentialsWrongMerchant, "storeNo"
		default:
			cc.Verdict = payment.CredentialsRefused
		}
		return cc
	}
	if !errors.Is(err, ErrBadSignature) {
		return payment.CredentialCheck{Verdict: payment.CredentialsUnreachable, Err: fmt.Errorf("not a ScanForPay answer: %w", err)}
	}
	// Not believed, only read for the owner: what the gateway said.
	var w wireResponse
	var r Response
	var rb ResultBody
	if json.Unmarshal(raw, &w) != nil || json.Unmarshal(w.Response, &r) != nil || json.Unmarshal(r.Body, &rb) != nil {
		return payment.CredentialCheck{Verdict: payment.CredentialsUnreachable, Err: err}
	}
	cc := payment.CredentialCheck{Verdict: payment.CredentialsSignatureRefused, Code: payment.Code(strconv.FormatInt(rb.Code.Value, 10)), Message: strings.TrimSpace(rb.Msg)}
	if strings.TrimSpace(w.Signature) == "" {
		cc.Verdict, cc.Field = payment.CredentialsUnknownAccount, "partnerNo"
	}
	return cc
}

// post sends one sealed request and returns the answer's raw bytes,
// believed or not (CheckCredentials reads an unverifiable one for what it
// tells about the settings, and for nothing else).
func (c *Client) post(ctx context.Context, path string, envelope []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.baseURL+path, bytes.NewReader(envelope))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json; charset=UTF-8")
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &payment.TransportError{Op: "query", Err: err}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return nil, &payment.TransportError{Op: "query", Status: resp.StatusCode}
	}
	if err != nil {
		return nil, &payment.TransportError{Op: "query", Err: err}
	}
	return raw, nil
}
