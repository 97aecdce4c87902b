package config

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// The [ecr] section: QFPay's ECR protocol, by which the shop's POS (Odoo's
// pos_qfpay) sends the amount to the kiosk and gets the result back. It is
// on when pos_key is set.
const (
	// EnvECRListen is the kiosk's LAN server address (POS, setup page,
	// customer displays); default DefaultECRListen.
	EnvECRListen = "QRKIOSK_ECR_LISTEN"
	// EnvECRPOSKey is the POS-KEY the POS signs and encrypts with.
	EnvECRPOSKey = "QRKIOSK_ECR_POS_KEY"
	// EnvECRNotifyURL is the POS's webhook (Odoo: https://…/qfpay/notify).
	EnvECRNotifyURL = "QRKIOSK_ECR_NOTIFY_URL"
	// EnvECRNotifyKey signs the notifications (default: the gateway key).
	EnvECRNotifyKey = "QRKIOSK_ECR_NOTIFY_KEY"
	// EnvECREncryption: requests must be encrypted (default true).
	EnvECREncryption = "QRKIOSK_ECR_ENCRYPTION"
)

// DefaultECRListen is QFPay's terminal port on every interface.
const DefaultECRListen = "0.0.0.0:9001"

// ECR is the checked [ecr] section.
type ECR struct {
	// Listen is where the kiosk's LAN server listens ("" = DefaultECRListen).
	Listen string
	// POSKey is the POS-KEY; "" = the POS endpoint is off.
	POSKey    string
	NotifyURL string // "" = no webhook: the POS reads the answers only
	// NotifyKey signs the notifications; NotifyKeyIsGateway says it is the
	// gateway's key (notify_key not set), as QFPay signs with it.
	NotifyKey          string
	NotifyKeyIsGateway bool
	Encryption         bool
}

// On reports whether the kiosk answers the POS.
func (e ECR) On() bool { return e.POSKey != "" }

// ListenAddr is Listen, or its default.
func (e ECR) ListenAddr() string { return orDefault(e.Listen, DefaultECRListen) }

// ecrFile is the [ecr] table of config.toml.
type ecrFile struct {
	Listen     string `toml:"listen"`
	POSKey     string `toml:"pos_key"`
	NotifyURL  string `toml:"notify_url"`
	NotifyKey  string `toml:"notify_key"`
	Encryption *bool  `toml:"encryption"`
}

func (f ecrFile) settings(m map[string]string) {
	m[EnvECRListen] = f.Listen
	m[EnvECRPOSKey] = f.POSKey
	m[EnvECRNotifyURL] = f.NotifyURL
	m[EnvECRNotifyKey] = f.NotifyKey
	if f.Encryption != nil {
		m[EnvECREncryption] = strconv.FormatBool(*f.Encryption)
	}
}

// readECR reads [ecr] (after the gateway, whose key signs notifications by
// default). No problem or warning ever quotes a key.
func (c *Config) readECR(get func(string) string) []string {
	e := ECR{Listen: get(EnvECRListen), POSKey: get(EnvECRPOSKey), NotifyURL: get(EnvECRNotifyURL), NotifyKey: get(EnvECRNotifyKey), Encryption: true}
	var probs []string
	switch v := strings.ToLower(get(EnvECREncryption)); v {
	case "", "true", "on", "1", "yes":
	case "false", "off", "0", "no":
		e.Encryption = false
	default:
		probs = append(probs, fmt.Sprintf("%s/[ecr] encryption %q: must be true or false", EnvECREncryption, v))
	}
	if e.Listen != "" {
		if err := checkListen(e.Listen); err != nil {
			probs = append(probs, fmt.Sprintf("%s/[ecr] listen %q: %v", EnvECRListen, e.Listen, err))
		}
	}
	if e.POSKey != "" {
		if n := len(e.POSKey); n != 16 && n != 24 && n != 32 {
			probs = append(probs, fmt.Sprintf("%s/[ecr] pos_key: %d characters; must be 16, 24 or 32 (a QFPay POS-KEY is 32)", EnvECRPOSKey, n))
		}
	}
	if e.NotifyURL != "" {
		u, err := url.Parse(e.NotifyURL)
		switch {
		case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
			probs = append(probs, fmt.Sprintf("%s/[ecr] notify_url %q: must be the POS's https:// webhook (Odoo: https://ODOO-HOST/qfpay/notify)", EnvECRNotifyURL, e.NotifyURL))
		case u.User != nil:
			probs = append(probs, fmt.Sprintf("%s/[ecr] notify_url: must not carry a user or password", EnvECRNotifyURL))
		case u.Scheme == "http" && !loopback(u.Hostname()) && !privateHost(u.Hostname()):
			c.Warnings = append(c.Warnings, fmt.Sprintf("%s/[ecr] notify_url %q: http:// across the internet can be read and altered on the way; use https://", EnvECRNotifyURL, e.NotifyURL))
		}
	}
	if e.NotifyKey == "" {
		e.NotifyKey, e.NotifyKeyIsGateway = c.gatewayKey(), true
	}
	switch {
	case e.On() && e.NotifyURL == "":
		c.Warnings = append(c.Warnings, fmt.Sprintf("%s/[ecr] notify_url is not set: Odoo's pos_qfpay learns that a payment succeeded only from its webhook; set it to https://ODOO-HOST/qfpay/notify", EnvECRNotifyURL))
	case !e.On() && (e.NotifyURL != "" || get(EnvECRNotifyKey) != ""):
		c.Warnings = append(c.Warnings, fmt.Sprintf("[ecr] is set but %s/[ecr] pos_key is not: the kiosk does not answer the POS", EnvECRPOSKey))
	}
	c.ECR = e
	return append(probs, placeholders([]secret{
		{EnvECRPOSKey + "/[ecr] pos_key", e.POSKey},
		{EnvECRNotifyKey + "/[ecr] notify_key", get(EnvECRNotifyKey)},
	})...)
}

// gatewayKey is the chosen gateway's key: QFPay signs its notifications
// with it, so a POS set up for QFPay verifies with it.
func (c *Config) gatewayKey() string {
	if c.Gateway == GatewayScanForPay {
		return c.ScanForPay.Key
	}
	return c.QFPay.Key
}

// checkListen takes host:port with a numeric port, the host an IP address,
// "localhost" or empty (every interface).
func checkListen(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("must be HOST:PORT, e.g. %s", DefaultECRListen)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 || strings.Trim(port, "0123456789") != "" {
		return fmt.Errorf("port %q must be a number from 0 to 65535", port)
	}
	if host != "" && host != "localhost" {
		if _, err := netip.ParseAddr(host); err != nil {
			return fmt.Errorf("host %q must be an IP address of this machine (0.0.0.0: every one)", host)
		}
	}
	return nil
}

// privateHost: a webhook on the shop's own network (a LAN-hosted Odoo).
func privateHost(host string) bool {
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsPrivate()
}

// secrets reports whether the file's [ecr] holds a key (fileModeWarning).
func (f ecrFile) secrets() bool { return f.POSKey != "" || f.NotifyKey != "" }
