// Package config reads the kiosk's settings: a TOML file, qrkiosk/config.toml
// in the OS's user config directory, overridden by the environment. It
// imports no fyne, so `qrkiosk config check` opens no window.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"qrkiosk/payment"
	"qrkiosk/payment/qfpay"
)

// Layouts the GUI knows.
const (
	LayoutDual   = "dual"   // cashier window + customer window
	LayoutSingle = "single" // one full-screen window (tablet kiosk)
)

// Environment variables besides qfpay's QFPAY_* and QRKIOSK_UDID.
const (
	EnvMerchantName = "QRKIOSK_MERCHANT_NAME"
	EnvCurrency     = "QRKIOSK_CURRENCY"
	EnvPayTypes     = "QRKIOSK_PAY_TYPES" // comma-separated wallets or pay_type codes
	EnvExpiry       = "QRKIOSK_EXPIRY_MINUTES"
	EnvPIN          = "QRKIOSK_PIN"
	// EnvManagerPINHash is the manager PIN that guards refunds, as the
	// salted hash `qrkiosk config hash-pin` prints; never the PIN itself.
	EnvManagerPINHash = "QRKIOSK_MANAGER_PIN_HASH"
	EnvLayout         = "QRKIOSK_LAYOUT"
	EnvRelayURL       = "QRKIOSK_RELAY_URL"
	EnvRelayToken     = "QRKIOSK_RELAY_TOKEN"
	EnvConfig         = "QRKIOSK_CONFIG" // another file than the default
)

// File is config.toml as written by a person. Every key is optional.
type File struct {
	MerchantName  string   `toml:"merchant_name"`
	Currency      string   `toml:"currency"`
	PayTypes      []string `toml:"pay_types"`
	ExpiryMinutes int      `toml:"expiry_minutes"`
	UDID          string   `toml:"udid"`
	PIN           string   `toml:"pin"`
	// ManagerPINHash guards refunds: the output of `qrkiosk config hash-pin`.
	ManagerPINHash string `toml:"manager_pin_hash"`
	Layout         string `toml:"layout"`
	RelayURL       string `toml:"relay_url"`
	RelayToken     string `toml:"relay_token"`
	QFPay          struct {
		Env      string `toml:"env"`
		BaseURL  string `toml:"base_url"`
		AppCode  string `toml:"appcode"`
		Key      string `toml:"key"`
		MchID    string `toml:"mchid"`
		SignType string `toml:"sign_type"`
	} `toml:"qfpay"`
}

// Config is the checked configuration the kiosk runs with.
type Config struct {
	Path         string // the file read; "" if there was none
	Gateway      qfpay.Config
	MerchantName string
	Currency     payment.Currency
	PayTypes     []payment.PayType // enabled, in catalog order
	Expiry       time.Duration
	PIN          string // "" = none configured
	// ManagerPINHash is the salted hash of the manager PIN that guards
	// refunds; "" = none configured (refunds from the app are off).
	ManagerPINHash string
	Layout         string
	RelayURL       string
	RelayToken     string
}

// Demo reports whether the kiosk has no gateway credentials and so runs
// against its built-in simulator.
func (c Config) Demo() bool { return !c.Gateway.HasCredentials() }

// DefaultPath is qrkiosk/config.toml in the user config directory, or the
// file named by QRKIOSK_CONFIG.
func DefaultPath(getenv func(string) string) (string, error) {
	if p := strings.TrimSpace(getenv(EnvConfig)); p != "" {
		return p, nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "qrkiosk", "config.toml"), nil
}

// Problems are the things wrong with a configuration, one per line.
type Problems []string

func (p Problems) Error() string { return strings.Join(p, "\n") }

// Load reads the file at path (a missing file is no error) and overlays the
// environment. It returns every problem found at once, not just the first.
func Load(path string, getenv func(string) string) (Config, error) {
	var f File
	if path != "" {
		md, err := toml.DecodeFile(path, &f)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			path = ""
		case err != nil:
			return Config{}, Problems{fmt.Sprintf("%s: %v", path, err)}
		default:
			if extra := md.Undecoded(); len(extra) > 0 {
				var keys []string
				for _, k := range extra {
					keys = append(keys, k.String())
				}
				return Config{}, Problems{fmt.Sprintf("%s: unknown keys %s", path, strings.Join(keys, ", "))}
			}
		}
	}
	return fromFile(path, f, getenv)
}

func fromFile(path string, f File, getenv func(string) string) (Config, error) {
	// The file supplies defaults for the same names the environment uses,
	// so both go through one set of checks and the env always wins.
	file := map[string]string{
		qfpay.EnvEnv:      f.QFPay.Env,
		qfpay.EnvBaseURL:  f.QFPay.BaseURL,
		qfpay.EnvAppCode:  f.QFPay.AppCode,
		qfpay.EnvKey:      f.QFPay.Key,
		qfpay.EnvMchID:    f.QFPay.MchID,
		qfpay.EnvSignType: f.QFPay.SignType,
		qfpay.EnvUDID:     f.UDID,
		EnvMerchantName:   f.MerchantName,
		EnvCurrency:       f.Currency,
		EnvPayTypes:       strings.Join(f.PayTypes, ","),
		EnvPIN:            f.PIN,
		EnvManagerPINHash: f.ManagerPINHash,
		EnvLayout:         f.Layout,
		EnvRelayURL:       f.RelayURL,
		EnvRelayToken:     f.RelayToken,
	}
	if f.ExpiryMinutes != 0 {
		file[EnvExpiry] = strconv.Itoa(f.ExpiryMinutes)
	}
	get := func(k string) string {
		if v := strings.TrimSpace(getenv(k)); v != "" {
			return v
		}
		return strings.TrimSpace(file[k])
	}

	var probs Problems
	c := Config{Path: path, MerchantName: get(EnvMerchantName), PIN: get(EnvPIN), ManagerPINHash: get(EnvManagerPINHash),
		RelayURL: get(EnvRelayURL), RelayToken: get(EnvRelayToken)}
	gw, err := qfpay.ConfigFromEnv(get)
	if err != nil {
		probs = append(probs, err.Error())
	}
	c.Gateway = gw
	if (gw.AppCode == "") != (gw.Key == "") {
		probs = append(probs, "set both "+strings.Join(gw.Missing(), " and ")+", or neither for demo mode")
	}
	if len(gw.UDID) > 40 {
		probs = append(probs, qfpay.EnvUDID+"/udid: at most 40 characters")
	}

	c.Currency, err = payment.LookupCurrency(orDefault(get(EnvCurrency), "HKD"))
	if err != nil {
		probs = append(probs, EnvCurrency+"/currency: "+err.Error())
	}

	c.PayTypes, err = payTypes(get(EnvPayTypes))
	if err != nil {
		probs = append(probs, EnvPayTypes+"/pay_types: "+err.Error())
	}

	mins := payment.DefaultExpiryMinutes
	if s := get(EnvExpiry); s != "" {
		mins, err = strconv.Atoi(s)
		if err != nil || mins < payment.MinExpiryMinutes || mins > payment.MaxExpiryMinutes {
			probs = append(probs, fmt.Sprintf("%s/expiry_minutes %q: must be a whole number of minutes from %d to %d", EnvExpiry, s, payment.MinExpiryMinutes, payment.MaxExpiryMinutes))
		}
	}
	c.Expiry = time.Duration(mins) * time.Minute

	if c.PIN != "" && (len(c.PIN) < 4 || len(c.PIN) > 12 || strings.Trim(c.PIN, "0123456789") != "") {
		probs = append(probs, EnvPIN+"/pin: 4 to 12 digits")
	}

	if c.ManagerPINHash != "" && !pinHashShape(c.ManagerPINHash) {
		probs = append(probs, EnvManagerPINHash+"/manager_pin_hash: not a PIN hash; put what `qrkiosk config hash-pin` prints, never the PIN itself")
	}

	c.Layout = orDefault(strings.ToLower(get(EnvLayout)), LayoutDual)
	if c.Layout != LayoutDual && c.Layout != LayoutSingle {
		probs = append(probs, fmt.Sprintf("%s/layout %q: must be %q or %q", EnvLayout, c.Layout, LayoutDual, LayoutSingle))
	}

	if c.RelayURL != "" {
		u, err := url.Parse(c.RelayURL)
		if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
			probs = append(probs, fmt.Sprintf("%s/relay_url %q: must be a ws:// or wss:// URL of the relay's /ws", EnvRelayURL, c.RelayURL))
		}
		if c.RelayToken == "" {
			probs = append(probs, EnvRelayToken+"/relay_token: is required with a relay URL")
		}
	}
	if len(probs) > 0 {
		return c, probs
	}
	return c, nil
}

// payTypes parses a comma-separated list of wallets or codes; empty means
// every wallet a customer can scan.
func payTypes(s string) ([]payment.PayType, error) {
	all := payment.MPMPayTypes()
	if s == "" {
		return all, nil
	}
	want := map[string]bool{}
	for _, w := range strings.Split(s, ",") {
		w = strings.TrimSpace(w)
		if w == "" {
			continue
		}
		p, err := payment.LookupPayType(w)
		if err != nil {
			return nil, err
		}
		if p.Mode != payment.MPM {
			return nil, fmt.Errorf("%q is scanned by the cashier, not shown as a QR; use one of %s", w, strings.Join(payment.MPMWallets(), ", "))
		}
		want[p.Code] = true
	}
	out := slices.DeleteFunc(all, func(p payment.PayType) bool { return !want[p.Code] })
	if len(out) == 0 {
		return nil, errors.New("at least one wallet is required")
	}
	return out, nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// pinHashShape checks the form of a stored manager PIN
// ("pbkdf2-sha256$ITER$SALT$HASH") without the slow hash itself.
func pinHashShape(s string) bool {
	parts := strings.Split(s, "$")
	if len(parts) != 4 || parts[0] != "pbkdf2-sha256" || parts[2] == "" || parts[3] == "" {
		return false
	}
	n, err := strconv.Atoi(parts[1])
	return err == nil && n > 0
}
