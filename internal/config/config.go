// Package config reads and checks the kiosk's settings, config.toml in the
// user config directory overridden by the environment, without fyne, so
// that `qrkiosk config check` opens no window.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"qrkiosk/display/view"
	"qrkiosk/payment"
	"qrkiosk/payment/qfpay"
	"qrkiosk/payment/scanforpay"
)

// Layouts the GUI knows.
const (
	LayoutDual   = "dual"   // cashier window + customer window
	LayoutSingle = "single" // one full-screen window (tablet kiosk)
)

// Environment variables besides the gateways' (QFPAY_*, SCANFORPAY_*) and
// QRKIOSK_UDID.
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
	EnvGateway        = "QRKIOSK_GATEWAY"
	// EnvSound turns the cues off: false (or off, 0, no); on by default.
	EnvSound = "QRKIOSK_SOUND"
	// EnvLogo is the merchant's logo on the customer's idle screen.
	EnvLogo = "QRKIOSK_LOGO"
	// EnvLanguages orders the customer screens' languages: "wallet" (each
	// order's wallet decides) or a fixed "en,zh-Hant,zh-Hans".
	EnvLanguages = "QRKIOSK_LANGUAGES"
)

// Gateways the kiosk can charge through.
const (
	GatewayQFPay      = qfpay.Name
	GatewayScanForPay = scanforpay.Name
)

// Gateways lists the gateway names config.toml and QRKIOSK_GATEWAY take.
func Gateways() []string { return []string{GatewayQFPay, GatewayScanForPay} }

// File is config.toml as written by a person. Every key is optional.
type File struct {
	Gateway       string   `toml:"gateway"`
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
	// Sound: the chime on Paid and the tone on a problem; nil = on.
	Sound *bool `toml:"sound"`
	// Logo is a PNG or JPEG shown on the customer's idle screen; a
	// relative path is read from the config file's folder.
	Logo string `toml:"logo"`
	// Printer is the receipt printer ([printer]).
	Printer PrinterFile `toml:"printer"`
	// Languages orders the customer screens' texts (see EnvLanguages).
	Languages string `toml:"languages"`
	QFPay     struct {
		Env      string `toml:"env"`
		BaseURL  string `toml:"base_url"`
		AppCode  string `toml:"appcode"`
		Key      string `toml:"key"`
		MchID    string `toml:"mchid"`
		SignType string `toml:"sign_type"`
	} `toml:"qfpay"`
	ScanForPay struct {
		BaseURL    string `toml:"base_url"`
		PartnerNo  string `toml:"partner_no"`
		StoreNo    string `toml:"store_no"`
		Key        string `toml:"key"`
		TerminalNo string `toml:"terminal_no"`
		NotifyURL  string `toml:"notify_url"`
	} `toml:"scanforpay"`
	// ECR is the POS endpoint (ecr.go).
	ECR ecrFile `toml:"ecr"`
}

// Config is the checked configuration the kiosk runs with.
type Config struct {
	Path string // the file read; "" if there was none
	// Gateway names the gateway the kiosk charges through; its settings
	// are in the table of that name ([qfpay] or [scanforpay]).
	Gateway      string
	QFPay        qfpay.Config
	ScanForPay   scanforpay.Config
	UDID         string // this kiosk's device id (≤ 40 characters)
	MerchantName string
	Currency     payment.Currency
	PayTypes     []payment.PayType // enabled, in the order pay_types lists them (else the catalog's), as the gateway treats them
	// payTypesSetting is pay_types as written, kept to apply it to another
	// gateway (WithGateway).
	payTypesSetting string
	Expiry          time.Duration
	PIN             string // "" = none configured
	// ManagerPINHash is the salted hash of the manager PIN that guards
	// refunds; "" = none configured (refunds from the app are off).
	ManagerPINHash string
	Layout         string
	RelayURL       string
	RelayToken     string
	// Sound: play the cues (on unless `sound = false`).
	Sound bool
	// Logo is the path of the merchant's logo ("" = none), checked to be
	// a PNG or JPEG image.
	Logo string
	// ECR is the POS endpoint: QFPay's ECR protocol (ecr.go).
	ECR ECR
	// Printer is the receipt printer; Address "" = none.
	Printer Printer
	// Languages orders every customer screen's texts.
	Languages view.Languages
	// Warnings are settings that work but put something at risk (a token
	// sent in clear, a key others can read); config check prints them and
	// the kiosk logs them at start.
	Warnings []string
}

// Demo reports whether the kiosk has no gateway credentials and so runs
// against its built-in simulator (the window) or not at all (charges).
func (c Config) Demo() bool { return len(c.Missing()) > 0 }

// gatewayConfig is what both gateways' settings tell about themselves.
type gatewayConfig interface {
	Missing() []string
	Endpoint() (env, baseURL string)
	fmt.Stringer
}

// chosen is the chosen gateway's settings.
func (c Config) chosen() gatewayConfig {
	if c.Gateway == GatewayScanForPay {
		return c.ScanForPay
	}
	return c.QFPay
}

// Missing lists what the chosen gateway still needs for real payments.
func (c Config) Missing() []string { return c.chosen().Missing() }

// Endpoint names the chosen gateway's environment and base URL.
func (c Config) Endpoint() (env, baseURL string) { return c.chosen().Endpoint() }

// Credentials describes the chosen gateway's settings for people (never a
// key).
func (c Config) Credentials() fmt.Stringer { return c.chosen() }

// GatewayNotes are what the chosen gateway lacks that a merchant should
// know before taking payments through it.
func (c Config) GatewayNotes() []string {
	if c.Gateway != GatewayScanForPay {
		return nil
	}
	return []string{
		"ScanForPay has no cancel and no expiry: an unpaid QR stays payable; the kiosk's own countdown ends the sale and a later payment shows as paid late",
		"ScanForPay has no refund query: a partial refund still processing stays pending until the payment is refunded in full, or is checked in the merchant portal",
		"ScanForPay cannot list a day's transactions: reconcile checks each journal order by query",
	}
}

// Catalog is the pay types the chosen gateway takes, as it treats them.
func (c Config) Catalog() payment.Catalog { return catalog(c.Gateway) }

func catalog(gateway string) payment.Catalog {
	if gateway == GatewayScanForPay {
		return scanforpay.PayTypes()
	}
	return payment.AllPayTypes()
}

// WithGateway is the configuration switched to another gateway (the
// window's --demo-gateway): its pay types re-read for that gateway.
func (c Config) WithGateway(name string) (Config, error) {
	if !slices.Contains(Gateways(), name) {
		return c, fmt.Errorf("gateway %q: must be %s", name, strings.Join(Gateways(), " or "))
	}
	pts, err := payTypes(c.payTypesSetting, catalog(name))
	if err != nil {
		return c, fmt.Errorf("%s/pay_types on %s: %w", EnvPayTypes, name, err)
	}
	c.Gateway, c.PayTypes = name, pts
	return c, nil
}

// DefaultPath is qrkiosk/config.toml in the user config directory, or the
// file named by QRKIOSK_CONFIG; named reports the latter: a file someone
// named must exist.
func DefaultPath(getenv func(string) string) (path string, named bool, err error) {
	if p := strings.TrimSpace(getenv(EnvConfig)); p != "" {
		return p, true, nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", false, err
	}
	return filepath.Join(dir, "qrkiosk", "config.toml"), false, nil
}

// FromEnvironment loads the file DefaultPath names, overlaid with the
// environment: the one way the window and every subcommand read their
// settings.
func FromEnvironment(getenv func(string) string) (Config, error) {
	path, named, err := DefaultPath(getenv)
	if err != nil {
		return Config{}, Problems{"no user config directory: " + err.Error()}
	}
	if named {
		if _, err := os.Stat(path); err != nil {
			return Config{Path: path}, Problems{fmt.Sprintf("%s %q: %v", EnvConfig, path, err)}
		}
	}
	return Load(path, getenv)
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
		// The file is there from here on, even when it cannot be used:
		// Path says so (config check must not call it "not present").
		var syntax toml.ParseError
		var unread *fs.PathError
		switch {
		case errors.Is(err, fs.ErrNotExist):
			path = ""
		case errors.As(err, &unread):
			return Config{Path: path}, Problems{fmt.Sprintf("%s: could not be read: %v", path, unread.Err)}
		case errors.As(err, &syntax):
			return Config{Path: path}, Problems{fmt.Sprintf("%s: could not be read as TOML: %v", path, err)}
		case err != nil:
			// The TOML library names the line and key of a value of the
			// wrong type ("line 3 (last key "expiry_minutes"): incompatible types").
			return Config{Path: path}, Problems{fmt.Sprintf("%s: a setting has the wrong type: %v", path, err)}
		default:
			if extra := md.Undecoded(); len(extra) > 0 {
				var keys []string
				for _, k := range extra {
					keys = append(keys, k.String())
				}
				return Config{Path: path}, Problems{fmt.Sprintf("%s: unknown keys %s", path, strings.Join(keys, ", "))}
			}
		}
	}
	return fromFile(path, f, getenv)
}

// fromFile checks the file's settings overlaid with the environment, one
// section at a time, in the order config check lists their problems.
func fromFile(path string, f File, getenv func(string) string) (Config, error) {
	// The file supplies defaults for the same names the environment uses,
	// so both go through one set of checks and the env always wins.
	get := overlay(getenv, fileSettings(path, f))
	c := Config{Path: path, MerchantName: get(EnvMerchantName), PIN: get(EnvPIN), ManagerPINHash: get(EnvManagerPINHash),
		RelayURL: get(EnvRelayURL), RelayToken: get(EnvRelayToken), UDID: get(qfpay.EnvUDID)}
	// Arguments are evaluated left to right: the sections run in this order.
	probs := Problems(slices.Concat(
		c.readGateway(get),
		c.checkUDID(),
		c.readCurrency(get),
		c.readPayTypes(get),
		c.readExpiry(get),
		c.checkPINs(),
		c.readLayout(get),
		c.readSound(get),
		c.readLogo(get),
		c.readLanguages(get),
		c.checkRelay(),
		c.readECR(get),
		c.readPrinter(get),
	))
	c.Warnings = append(c.Warnings, fileModeWarning(path, f)...)
	if len(probs) > 0 {
		return c, probs
	}
	return c, nil
}

func quoted(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strconv.Quote(s)
	}
	return out
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
