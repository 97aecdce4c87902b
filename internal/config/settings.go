package config

import (
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // logo formats
	_ "image/png"
	"maps"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"qrkiosk/internal/pin"
	"qrkiosk/payment"
	"qrkiosk/payment/qfpay"
	"qrkiosk/payment/scanforpay"
)

// fileSettings are the file's values under the names of the environment
// variables that override them: a relative logo is beside the file, and
// what the file leaves out is "".
func fileSettings(path string, f File) map[string]string {
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
		EnvLanguages:      f.Languages,
	}
	f.ECR.settings(file)
	maps.Copy(file, printerSettings(f.Printer))
	if f.Sound != nil {
		file[EnvSound] = strconv.FormatBool(*f.Sound)
	}
	if f.Logo != "" && path != "" && !filepath.IsAbs(f.Logo) {
		file[EnvLogo] = filepath.Join(filepath.Dir(path), f.Logo)
	}
	if f.ExpiryMinutes != 0 {
		file[EnvExpiry] = strconv.Itoa(f.ExpiryMinutes)
	}
	return file
}

// overlay reads a setting from the environment, else from the file, with
// the spaces around it trimmed.
func overlay(getenv func(string) string, file map[string]string) func(string) string {
	return func(k string) string {
		if v := strings.TrimSpace(getenv(k)); v != "" {
			return v
		}
		return strings.TrimSpace(file[k])
	}
}

func (c *Config) checkUDID() []string {
	if len(c.UDID) > 40 {
		return []string{qfpay.EnvUDID + "/udid: at most 40 characters"}
	}
	return nil
}

func (c *Config) readCurrency(get func(string) string) []string {
	var err error
	c.Currency, err = payment.LookupCurrency(orDefault(get(EnvCurrency), "HKD"))
	if err != nil {
		return []string{EnvCurrency + "/currency: " + err.Error()}
	}
	return nil
}

// readPayTypes reads the wallets against the chosen gateway's catalog
// (readGateway first).
func (c *Config) readPayTypes(get func(string) string) []string {
	var err error
	c.payTypesSetting = get(EnvPayTypes)
	c.PayTypes, err = payTypes(c.payTypesSetting, catalog(c.Gateway))
	if err != nil {
		return []string{EnvPayTypes + "/pay_types: " + err.Error()}
	}
	return nil
}

func (c *Config) readExpiry(get func(string) string) []string {
	var probs []string
	mins := payment.DefaultExpiryMinutes
	if s := get(EnvExpiry); s != "" {
		var err error
		mins, err = strconv.Atoi(s)
		if err != nil || mins < payment.MinExpiryMinutes || mins > payment.MaxExpiryMinutes {
			probs = append(probs, fmt.Sprintf("%s/expiry_minutes %q: must be a whole number of minutes from %d to %d", EnvExpiry, s, payment.MinExpiryMinutes, payment.MaxExpiryMinutes))
		}
	}
	c.Expiry = time.Duration(mins) * time.Minute
	return probs
}

// checkPINs checks the kiosk PIN (typed to exit) and the manager PIN's
// hash (never the PIN itself).
func (c *Config) checkPINs() []string {
	var probs []string
	if c.PIN != "" && (len(c.PIN) < 4 || len(c.PIN) > 12 || strings.Trim(c.PIN, "0123456789") != "") {
		probs = append(probs, EnvPIN+"/pin: 4 to 12 digits")
	}
	if c.ManagerPINHash != "" && !pin.WellFormed(c.ManagerPINHash) {
		probs = append(probs, EnvManagerPINHash+"/manager_pin_hash: not a PIN hash; put what `qrkiosk config hash-pin` prints, never the PIN itself")
	}
	return probs
}

func (c *Config) readLayout(get func(string) string) []string {
	c.Layout = orDefault(strings.ToLower(get(EnvLayout)), LayoutDual)
	if c.Layout != LayoutDual && c.Layout != LayoutSingle {
		return []string{fmt.Sprintf("%s/layout %q: must be %q or %q", EnvLayout, c.Layout, LayoutDual, LayoutSingle)}
	}
	return nil
}

func (c *Config) readSound(get func(string) string) []string {
	c.Sound = true
	switch v := strings.ToLower(get(EnvSound)); v {
	case "", "true", "on", "1", "yes":
	case "false", "off", "0", "no":
		c.Sound = false
	default:
		return []string{fmt.Sprintf("%s/sound %q: must be true or false", EnvSound, v)}
	}
	return nil
}

func (c *Config) readLogo(get func(string) string) []string {
	if c.Logo = get(EnvLogo); c.Logo != "" {
		if err := checkImage(c.Logo); err != nil {
			return []string{fmt.Sprintf("%s/logo %q: %v", EnvLogo, c.Logo, err)}
		}
	}
	return nil
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

// checkRelay checks the relay's URL and token, and warns when the token
// would cross the network in clear.
func (c *Config) checkRelay() []string {
	if c.RelayURL == "" {
		return nil
	}
	var probs []string
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
	return probs
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// fileModeWarning warns of a file that holds secrets and that other users
// can read.
func fileModeWarning(path string, f File) []string {
	if path == "" || (f.QFPay.Key == "" && f.ScanForPay.Key == "" && f.RelayToken == "" && f.PIN == "" && !f.ECR.secrets()) {
		return nil
	}
	if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 {
		return []string{fmt.Sprintf("%s holds secrets and other users can read it (mode %04o): chmod 600 %s", path, st.Mode().Perm(), path)}
	}
	return nil
}

// payTypes parses a comma-separated list of wallets or codes against the
// gateway's catalog, in the order given; empty means every wallet of it a
// customer can scan, in the catalog's order.
func payTypes(s string, cat payment.Catalog) ([]payment.PayType, error) {
	all := cat.MPM()
	if s == "" {
		return all, nil
	}
	var out []payment.PayType
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
		// The merchant's order is the cashier's: the first is preselected
		// and the customer screen lists them so. A wallet named twice
		// (by name and by code) is listed once, where first named.
		if !slices.ContainsFunc(out, func(q payment.PayType) bool { return q.Code == p.Code }) {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("at least one wallet is required")
	}
	return out, nil
}
