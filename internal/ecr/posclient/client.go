package posclient

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
)

// Port is the terminal's HTTPS port.
const Port = "9001"

// maxAnswer bounds an answer read: a terminal's answers are a few hundred
// bytes.
const maxAnswer = 64 << 10

// Client sends requests to one terminal.
type Client struct {
	addr   string
	posKey string
	http   *http.Client
}

// New is a client for the terminal at addr ("192.168.1.20", port 9001; or
// "host:port"), signing with posKey, trusting the certificates roots holds
// (the terminal's own CA; nil: the system's).
func New(addr, posKey string, roots *x509.CertPool) *Client {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		addr = net.JoinHostPort(addr, Port)
	}
	tr := &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
	}
	return &Client{addr: addr, posKey: posKey, http: &http.Client{Transport: tr}}
}

// URL is where an endpoint's requests go.
func (c *Client) URL(endpoint string) string {
	return "https://" + c.addr + "/api/pos/" + endpoint
}

// Answer is the terminal's answer to a request.
type Answer struct {
	Respcd  string `json:"respcd"`
	Respmsg string `json:"respmsg"`
	Resperr string `json:"resperr"`
	Data    string `json:"data"` // a JSON document, as a string
	Status  int    `json:"-"`    // the HTTP status (Odoo does not look at it)
}

// OK is what Odoo takes as accepted.
func (a *Answer) OK() bool { return a.Respcd == "6000" }

// Cancelled is what Odoo takes as cancelled at the terminal, showing no
// error.
func (a *Answer) Cancelled() bool { return a.Respcd == "6001" }

// Message is what Odoo shows the cashier for an answer it does not accept.
func (a *Answer) Message() string {
	msg := a.Resperr
	if msg == "" {
		msg = a.Respmsg
	}
	if msg == "" {
		msg = "Unknown error occurred"
	}
	return "Error Code: " + a.Respcd + "\nError Message: " + msg
}

// Send POSTs the payload to the endpoint (trade, cancel, cancel_request,
// ...) as Odoo's page does, and reads the answer. An answer that is not the
// terminal's JSON is an error.
func (c *Client) Send(ctx context.Context, endpoint string, p Payload) (*Answer, error) {
	body, err := p.Body(c.posKey)
	if err != nil {
		return nil, err
	}
	return c.Post(ctx, endpoint, body)
}

// Post sends a body as it is, for requests no POS would send.
func (c *Client) Post(ctx context.Context, endpoint string, body []byte) (*Answer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL(endpoint), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return nil, err
	}
	if len(raw) > maxAnswer {
		return nil, fmt.Errorf("posclient: answer over %d bytes (HTTP %d)", maxAnswer, resp.StatusCode)
	}
	var a Answer
	if err := json.Unmarshal(raw, &a); err != nil || a.Respcd == "" {
		return nil, fmt.Errorf("posclient: HTTP %d with no terminal answer: %.200q", resp.StatusCode, raw)
	}
	a.Status = resp.StatusCode
	return &a, nil
}
