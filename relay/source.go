package relay

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"
)

// sourceAddr is the notifier's address: the TCP peer, or behind trusted
// proxies the right-most X-Forwarded-For entry that is not one of them.
func (s *Server) sourceAddr(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	a := ap.Addr().Unmap()
	if !containsAddr(s.cfg.TrustedProxies, a) {
		return a
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		h := strings.TrimSpace(hops[i])
		if h == "" {
			continue
		}
		p, err := netip.ParseAddr(h)
		if err != nil {
			return netip.Addr{}
		}
		a = p.Unmap()
		if !containsAddr(s.cfg.TrustedProxies, a) {
			return a
		}
	}
	return a
}

func containsAddr(ps []netip.Prefix, a netip.Addr) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// QFPayNotifierAddrs are the addresses QFPay sends notifications from,
// the "qfpay" preset of ParseAllowList.
var QFPayNotifierAddrs = []string{"13.228.112.115", "18.138.115.47", "18.166.202.92"}

// ParseAllowList reads a comma-separated list of IPs and CIDR prefixes;
// the word "qfpay" stands for QFPayNotifierAddrs. Empty means any.
func ParseAllowList(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		var items []string
		switch {
		case f == "":
			continue
		case strings.EqualFold(f, "qfpay"):
			items = QFPayNotifierAddrs
		default:
			items = []string{f}
		}
		for _, it := range items {
			if strings.Contains(it, "/") {
				p, err := netip.ParsePrefix(it)
				if err != nil {
					return nil, fmt.Errorf("relay: allow-list entry %q: %w", it, err)
				}
				out = append(out, p.Masked())
				continue
			}
			a, err := netip.ParseAddr(it)
			if err != nil {
				return nil, fmt.Errorf("relay: allow-list entry %q: not an IP, CIDR or \"qfpay\"", it)
			}
			a = a.Unmap()
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
		}
	}
	return out, nil
}
