package config

import (
	"fmt"
	"slices"
	"strings"

	"qrkiosk/payment/qfpay"
	"qrkiosk/payment/scanforpay"
)

// gatewayCheck is what checking one gateway's settings found.
type gatewayCheck struct {
	problems []string
	secrets  []secret // checked for placeholders
	warnings []string
}

// secret is a setting whose value was issued to the merchant, by the name
// config check gives it.
type secret struct{ name, value string }

// readGateway reads both gateways' tables (a merchant moving from one to
// the other may keep both) and checks only the chosen one's, its secrets
// and the relay token for placeholders included.
func (c *Config) readGateway(get func(string) string) []string {
	var probs []string
	c.Gateway = orDefault(strings.ToLower(get(EnvGateway)), GatewayQFPay)
	if !slices.Contains(Gateways(), c.Gateway) {
		probs = append(probs, fmt.Sprintf("%s/gateway %q: must be %s", EnvGateway, c.Gateway, strings.Join(quoted(Gateways()), " or ")))
	}
	qf, err := qfpay.ConfigFromEnv(get)
	c.QFPay, c.ScanForPay = qf, scanforpay.ConfigFromEnv(get)
	var gc gatewayCheck
	switch c.Gateway {
	case GatewayQFPay:
		gc = checkQFPay(qf, err)
	case GatewayScanForPay:
		gc = checkScanForPay(c.ScanForPay, c.RelayURL)
	}
	c.Warnings = append(c.Warnings, gc.warnings...)
	secrets := append([]secret{{EnvRelayToken + "/relay_token", c.RelayToken}}, gc.secrets...)
	return slices.Concat(probs, gc.problems, placeholders(secrets))
}

// checkQFPay checks QFPay's settings as read (readErr: why they could not
// be): both credentials or neither (demo mode), and the rest well formed.
func checkQFPay(gw qfpay.Config, readErr error) gatewayCheck {
	var gc gatewayCheck
	if readErr != nil {
		gc.problems = append(gc.problems, readErr.Error())
	}
	if (gw.AppCode == "") != (gw.Key == "") {
		gc.problems = append(gc.problems, "set both "+strings.Join(gw.Missing(), " and ")+", or neither for demo mode")
	}
	gc.problems = append(gc.problems, gw.Check()...)
	gc.secrets = []secret{
		{qfpay.EnvAppCode + "/[qfpay] appcode", gw.AppCode},
		{qfpay.EnvKey + "/[qfpay] key", gw.Key},
	}
	return gc
}

// checkScanForPay checks ScanForPay's settings: all three credentials or
// none (demo mode), the rest well formed, and a relay that can hear from
// ScanForPay only through the notify URL sent with each order.
func checkScanForPay(sc scanforpay.Config, relayURL string) gatewayCheck {
	var gc gatewayCheck
	if sc.Partial() {
		gc.problems = append(gc.problems, "set "+strings.Join(sc.Missing(), " and ")+" too, or none of the ScanForPay credentials for demo mode")
	}
	gc.problems = append(gc.problems, sc.Check()...)
	gc.secrets = []secret{
		{scanforpay.EnvPartnerNo + "/[scanforpay] partner_no", sc.PartnerNo},
		{scanforpay.EnvStoreNo + "/[scanforpay] store_no", sc.StoreNo},
		{scanforpay.EnvKey + "/[scanforpay] key", sc.Key},
	}
	if relayURL != "" && sc.NotifyURL == "" {
		gc.warnings = append(gc.warnings, fmt.Sprintf("%s/relay_url is set but %s/[scanforpay] notify_url is not: ScanForPay notifies only the URL sent with each order, so the relay will get nothing and orders are followed by polling; set it to the relay's public https://…/notify/scanforpay", EnvRelayURL, scanforpay.EnvNotifyURL))
	}
	return gc
}

// placeholders are the problems of secrets copied from an example rather
// than issued.
func placeholders(secrets []secret) []string {
	var probs []string
	for _, s := range secrets {
		if placeholder(s.value) {
			probs = append(probs, fmt.Sprintf("%s: looks like a placeholder from an example; put the value you were issued", s.name))
		}
	}
	return probs
}

// placeholder reports a value copied from an example rather than issued:
// an ellipsis or angle brackets ("…", "<app code>").
func placeholder(v string) bool {
	return strings.Contains(v, "…") || strings.Contains(v, "...") || strings.ContainsAny(v, "<>")
}
