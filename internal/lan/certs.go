package lan

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// The files in the certificate directory. ca.crt is what a POS imports.
const (
	CAFile         = "ca.crt"
	caKeyFile      = "ca.key"
	serverFile     = "server.crt"
	serverKeyFile  = "server.key"
	caLifetime     = 10 * 365 * 24 * time.Hour
	ServerLifetime = 397 * 24 * time.Hour // browsers refuse longer-lived server certificates
	RenewBefore    = 30 * 24 * time.Hour
	// backdate covers a kiosk whose clock is a little behind the POS's.
	backdate = time.Hour
)

// Certs is the kiosk's own CA and the server certificate it signed. It is
// safe for concurrent use: Refresh may swap the server certificate while
// the server hands it out.
type Certs struct {
	Dir    string
	CAPath string // ca.crt, the file a POS or phone imports

	ca    *x509.Certificate
	caKey *ecdsa.PrivateKey

	mu     sync.RWMutex
	server *tls.Certificate
}

// EnsureCerts loads the certificates in dir (the data directory's lan/),
// making the CA on first use, and issues a server certificate for hosts
// when there is none, it expires within RenewBefore or does not name all
// of hosts. A damaged CA file is an error naming the file: it is never
// replaced, since the POS machines trust it.
func EnsureCerts(dir string, now time.Time, hosts Hosts) (*Certs, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("lan certificates: %w", err)
	}
	// The directory holds private keys: it is ours, so tighten it.
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("lan certificates: %w", err)
	}
	c := &Certs{Dir: dir, CAPath: filepath.Join(dir, CAFile)}
	if err := c.loadOrMakeCA(now, hosts.Name); err != nil {
		return nil, err
	}
	if _, err := c.Refresh(now, hosts); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Certs) loadOrMakeCA(now time.Time, hostname string) error {
	certPath, keyPath := c.CAPath, filepath.Join(c.Dir, caKeyFile)
	_, certErr := os.Stat(certPath)
	_, keyErr := os.Stat(keyPath)
	switch {
	case errors.Is(certErr, fs.ErrNotExist) && errors.Is(keyErr, fs.ErrNotExist):
		return c.makeCA(now, hostname)
	case errors.Is(certErr, fs.ErrNotExist):
		return fmt.Errorf("lan certificates: %s is missing beside %s: restore it from a backup, or delete both files to make a new CA (then import the new %s on every POS and phone)", certPath, keyPath, CAFile)
	case errors.Is(keyErr, fs.ErrNotExist):
		return fmt.Errorf("lan certificates: %s is missing beside %s: restore it from a backup, or delete %s to make a new CA (then import the new one on every POS and phone)", keyPath, certPath, certPath)
	}
	damaged := func(path string, err error) error {
		return fmt.Errorf("lan certificates: %s is damaged (%v). The POS machines trust this CA: restore the file from a backup, or delete %s and %s to make a new CA and import the new %s on every POS and phone", path, err, certPath, keyPath, CAFile)
	}
	ca, err := readCert(certPath)
	if err != nil {
		return damaged(certPath, err)
	}
	key, err := readKey(keyPath)
	if err != nil {
		return damaged(keyPath, err)
	}
	if !ca.IsCA || !key.PublicKey.Equal(ca.PublicKey) {
		return damaged(keyPath, errors.New("the key is not the CA certificate's"))
	}
	if now.After(ca.NotAfter) {
		return fmt.Errorf("lan certificates: the CA %s expired on %s: delete %s and %s to make a new one, then import the new %s on every POS and phone", certPath, ca.NotAfter.Format(time.DateOnly), certPath, keyPath, CAFile)
	}
	if err := tighten(keyPath); err != nil {
		return err
	}
	c.ca, c.caKey = ca, key
	return nil
}

func (c *Certs) makeCA(now time.Time, hostname string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("lan certificates: %w", err)
	}
	name := "qrkiosk LAN CA"
	if hostname != "" {
		name += " (" + hostname + ")"
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: name, Organization: []string{"qrkiosk"}},
		NotBefore:             now.Add(-backdate),
		NotAfter:              now.Add(caLifetime),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return fmt.Errorf("lan certificates: %w", err)
	}
	ca, err := x509.ParseCertificate(der)
	if err != nil {
		return fmt.Errorf("lan certificates: %w", err)
	}
	keyPEM, err := keyPEM(key)
	if err != nil {
		return err
	}
	// The key first: a ca.crt on disk means the CA is complete.
	if err := writeFile(filepath.Join(c.Dir, caKeyFile), keyPEM, 0o600); err != nil {
		return err
	}
	if err := writeFile(c.CAPath, certPEM(der), 0o644); err != nil {
		return err
	}
	c.ca, c.caKey = ca, key
	return nil
}

// Refresh issues a new server certificate (signed by the same CA, so no
// POS re-imports anything) when the one on disk is missing, damaged, not
// the CA's, expires within RenewBefore, or does not name every address
// and name of hosts. It returns why it issued one ("" when it did not),
// for the log. The kiosk calls it when it starts and then periodically.
func (c *Certs) Refresh(now time.Time, hosts Hosts) (reason string, err error) {
	certPath, keyPath := filepath.Join(c.Dir, serverFile), filepath.Join(c.Dir, serverKeyFile)
	pair, why := c.loadServer(certPath, keyPath, now, hosts)
	if why == "" {
		if err := tighten(keyPath); err != nil {
			return "", err
		}
		c.setServer(pair)
		return "", nil
	}
	pair, err = c.issueServer(now, hosts)
	if err != nil {
		return "", err
	}
	c.setServer(pair)
	return why, nil
}

// loadServer is the server pair on disk, or why it needs re-issuing.
func (c *Certs) loadServer(certPath, keyPath string, now time.Time, hosts Hosts) (*tls.Certificate, string) {
	certPEM, err := os.ReadFile(certPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, "no server certificate yet"
	}
	if err != nil {
		return nil, fmt.Sprintf("%s unreadable: %v", certPath, err)
	}
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, fmt.Sprintf("%s unreadable: %v", keyPath, err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Sprintf("%s or %s damaged: %v", certPath, keyPath, err)
	}
	leaf := pair.Leaf
	if err := leaf.CheckSignatureFrom(c.ca); err != nil {
		return nil, "the server certificate is not signed by " + c.CAPath
	}
	switch {
	case now.Before(leaf.NotBefore):
		return nil, "the server certificate is not valid until " + leaf.NotBefore.Format(time.RFC3339)
	case !now.Before(leaf.NotAfter.Add(-RenewBefore)):
		return nil, "the server certificate expires on " + leaf.NotAfter.Format(time.DateOnly)
	}
	if missing := uncovered(leaf, hosts); missing != "" {
		return nil, "the server certificate does not name " + missing
	}
	return &pair, ""
}

func (c *Certs) issueServer(now time.Time, hosts Hosts) (*tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("lan certificates: %w", err)
	}
	names, ips := hosts.all()
	cn := hosts.Name
	if cn == "" {
		cn = "localhost"
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: cn, Organization: []string{"qrkiosk"}},
		NotBefore:    now.Add(-backdate),
		NotAfter:     now.Add(-backdate).Add(ServerLifetime),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     names,
	}
	for _, ip := range ips {
		tmpl.IPAddresses = append(tmpl.IPAddresses, ip.AsSlice())
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.ca, &key.PublicKey, c.caKey)
	if err != nil {
		return nil, fmt.Errorf("lan certificates: %w", err)
	}
	kp, err := keyPEM(key)
	if err != nil {
		return nil, err
	}
	cp := certPEM(der)
	// The key first: a crash between the two leaves a mismatched pair,
	// which the next start re-issues.
	if err := writeFile(filepath.Join(c.Dir, serverKeyFile), kp, 0o600); err != nil {
		return nil, err
	}
	if err := writeFile(filepath.Join(c.Dir, serverFile), cp, 0o644); err != nil {
		return nil, err
	}
	pair, err := tls.X509KeyPair(cp, kp)
	if err != nil {
		return nil, fmt.Errorf("lan certificates: %w", err)
	}
	return &pair, nil
}

func (c *Certs) setServer(p *tls.Certificate) {
	c.mu.Lock()
	c.server = p
	c.mu.Unlock()
}

// Server is the server certificate currently handed out.
func (c *Certs) Server() *x509.Certificate {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.server.Leaf
}

// CA is the kiosk's CA certificate.
func (c *Certs) CA() *x509.Certificate { return c.ca }

// Fingerprint is the SHA-256 of the CA certificate, as upper-case hex
// pairs joined by ':' — what browsers and certutil show, so the cashier
// can compare it with what a POS imported.
func (c *Certs) Fingerprint() string { return Fingerprint(c.ca) }

// Fingerprint is the SHA-256 of cert's DER in upper-case hex pairs joined
// by ':'.
func Fingerprint(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.Raw)
	var b strings.Builder
	for i, x := range sum {
		if i > 0 {
			b.WriteByte(':')
		}
		fmt.Fprintf(&b, "%02X", x)
	}
	return b.String()
}

// TLSConfig serves the current server certificate, so a Refresh takes
// effect on the next handshake without a restart.
func (c *Certs) TLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			c.mu.RLock()
			defer c.mu.RUnlock()
			return c.server, nil
		},
	}
}

// uncovered is the first of hosts' names and addresses the certificate
// does not name, or "".
func uncovered(leaf *x509.Certificate, hosts Hosts) string {
	names, ips := hosts.all()
	for _, n := range names {
		if !containsFold(leaf.DNSNames, n) {
			return n
		}
	}
	for _, ip := range ips {
		found := false
		for _, have := range leaf.IPAddresses {
			if a, ok := netip.AddrFromSlice(have); ok && a.Unmap() == ip {
				found = true
				break
			}
		}
		if !found {
			return ip.String()
		}
	}
	return ""
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

func readCert(path string) (*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("no PEM certificate in it")
	}
	return x509.ParseCertificate(block.Bytes)
}

func readKey(path string) (*ecdsa.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, errors.New("no PEM private key in it")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, err
	}
	ec, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("a %T key, not ECDSA", k)
	}
	return ec, nil
}

func certPEM(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func keyPEM(k *ecdsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, fmt.Errorf("lan certificates: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return n
}

// writeFile replaces path atomically (a temp file renamed over it), so a
// crash leaves the old file or the new one, never half of one.
func writeFile(path string, data []byte, mode os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return fmt.Errorf("lan certificates: %w", err)
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(mode); err == nil {
		if _, err = f.Write(data); err == nil {
			err = f.Sync()
		}
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("lan certificates: writing %s: %w", path, err)
	}
	return nil
}

// tighten makes a private key file readable by its owner only, should a
// copy or a restore from backup have widened it.
func tighten(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("lan certificates: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(path, 0o600); err != nil {
			return fmt.Errorf("lan certificates: %w", err)
		}
	}
	return nil
}
