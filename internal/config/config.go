// Package config reads the kiosk's settings: a TOML file, qrkiosk/config.toml
// in the OS's user config directory, overridden by the environment. It
// imports no fyne, so `qrkiosk config check` opens no window.
package config

import (
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // logo formats
	_ "image/png"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"qrkiosk/internal/pin"
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
	Logo  string `toml:"logo"`
	QFPay struct {
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
	PayTypes     []payment.PayType // enabled, in catalog order, as the gateway treats them
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

func fromFile(path string, f File, getenv func(string) string) (Config, error) {
	// The file supplies defaults for the same names the environment uses,
	// so both go through one set of checks and the env always wins.
	file := map[string]string{
		EnvGateway:        f.Gateway,
		qfpay.EnvEnv:      f.QFPay.Env,
		qfpay.EnvBaseURL:  f.QFPay.BaseURL,
		qfpay.EnvAppCode:  f.QFPay.AppCode,
		qfpay.EnvKey:      f.QFPay.Key,
		qfpay.EnvMchID:    f.QFPay.MchID,
		qfpay.EnvSignType: f.QFPay.SignType,
		qfpay.EnvUDID:     f.UDID,

		scanforpay.EnvBaseURL:    f.ScanForPay.BaseURL,
		scanforpay.EnvPartnerNo:  f.ScanForPay.PartnerNo,
		scanforpay.EnvStoreNo:    f.ScanForPay.StoreNo,
		scanforpay.EnvKey:        f.ScanForPay.Key,
		scanforpay.EnvTerminalNo: f.ScanForPay.TerminalNo,
		scanforpay.EnvNotifyURL:  f.ScanForPay.NotifyURL,

		EnvMerchantName:   f.MerchantName,
		EnvCurrency:       f.Currency,
		EnvPayTypes:       strings.Join(f.PayTypes, ","),
		EnvPIN:            f.PIN,
		EnvManagerPINHash: f.ManagerPINHash,
		EnvLayout:         f.Layout,
		EnvRelayURL:       f.RelayURL,
		EnvRelayToken:     f.RelayToken,
		EnvLogo:           f.Logo,
	}
	if f.Sound != nil {
		file[EnvSound] = strconv.FormatBool(*f.Sound)
	}
	if f.Logo != "" && path != "" && !filepath.IsAbs(f.Logo) {
		file[EnvLogo] = filepath.Join(filepath.Dir(path), f.Logo)
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
		RelayURL: get(EnvRelayURL), RelayToken: get(EnvRelayToken), UDID: get(qfpay.EnvUDID)}
	c.Gateway = orDefault(strings.ToLower(get(EnvGateway)), GatewayQFPay)
	if !slices.Contains(Gateways(), c.Gateway) {
		probs = append(probs, fmt.Sprintf("%s/gateway %q: must be %s", EnvGateway, c.Gateway, strings.Join(quoted(Gateways()), " or ")))
	}
	// Only the chosen gateway's settings are checked: a merchant moving
	// from one to the other may keep both tables.
	gw, err := qfpay.ConfigFromEnv(get)
	c.QFPay = gw
	c.ScanForPay = scanforpay.ConfigFromEnv(get)
	secrets := map[string]string{EnvRelayToken + "/relay_token": c.RelayToken}
	switch c.Gateway {
	case GatewayQFPay:
		if err != nil {
			probs = append(probs, err.Error())
		}
		if (gw.AppCode == "") != (gw.Key == "") {
			probs = append(probs, "set both "+strings.Join(gw.Missing(), " and ")+", or neither for demo mode")
		}
		probs = append(probs, gw.Check()...)
		secrets[qfpay.EnvAppCode+"/[qfpay] appcode"] = gw.AppCode
		secrets[qfpay.EnvKey+"/[qfpay] key"] = gw.Key
	case GatewayScanForPay:
		sc := c.ScanForPay
		if sc.Partial() {
			probs = append(probs, "set "+strings.Join(sc.Missing(), " and ")+" too, or none of the ScanForPay credentials for demo mode")
		}
		probs = append(probs, sc.Check()...)
		secrets[scanforpay.EnvPartnerNo+"/[scanforpay] partner_no"] = sc.PartnerNo
		secrets[scanforpay.EnvStoreNo+"/[scanforpay] store_no"] = sc.StoreNo
		secrets[scanforpay.EnvKey+"/[scanforpay] key"] = sc.Key
		if c.RelayURL != "" && sc.NotifyURL == "" {
			c.Warnings = append(c.Warnings, fmt.Sprintf("%s/relay_url is set but %s/[scanforpay] notify_url is not: ScanForPay notifies only the URL sent with each order, so the relay will get nothing and orders are followed by polling; set it to the relay's public https://…/notify/scanforpay", EnvRelayURL, scanforpay.EnvNotifyURL))
		}
	}
	for name, v := range secrets {
		if placeholder(v) {
			probs = append(probs, fmt.Sprintf("%s: looks like a placeholder from an example; put the value you were issued", name))
		}
	}
	if len(c.UDID) > 40 {
		probs = append(probs, qfpay.EnvUDID+"/udid: at most 40 characters")
	}

	c.Currency, err = payment.LookupCurrency(orDefault(get(EnvCurrency), "HKD"))
	if err != nil {
		probs = append(probs, EnvCurrency+"/currency: "+err.Error())
	}

	c.payTypesSetting = get(EnvPayTypes)
	c.PayTypes, err = payTypes(c.payTypesSetting, catalog(c.Gateway))
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

	if c.ManagerPINHash != "" && !pin.WellFormed(c.ManagerPINHash) {
		probs = append(probs, EnvManagerPINHash+"/manager_pin_hash: not a PIN hash; put what `qrkiosk config hash-pin` prints, never the PIN itself")
	}

	c.Layout = orDefault(strings.ToLower(get(EnvLayout)), LayoutDual)
	if c.Layout != LayoutDual && c.Layout != LayoutSingle {
		probs = append(probs, fmt.Sprintf("%s/layout %q: must be %q or %q", EnvLayout, c.Layout, LayoutDual, LayoutSingle))
	}

	c.Sound = true
	switch v := strings.ToLower(get(EnvSound)); v {
	case "", "true", "on", "1", "yes":
	case "false", "off", "0", "no":
		c.Sound = false
	default:
		probs = append(probs, fmt.Sprintf("%s/sound %q: must be true or false", EnvSound, v))
	}

	if c.Logo = get(EnvLogo); c.Logo != "" {
		if err := checkImage(c.Logo); err != nil {
			probs = append(probs, fmt.Sprintf("%s/logo %q: %v", EnvLogo, c.Logo, err))
		}
	}

	if c.RelayURL != "" {
		u, err := url.Parse(c.RelayURL)
		if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
			probs = append(probs, fmt.Sprintf("%s/relay_url %q: must be a ws:// or wss:// URL of the relay's /ws", EnvRelayURL, c.RelayURL))
		}
		if c.RelayToken == "" {
			probs = append(probs, EnvRelayToken+"/relay_token: is required with a relay URL")
		}
		if err == nil && u.Scheme == "ws" && !loopback(u.Hostname()) {
			c.Warnings = append(c.Warnings, fmt.Sprintf("%s/relay_url %q: ws:// to another machine sends the relay token in clear; use wss://", EnvRelayURL, c.RelayURL))
		}
	}
	if path != "" && (f.QFPay.Key != "" || f.ScanForPay.Key != "" || f.RelayToken != "" || f.PIN != "") {
		if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 {
			c.Warnings = append(c.Warnings, fmt.Sprintf("%s holds secrets and other users can read it (mode %04o): chmod 600 %s", path, st.Mode().Perm(), path))
		}
	}
	if len(probs) > 0 {
		return c, probs
	}
	return c, nil
}

// checkImage makes sure path is a PNG or JPEG image that can be read.
func checkImage(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("cannot be read: %w", err)
	}
	defer f.Close()
	ic, format, err := image.DecodeConfig(f)
	if err != nil || (format != "png" && format != "jpeg") {
		return errors.New("must be a PNG or JPEG image")
	}
	if ic.Width < 1 || ic.Height < 1 || ic.Width*ic.Height > 4096*4096 {
		return fmt.Errorf("is %d×%d pixels; must be at most 4096×4096", ic.Width, ic.Height)
	}
	return nil
}

// placeholder reports a value copied from an example rather than issued:
// an ellipsis or angle brackets ("…", "<app code>").
func placeholder(v string) bool {
	return strings.Contains(v, "…") || strings.Contains(v, "...") || strings.ContainsAny(v, "<>")
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// payTypes parses a comma-separated list of wallets or codes against the
// gateway's catalog; empty means every wallet of it a customer can scan.
func payTypes(s string, cat payment.Catalog) ([]payment.PayType, error) {
	all := cat.MPM()
	if s == "" {
		return all, nil
	}
	want := map[string]bool{}
	for _, w := range strings.Split(s, ",") {
		w = strings.TrimSpace(w)
		if w == "" {
			continue
		}
		if _, err := payment.LookupPayType(w); err != nil {
			return nil, err
		}
		p, err := cat.Lookup(w)
		if err != nil {
			return nil, fmt.Errorf("%q is not taken by this gateway; use %s", w, strings.Join(cat.MPMWallets(), ", "))
		}
		if p.Mode != payment.MPM {
			return nil, fmt.Errorf("%q is scanned by the cashier, not shown as a QR; use one of %s", w, strings.Join(cat.MPMWallets(), ", "))
		}
		want[p.Code] = true
	}
	out := slices.DeleteFunc(all, func(p payment.PayType) bool { return !want[p.Code] })
	if len(out) == 0 {
		return nil, errors.New("at least one wallet is required")
	}
	return out, nil
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
