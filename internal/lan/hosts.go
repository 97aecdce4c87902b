package lan

import (
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
)

// Hosts is what the server certificate names besides localhost, 127.0.0.1
// and ::1, which it always names: the machine's host name (also as
// <name>.local, its mDNS name) and its LAN addresses.
type Hosts struct {
	Name string
	IPs  []netip.Addr
}

// MachineHosts is this machine's host name and the unicast addresses of
// its interfaces, loopback and link-local ones left out (a POS cannot use
// a link-local address in a URL).
func MachineHosts() (Hosts, error) {
	name, err := os.Hostname()
	if err != nil {
		return Hosts{}, err
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return Hosts{}, err
	}
	return hostsFrom(name, addrs), nil
}

func hostsFrom(name string, addrs []net.Addr) Hosts {
	h := Hosts{Name: name}
	for _, a := range addrs {
		n, ok := a.(*net.IPNet)
		if !ok {
			continue
		}
		if ip, ok := netip.AddrFromSlice(n.IP); ok && ip.Unmap().IsGlobalUnicast() {
			h.IPs = append(h.IPs, ip.Unmap())
		}
	}
	return h
}

// all is every DNS name and address the server certificate names.
func (h Hosts) all() (names []string, ips []netip.Addr) {
	names = []string{"localhost"}
	if n := strings.ToLower(strings.TrimSuffix(h.Name, ".")); validDNSName(n) {
		label, _, _ := strings.Cut(n, ".")
		names = append(names, n, label+".local")
	}
	ips = []netip.Addr{netip.AddrFrom4([4]byte{127, 0, 0, 1}), netip.IPv6Loopback()}
	for _, ip := range h.IPs {
		if ip = ip.Unmap(); ip.IsGlobalUnicast() {
			ips = append(ips, ip.WithZone(""))
		}
	}
	slices.Sort(names)
	slices.SortFunc(ips, netip.Addr.Compare)
	return slices.Compact(names), slices.Compact(ips)
}

// validDNSName reports whether s can be a certificate's DNS name: a host
// name with an underscore or a space is left out rather than refused by
// every browser.
func validDNSName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}
