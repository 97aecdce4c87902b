package kiosk

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"qrkiosk/internal/lan"
)

// The kiosk's LAN server starts on first use, on [ecr] listen, with its CA
// in the data directory's lan/ (not demo/: a POS imports it once); a route
// registered through it answers over HTTPS to a client that trusts that CA
// alone, as a POS does.
func TestLANServer(t *testing.T) {
	data := t.TempDir()
	k, err := Open(Options{DataDir: data, Getenv: env(t, "[ecr]\nlisten = \"127.0.0.1:0\"\n"), DemoIfUnconfigured: true, DemoHost: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	l := k.LAN()
	if l != k.LAN() || l.Err() != nil {
		t.Fatalf("LAN() twice: %p %p, %v", l, k.LAN(), l.Err())
	}
	if want := filepath.Join(data, "lan", lan.CAFile); l.CAPath() != want {
		t.Fatalf("CA %s; want %s", l.CAPath(), want)
	}
	if !strings.HasPrefix(l.URL(), "https://127.0.0.1:") || len(l.Fingerprint()) != 95 {
		t.Fatalf("URL %s fingerprint %s", l.URL(), l.Fingerprint())
	}
	l.Handle("GET /hello", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hi") }), lan.Route{})
	pem, err := os.ReadFile(l.CAPath())
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := c.Get(l.URL() + "/hello")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "hi" {
		t.Fatalf("answer %q", body)
	}
}

// A port another program holds: the kiosk runs on, the server says why it
// is not there, and routes registered meanwhile go nowhere.
func TestLANServerPortTaken(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	k, err := Open(Options{DataDir: t.TempDir(), Getenv: env(t, "[ecr]\nlisten = \""+taken.Addr().String()+"\"\n"), DemoIfUnconfigured: true, DemoHost: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	l := k.LAN()
	if l.Err() == nil || !strings.Contains(l.Err().Error(), taken.Addr().String()) || l.URL() != "" {
		t.Fatalf("err %v url %q", l.Err(), l.URL())
	}
	l.Handle("GET /x", http.NotFoundHandler(), lan.Route{})
}
