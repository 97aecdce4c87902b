package scanforpay

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"
)

// Config is the merchant's ScanForPay configuration, usually from the
// environment. Its String and LogValue never show the key.
type Config struct {
	BaseURL    string // "" = ProductionURL
	PartnerNo  string
	StoreNo    string
	Key        string
	TerminalNo string
	NotifyURL  string
}

// Environment variables read by ConfigFromEnv.
const (
	EnvBaseURL    = "SCANFORPAY_BASE_URL"
	EnvPartnerNo  = "SCANFORPAY_PARTNER_NO"
	EnvStoreNo    = "SCANFORPAY_STORE_NO"
	EnvKey        = "SCANFORPAY_KEY"
	EnvTerminalNo = "SCANFORPAY_TERMINAL_NO"
	EnvNotifyURL  = "SCANFORPAY_NOTIFY_URL"
)

// ConfigFromEnv reads the SCANFORPAY_* variables.
func ConfigFromEnv(getenv func(string) string) Config {
	get := func(k string) string { return strings.TrimSpace(getenv(k)) }
	return Config{
		BaseURL:    get(EnvBaseURL),
		PartnerNo:  get(EnvPartnerNo),
		StoreNo:    get(EnvStoreNo),
		Key:        get(EnvKey),
		TerminalNo: get(EnvTerminalNo),
		NotifyURL:  get(EnvNotifyURL),
	}
}

// HasCredentials reports whether everything a real connection needs is set.
func (c Config) HasCredentials() bool { return len(c.Missing()) == 0 }

// Missing lists what a real gateway connection still needs.
func (c Config) Missing() []string {
	var m []string
	if c.PartnerNo == "" {
		m = append(m, EnvPartnerNo+" (the partner number ScanForPay issued)")
	}
	if c.StoreNo == "" {
		m = append(m, EnvStoreNo+" (the store number ScanForPay assigned)")
	}
	if c.Key == "" {
		m = append(m, EnvKey+" (the sign key ScanForPay issued)")
	}
	return m
}

// Partial reports settings that are neither complete nor empty: some
// credentials set and others not.
func (c Config) Partial() bool {
	set := 0
	for _, v := range []string{c.PartnerNo, c.StoreNo, c.Key} {
		if v != "" {
			set++
		}
	}
	return set > 0 && set < 3
}

// Check lists what is wrong with the settings themselves, credentials
// apart: a base URL that is not one, values longer than the gateway takes.
// A client built from a checked configuration is built without error.
func (c Config) Check() []string {
	var probs []string
	for _, o := range c.Options() {
		if err := o(&Client{http: &http.Client{}}); err != nil {
			probs = append(probs, err.Error())
		}
	}
	if len(c.PartnerNo) > 15 {
		probs = append(probs, EnvPartnerNo+": must be at most 15 characters (partnerNo)")
	}
	return probs
}

// Endpoint names where the client talks to: SCANFORPAY_BASE_URL, else
// ScanForPay's production URL.
func (c Config) Endpoint() (env, baseURL string) {
	if c.BaseURL != "" {
		return "custom base URL", strings.TrimRight(c.BaseURL, "/")
	}
	return "production (default)", ProductionURL
}

// Options turns the configuration into client options.
func (c Config) Options() []Option {
	o := []Option{WithStoreNo(c.StoreNo)}
	if c.BaseURL != "" {
		o = append(o, WithBaseURL(c.BaseURL))
	}
	if c.TerminalNo != "" {
		o = append(o, WithTerminalNo(c.TerminalNo))
	}
	if c.NotifyURL != "" {
		o = append(o, WithNotifyURL(c.NotifyURL))
	}
	return o
}

// NewClient builds a client from the configuration.
func (c Config) NewClient(extra ...Option) (*Client, error) {
	if m := c.Missing(); len(m) > 0 {
		return nil, fmt.Errorf("gateway not configured: set %s", strings.Join(m, " and "))
	}
	return NewClient(c.PartnerNo, c.Key, append(c.Options(), extra...)...)
}

func (c Config) String() string {
	key := "unset"
	if c.Key != "" {
		key = "set (hidden)"
	}
	return fmt.Sprintf("base_url=%q partner_no=%q store_no=%q key=%s terminal_no=%q notify_url=%q", c.BaseURL, c.PartnerNo, c.StoreNo, key, c.TerminalNo, c.NotifyURL)
}

// LogValue keeps the key out of structured logs.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }
