package relay

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"qrkiosk/payment/scanforpay"
)

// DefaultMerchant is the one-shop merchant: the one --qfpay-key configures
// (or a merchants-file entry of that name). Its notifications also arrive
// on /notify/qfpay, and the shared --token sees them.
const DefaultMerchant = "default"

// Merchant is one shop (or chain) whose gateway notifications the relay
// receives at /notify/{Gateway}/{ID}.
type Merchant struct {
	ID      string // URL-safe name chosen by the operator
	Gateway string // "qfpay"
	AppCode string // the gateway's merchant credential id (QFPay app_code), for logs and listings
	Key     string // the gateway's signing key (QFPay client_key); never logged
}

var merchantID = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// ValidMerchantID checks a merchant id: 1-64 of a-z 0-9 . _ - starting
// with a letter or digit, so it is one clean URL path segment.
func ValidMerchantID(id string) error {
	if !merchantID.MatchString(id) {
		return fmt.Errorf("merchant id %q: 1-64 characters of a-z, 0-9, '.', '_', '-', starting with a letter or digit", id)
	}
	return nil
}

func (m Merchant) validate() error {
	if err := ValidMerchantID(m.ID); err != nil {
		return err
	}
	if _, ok := gateways[m.Gateway]; !ok {
		return fmt.Errorf("merchant %s: gateway %q: must be one of %s", m.ID, m.Gateway, strings.Join(gatewayNames(), ", "))
	}
	if m.Key == "" {
		return fmt.Errorf("merchant %s: the key is empty", m.ID)
	}
	return nil
}

func gatewayNames() []string {
	var out []string
	for n := range gateways {
		out = append(out, n)
	}
	return out
}

// ParseMerchants reads a merchants file: one merchant and gateway a line,
// four fields separated by blanks — id, gateway, app code, key — with #
// comments (a shop on two gateways has a line for each, under one id):
//
//	# id        gateway  app_code                          key
//	shop-a      qfpay    A1B2C3D4E5F6A7B8C9D0E1F2A3B4C5D6  0123456789ABCDEF0123456789ABCDEF
//
// The file holds keys: keep it 0600 (or a systemd credential). Errors
// name the line and never quote a key.
func ParseMerchants(r io.Reader) ([]Merchant, error) {
	var out []Merchant
	seen := map[[2]string]int{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 4 {
			return nil, fmt.Errorf("merchants line %d: want 4 fields (id gateway app_code key), found %d", n, len(f))
		}
		m := Merchant{ID: f[0], Gateway: strings.ToLower(f[1]), AppCode: f[2], Key: f[3]}
		if err := m.validate(); err != nil {
			return nil, fmt.Errorf("merchants line %d: %w", n, err)
		}
		if prev, dup := seen[[2]string{m.ID, m.Gateway}]; dup {
			return nil, fmt.Errorf("merchants line %d: merchant %s on %s is already on line %d", n, m.ID, m.Gateway, prev)
		}
		seen[[2]string{m.ID, m.Gateway}] = n
		out = append(out, m)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("merchants: %w", err)
	}
	return out, nil
}

func hasDefault(idx map[string]map[string]Merchant) bool {
	for _, ms := range idx {
		if _, ok := ms[DefaultMerchant]; ok {
			return true
		}
	}
	return false
}

// CheckMerchants runs NewServer's checks of the merchants (Key,
// ScanForPayKey, Merchants) and of the shared Token, and nothing else: a
// configuration check says what NewServer would refuse.
func CheckMerchants(cfg Config) error {
	_, err := checkMerchants(cfg)
	return err
}

func checkMerchants(cfg Config) (map[string]map[string]Merchant, error) {
	merchants, err := merchantIndex(cfg)
	if err != nil {
		return nil, err
	}
	if cfg.Token != "" && !hasDefault(merchants) {
		return nil, errors.New("relay: the shared Token sees the one-shop merchant's notifications, and there is none: set Key (--qfpay-key) or a merchant named \"default\", or give each kiosk its own token")
	}
	return merchants, nil
}

// merchantIndex checks and indexes the configured merchants. A merchant
// id may appear once per gateway: a shop on two gateways is one merchant,
// and its kiosks' tokens see both.
func merchantIndex(cfg Config) (map[string]map[string]Merchant, error) {
	var ms []Merchant
	if cfg.Key != "" {
		ms = append(ms, Merchant{ID: DefaultMerchant, Gateway: "qfpay", Key: cfg.Key})
	}
	if cfg.ScanForPayKey != "" {
		ms = append(ms, Merchant{ID: DefaultMerchant, Gateway: scanforpay.Name, Key: cfg.ScanForPayKey})
	}
	ms = append(ms, cfg.Merchants...)
	if len(ms) == 0 {
		return nil, errors.New("relay: a merchant is required: Key (QFPay's client key), ScanForPayKey, or Merchants")
	}
	idx := make(map[string]map[string]Merchant)
	for _, m := range ms {
		if err := m.validate(); err != nil {
			return nil, fmt.Errorf("relay: %w", err)
		}
		if _, dup := idx[m.Gateway][m.ID]; dup {
			if m.ID == DefaultMerchant && (m.Gateway == "qfpay" && cfg.Key != "" || m.Gateway == scanforpay.Name && cfg.ScanForPayKey != "") {
				return nil, fmt.Errorf("relay: merchant \"default\" on %s is configured twice: by its key setting and in Merchants", m.Gateway)
			}
			return nil, fmt.Errorf("relay: merchant %s on %s is configured twice", m.ID, m.Gateway)
		}
		if idx[m.Gateway] == nil {
			idx[m.Gateway] = make(map[string]Merchant)
		}
		idx[m.Gateway][m.ID] = m
	}
	return idx, nil
}

// serves reports whether merchant id is configured for any gateway.
func (s *Server) serves(id string) bool {
	for _, ms := range s.merchants {
		if _, ok := ms[id]; ok {
			return true
		}
	}
	return false
}

func (s *Server) merchantCount() int {
	n := 0
	for _, ms := range s.merchants {
		n += len(ms)
	}
	return n
}
