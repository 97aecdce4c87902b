package config

import (
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"qrkiosk/payment"
)

// FuzzSettings: whatever the file and the environment hold (the logo
// apart: it is a file to open), the settings are refused with problems or
// are within every rule: a gateway and a layout the kiosk knows, an expiry
// in range, wallets the gateway shows as a QR, a kiosk PIN of 4 to 12
// digits, a relay reached over ws or wss with its token.
func FuzzSettings(f *testing.F) {
	f.Add("qfpay", "HKD", "payme,fps", 10, "2468", "single", "off", "wss://relay.example/ws", "t", "", "", "")
	f.Add("ScanForPay", "hkd", "wechat", 0, "", "", "", "", "", "scanforpay", "", "7")
	f.Add("", "JPY", "alipay-cpm", 500, "12", "triple", "loud", "http://relay", "", "alipay", "… ", "60")
	f.Fuzz(func(t *testing.T, gateway, currency, payTypes string, expiry int, pin, layout, sound, relayURL, relayToken, envGateway, envKey, envExpiry string) {
		file := File{Gateway: gateway, Currency: currency, PayTypes: strings.Split(payTypes, ","), ExpiryMinutes: expiry,
			PIN: pin, Layout: layout, RelayURL: relayURL, RelayToken: relayToken}
		if sound != "" {
			on := sound == "on"
			file.Sound = &on
		}
		env := envOf(map[string]string{EnvGateway: envGateway, "QFPAY_KEY": envKey, "SCANFORPAY_KEY": envKey, EnvExpiry: envExpiry, EnvSound: sound})
		c, err := fromFile("", file, env)
		if err != nil {
			var probs Problems
			if !errors.As(err, &probs) || len(probs) == 0 || slices.Contains(probs, "") {
				t.Fatalf("refused without saying why: %v", err)
			}
			return
		}
		if !slices.Contains(Gateways(), c.Gateway) || (c.Layout != LayoutDual && c.Layout != LayoutSingle) {
			t.Fatalf("gateway %q layout %q", c.Gateway, c.Layout)
		}
		if c.Expiry < payment.MinExpiryMinutes*time.Minute || c.Expiry > payment.MaxExpiryMinutes*time.Minute || c.Expiry%time.Minute != 0 {
			t.Fatalf("expiry %v", c.Expiry)
		}
		if len(c.PayTypes) == 0 || c.Currency.Code == "" {
			t.Fatalf("wallets %v currency %q", c.PayTypes, c.Currency.Code)
		}
		shown := c.Catalog().MPM()
		for _, p := range c.PayTypes {
			if !slices.ContainsFunc(shown, func(s payment.PayType) bool { return s.Code == p.Code }) {
				t.Fatalf("wallet %s is not one %s shows as a QR", p.Code, c.Gateway)
			}
		}
		if c.PIN != "" && (len(c.PIN) < 4 || len(c.PIN) > 12 || strings.Trim(c.PIN, "0123456789") != "") {
			t.Fatalf("kiosk PIN %q", c.PIN)
		}
		if c.RelayURL != "" {
			u, err := url.Parse(c.RelayURL)
			if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" || c.RelayToken == "" {
				t.Fatalf("relay %q token %q", c.RelayURL, c.RelayToken)
			}
		}
	})
}
