package lan

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

var (
	t0     = time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	lanIP  = netip.MustParseAddr("192.168.1.20")
	lanIP6 = netip.MustParseAddr("2001:db8::20")
	shop   = Hosts{Name: "kiosk-1", IPs: []netip.Addr{lanIP, lanIP6}}
)

func ensure(t *testing.T, dir string, now time.Time, hosts Hosts) *Certs {
	t.Helper()
	c, err := EnsureCerts(dir, now, hosts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// caPool is what a POS that imported ca.crt trusts.
func caPool(t *testing.T, c *Certs) *x509.CertPool {
	t.Helper()
	b, err := os.ReadFile(c.CAPath)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		t.Fatalf("%s holds no certificate", c.CAPath)
	}
	return pool
}

func TestEnsureCertsFirstUse(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "lan")
	c := ensure(t, dir, t0, shop)

	for name, want := range map[string]os.FileMode{".": 0o700, "ca.crt": 0o644, "ca.key": 0o600, "server.crt": 0o644, "server.key": 0o600} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s mode %v, want %v", name, got, want)
		}
	}

	ca := c.CA()
	if !ca.IsCA || ca.Subject.CommonName != "qrkiosk LAN CA (kiosk-1)" {
		t.Errorf("CA: IsCA %v, CN %q", ca.IsCA, ca.Subject.CommonName)
	}
	if k, ok := ca.PublicKey.(*ecdsa.PublicKey); !ok || k.Curve != elliptic.P256() {
		t.Errorf("CA key %T, want ECDSA P-256", ca.PublicKey)
	}
	if life := ca.NotAfter.Sub(t0); life < 9*365*24*time.Hour {
		t.Errorf("CA lives %v, want about 10 years", life)
	}

	srv := c.Server()
	if life := srv.NotAfter.Sub(srv.NotBefore); life > 397*24*time.Hour {
		t.Errorf("server certificate lives %v, browsers refuse more than 397 days", life)
	}
	// Every name and address a POS or phone may use verifies against ca.crt.
	pool := caPool(t, c)
	for _, host := range []string{"kiosk-1", "kiosk-1.local", "localhost", "127.0.0.1", "::1", "192.168.1.20", "2001:db8::20"} {
		if _, err := srv.Verify(x509.VerifyOptions{Roots: pool, DNSName: host, CurrentTime: t0, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
			t.Errorf("%s: %v", host, err)
		}
	}
}

func TestEnsureCertsKeepsWhatIsValid(t *testing.T) {
	dir := t.TempDir()
	first := ensure(t, dir, t0, shop)
	second := ensure(t, dir, t0.Add(24*time.Hour), Hosts{Name: shop.Name, IPs: []netip.Addr{lanIP}})
	if second.Server().SerialNumber.Cmp(first.Server().SerialNumber) != 0 {
		t.Error("a valid server certificate naming every address was re-issued")
	}
	if second.Fingerprint() != first.Fingerprint() {
		t.Error("the CA changed")
	}
}

func TestRefreshRenewsBeforeExpiry(t *testing.T) {
	dir := t.TempDir()
	c := ensure(t, dir, t0, shop)
	old := c.Server()
	renewAt := old.NotAfter.Add(-RenewBefore)

	if why, err := c.Refresh(renewAt.Add(-time.Minute), shop); err != nil || why != "" {
		t.Fatalf("a minute before the renewal date: re-issued %q, %v", why, err)
	}
	why, err := c.Refresh(renewAt, shop)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(why, "expires") {
		t.Errorf("reason %q, want it to say the certificate expires", why)
	}
	renewed := c.Server()
	if renewed.SerialNumber.Cmp(old.SerialNumber) == 0 || !renewed.NotAfter.After(old.NotAfter) {
		t.Fatal("not re-issued")
	}
	// Same CA: what the POS imported still verifies the new one.
	if _, err := renewed.Verify(x509.VerifyOptions{Roots: caPool(t, c), DNSName: "192.168.1.20", CurrentTime: renewAt}); err != nil {
		t.Error(err)
	}
	// A restart finds the renewed one on disk.
	if again := ensure(t, dir, renewAt, shop); again.Server().SerialNumber.Cmp(renewed.SerialNumber) != 0 {
		t.Error("the renewed certificate was not kept on disk")
	}
}

func TestRefreshRenewsWhenAddressesChange(t *testing.T) {
	c := ensure(t, t.TempDir(), t0, shop)
	for _, tc := range []struct {
		name  string
		hosts Hosts
		want  string // "" = kept
	}{
		{"an address gone", Hosts{Name: "kiosk-1", IPs: []netip.Addr{lanIP}}, ""},
		{"a new DHCP address", Hosts{Name: "kiosk-1", IPs: []netip.Addr{netip.MustParseAddr("10.0.0.7")}}, "10.0.0.7"},
		{"renamed", Hosts{Name: "till", IPs: []netip.Addr{netip.MustParseAddr("10.0.0.7")}}, "till"},
	} {
		before := c.Server().SerialNumber
		why, err := c.Refresh(t0.Add(time.Hour), tc.hosts)
		if err != nil {
			t.Fatal(err)
		}
		if tc.want == "" {
			if why != "" || c.Server().SerialNumber.Cmp(before) != 0 {
				t.Errorf("%s: re-issued (%q)", tc.name, why)
			}
			continue
		}
		if !strings.Contains(why, tc.want) || c.Server().SerialNumber.Cmp(before) == 0 {
			t.Errorf("%s: reason %q, want a re-issue naming %s", tc.name, why, tc.want)
		}
	}
}

func TestDamagedCAIsReportedNotReplaced(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(dir string)
		path   string // the file the error must name
	}{
		{"ca.crt garbage", func(dir string) { os.WriteFile(filepath.Join(dir, "ca.crt"), []byte("not a cert"), 0o644) }, "ca.crt"},
		{"ca.key truncated", func(dir string) {
			b, _ := os.ReadFile(filepath.Join(dir, "ca.key"))
			os.WriteFile(filepath.Join(dir, "ca.key"), b[:len(b)/2], 0o600)
		}, "ca.key"},
		{"ca.key missing", func(dir string) { os.Remove(filepath.Join(dir, "ca.key")) }, "ca.key"},
		{"ca.crt missing", func(dir string) { os.Remove(filepath.Join(dir, "ca.crt")) }, "ca.crt"},
		{"ca.key of another CA", func(dir string) {
			other := t.TempDir()
			ensure(t, other, t0, shop)
			b, _ := os.ReadFile(filepath.Join(other, "ca.key"))
			os.WriteFile(filepath.Join(dir, "ca.key"), b, 0o600)
		}, "ca.key"},
		{"ca.crt unreadable", func(dir string) { os.Chmod(filepath.Join(dir, "ca.crt"), 0) }, "ca.crt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "ca.crt unreadable" && os.Geteuid() == 0 {
				t.Skip("root reads a file of mode 0")
			}
			dir := t.TempDir()
			ensure(t, dir, t0, shop)
			tc.damage(dir)
			before := snapshot(dir)
			_, err := EnsureCerts(dir, t0, shop)
			if err == nil {
				t.Fatal("damaged CA accepted")
			}
			path := filepath.Join(dir, tc.path)
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "import") {
				t.Errorf("error %q should name %s and say what to do", err, path)
			}
			if after := snapshot(dir); after != before {
				t.Errorf("the CA directory changed:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
}

func TestExpiredCAIsReported(t *testing.T) {
	dir := t.TempDir()
	c := ensure(t, dir, t0, shop)
	_, err := EnsureCerts(dir, c.CA().NotAfter.Add(time.Hour), shop)
	if err == nil || !strings.Contains(err.Error(), "expired") || !strings.Contains(err.Error(), c.CAPath) {
		t.Fatalf("got %v, want the expired CA named", err)
	}
}

// snapshot is the names and contents of dir's files.
func snapshot(dir string) string {
	entries, _ := os.ReadDir(dir)
	var b strings.Builder
	for _, e := range entries {
		data, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		sum := sha256.Sum256(data)
		b.WriteString(e.Name() + "=" + hex.EncodeToString(sum[:4]) + " ")
	}
	return b.String()
}

func TestDamagedServerCertIsReissued(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(dir string)
		want   string
	}{
		{"server.crt garbage", func(dir string) { os.WriteFile(filepath.Join(dir, "server.crt"), []byte("x"), 0o644) }, "damaged"},
		{"server.key missing", func(dir string) { os.Remove(filepath.Join(dir, "server.key")) }, "server.key"},
		{"signed by another CA", func(dir string) {
			other := t.TempDir()
			ensure(t, other, t0, shop)
			for _, f := range []string{"server.crt", "server.key"} {
				b, _ := os.ReadFile(filepath.Join(other, f))
				os.WriteFile(filepath.Join(dir, f), b, 0o600)
			}
		}, "not signed by"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			c := ensure(t, dir, t0, shop)
			tc.damage(dir)
			why, err := c.Refresh(t0, shop)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(why, tc.want) {
				t.Errorf("reason %q, want %q", why, tc.want)
			}
			if _, err := c.Server().Verify(x509.VerifyOptions{Roots: caPool(t, c), DNSName: "kiosk-1", CurrentTime: t0}); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestKeyModesAreTightened(t *testing.T) {
	dir := t.TempDir()
	ensure(t, dir, t0, shop)
	for _, f := range []string{"ca.key", "server.key"} {
		os.Chmod(filepath.Join(dir, f), 0o644)
	}
	os.Chmod(dir, 0o755)
	ensure(t, dir, t0, shop)
	for name, want := range map[string]os.FileMode{".": 0o700, "ca.key": 0o600, "server.key": 0o600} {
		fi, _ := os.Stat(filepath.Join(dir, name))
		if fi.Mode().Perm() != want {
			t.Errorf("%s mode %v, want %v", name, fi.Mode().Perm(), want)
		}
	}
}

func TestFingerprint(t *testing.T) {
	c := ensure(t, t.TempDir(), t0, shop)
	got := c.Fingerprint()
	if !regexp.MustCompile(`^([0-9A-F]{2}:){31}[0-9A-F]{2}$`).MatchString(got) {
		t.Fatalf("fingerprint %q, want 32 upper-case hex pairs joined by ':'", got)
	}
	sum := sha256.Sum256(c.CA().Raw)
	if want := strings.ToUpper(hex.EncodeToString(sum[:])); strings.ReplaceAll(got, ":", "") != want {
		t.Errorf("fingerprint %s, want SHA-256 %s", got, want)
	}
}

// A renewal reaches clients on their next handshake, no restart.
func TestTLSConfigServesRenewal(t *testing.T) {
	c := ensure(t, t.TempDir(), t0, shop)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", c.TLSConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			conn.(*tls.Conn).Handshake()
			conn.Close()
		}
	}()
	pool := caPool(t, c)
	served := func() *x509.Certificate {
		conn, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", Time: func() time.Time { return t0 }})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		return conn.ConnectionState().PeerCertificates[0]
	}
	before := served()
	if _, err := c.Refresh(t0, Hosts{Name: "kiosk-1", IPs: []netip.Addr{netip.MustParseAddr("10.0.0.7")}}); err != nil {
		t.Fatal(err)
	}
	after := served()
	if after.SerialNumber.Cmp(before.SerialNumber) == 0 || after.SerialNumber.Cmp(c.Server().SerialNumber) != 0 {
		t.Error("the server still hands out the old certificate")
	}
}

func TestHostsFromInterfaces(t *testing.T) {
	cidr := func(s string) net.Addr {
		ip, n, err := net.ParseCIDR(s)
		if err != nil {
			t.Fatal(err)
		}
		n.IP = ip
		return n
	}
	h := hostsFrom("Kiosk-1", []net.Addr{
		cidr("127.0.0.1/8"), cidr("::1/128"), cidr("169.254.3.4/16"), cidr("fe80::1/64"),
		cidr("192.168.1.20/24"), cidr("2001:db8::20/64"), cidr("::ffff:10.0.0.7/104"),
		&net.UnixAddr{Name: "x"},
	})
	want := []netip.Addr{lanIP, lanIP6, netip.MustParseAddr("10.0.0.7")}
	if len(h.IPs) != len(want) {
		t.Fatalf("IPs %v, want %v", h.IPs, want)
	}
	for i := range want {
		if h.IPs[i] != want[i] {
			t.Errorf("IPs %v, want %v", h.IPs, want)
		}
	}
	names, ips := h.all()
	if strings.Join(names, " ") != "kiosk-1 kiosk-1.local localhost" {
		t.Errorf("names %v", names)
	}
	if len(ips) != 5 {
		t.Errorf("addresses %v, want the three and both loopbacks", ips)
	}
}

func TestHostNameBrowsersWouldRefuseIsLeftOut(t *testing.T) {
	c := ensure(t, t.TempDir(), t0, Hosts{Name: "my_kiosk"})
	if got := strings.Join(c.Server().DNSNames, " "); got != "localhost" {
		t.Errorf("DNS names %q, want only localhost", got)
	}
}

// Whatever the host name, the names it gives are ones a certificate can
// carry and the certificate is made.
func FuzzHostName(f *testing.F) {
	for _, s := range []string{"kiosk-1", "Kiosk.shop.lan.", "my_kiosk", "", "-x", "a..b", strings.Repeat("a", 70), "ü"} {
		f.Add(s)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: serial(), Subject: pkix.Name{CommonName: "ca"}, IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign, NotBefore: t0, NotAfter: t0.Add(time.Hour)}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	ca, _ := x509.ParseCertificate(der)
	f.Fuzz(func(t *testing.T, name string) {
		names, _ := Hosts{Name: name}.all()
		for _, n := range names {
			if !validDNSName(n) {
				t.Fatalf("%q gave DNS name %q", name, n)
			}
		}
		leaf := &x509.Certificate{SerialNumber: serial(), DNSNames: names, NotBefore: t0, NotAfter: t0.Add(time.Hour)}
		if _, err := x509.CreateCertificate(rand.Reader, leaf, ca, &key.PublicKey, key); err != nil {
			t.Fatalf("%q: %v", name, err)
		}
	})
}
