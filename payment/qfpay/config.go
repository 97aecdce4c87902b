package qfpay

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"
)

// Config is the merchant's gateway configuration, usually from the
// environment. Its String and LogValue never show the key.
type Config struct {
	Env      string // sandbox | test | production
	BaseURL  string // overrides Env
	AppCode  string
	Key      string
	MchID    string
	SignType SignType
	UDID     string
}

// Environment variables read by ConfigFromEnv.
const (
	EnvEnv      = "QFPAY_ENV"
	EnvBaseURL  = "QFPAY_BASE_URL"
	EnvAppCode  = "QFPAY_APPCODE"
	EnvKey      = "QFPAY_KEY"
	EnvMchID    = "QFPAY_MCHID"
	EnvSignType = "QFPAY_SIGN_TYPE"
	EnvUDID     = "QRKIOSK_UDID"
)

// ConfigFromEnv reads the QFPAY_* and QRKIOSK_UDID variables.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	st, err := ParseSignType(getenv(EnvSignType))
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", EnvSignType, err)
	}
	return Config{
		Env:      strings.TrimSpace(getenv(EnvEnv)),
		BaseURL:  strings.TrimSpace(getenv(EnvBaseURL)),
		AppCode:  strings.TrimSpace(getenv(EnvAppCode)),
		Key:      strings.TrimSpace(getenv(EnvKey)),
		MchID:    strings.TrimSpace(getenv(EnvMchID)),
		SignType: st,
		UDID:     strings.TrimSpace(getenv(EnvUDID)),
	}, nil
}

// HasCredentials reports whether an app code and key are configured.
func (c Config) HasCredentials() bool { return c.AppCode != "" && c.Key != "" }

// Missing lists what a real gateway connection still needs.
func (c Config) Missing() []string {
	var m []string
	if c.AppCode == "" {
		m = append(m, EnvAppCode+" (the app code QFPay issued)")
	}
	if c.Key == "" {
		m = append(m, EnvKey+" (the client key QFPay issued)")
	}
	return m
}

// Check lists what is wrong with the settings themselves, credentials
// apart: an unknown environment, a base URL that is not one, a udid too
// long. A client built from a checked configuration is built without error.
func (c Config) Check() []string {
	var probs []string
	for _, o := range c.Options() {
		if err := o(&Client{http: &http.Client{}}); err != nil {
			probs = append(probs, err.Error())
		}
	}
	return probs
}

// Endpoint names the environment and the base URL the client talks to:
// QFPAY_BASE_URL wins over QFPAY_ENV; neither means DefaultEnvironment.
func (c Config) Endpoint() (env, baseURL string) {
	switch {
	case c.BaseURL != "":
		return "custom base URL", strings.TrimRight(c.BaseURL, "/")
	case c.Env != "":
		return strings.ToLower(c.Env), environments[strings.ToLower(c.Env)]
	}
	return DefaultEnvironment + " (default)", environments[DefaultEnvironment]
}

// Options turns the configuration into client options.
func (c Config) Options() []Option {
	var o []Option
	switch {
	case c.BaseURL != "":
		o = append(o, WithBaseURL(c.BaseURL))
	case c.Env != "":
		o = append(o, WithEnvironment(c.Env))
	}
	if c.MchID != "" {
		o = append(o, WithMchID(c.MchID))
	}
	if c.UDID != "" {
		o = append(o, WithUDID(c.UDID))
	}
	if c.SignType != "" {
		o = append(o, WithSignType(c.SignType))
	}
	return o
}

// NewClient builds a client from the configuration.
func (c Config) NewClient(extra ...Option) (*Client, error) {
	if m := c.Missing(); len(m) > 0 {
		return nil, fmt.Errorf("gateway not configured: set %s", strings.Join(m, " and "))
	}
	return NewClient(c.AppCode, c.Key, append(c.Options(), extra...)...)
}

func (c Config) String() string {
	key := "unset"
	if c.Key != "" {
		key = "set (hidden)"
	}
	return fmt.Sprintf("env=%q base_url=%q app_code=%q key=%s mchid=%q sign_type=%s udid=%q", c.Env, c.BaseURL, c.AppCode, key, c.MchID, c.SignType, c.UDID)
}

// LogValue keeps the key out of structured logs.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }
