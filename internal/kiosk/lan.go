package kiosk

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"qrkiosk/internal/lan"
)

// LANServer is the kiosk's one HTTPS server for devices on the shop's LAN:
// the POS's ECR calls, the owner's setup page and the customer displays
// each register their routes on it (Handle). It listens on [ecr] listen
// (default 0.0.0.0:9001) with the kiosk's own CA and server certificate,
// kept in <data dir>/lan/.
type LANServer struct {
	srv   *lan.Server
	certs *lan.Certs
	ln    net.Listener
	url   string
	err   error
}

// certRefresh is how often the server certificate is checked: renewed 30
// days before it expires, and when the machine's addresses changed.
const certRefresh = 12 * time.Hour

// LAN starts the kiosk's LAN server on first use and returns it; it then
// runs until Close. A job calls it only when it needs the server (the POS
// endpoint on, the setup page asked for, a display paired). When the server
// cannot start (the port is taken, the certificate directory cannot be
// written), Err says why and Handle does nothing.
func (k *Kiosk) LAN() *LANServer {
	k.lanOnce.Do(func() { k.lan = k.startLAN() })
	return k.lan
}

// LANDir is where the kiosk's CA and server certificate are kept: the data
// directory's lan/, the same in demo mode (a POS imports the CA once).
func (s Settings) LANDir() string { return filepath.Join(s.RootDir, "lan") }

func (k *Kiosk) startLAN() *LANServer {
	l := &LANServer{}
	hosts, err := lan.MachineHosts()
	if err != nil {
		k.log.Warn("lan: cannot list this machine's addresses; the certificate names localhost only", "err", err)
	}
	if l.certs, err = lan.EnsureCerts(k.LANDir(), time.Now(), hosts); err != nil {
		l.err = err
		k.log.Error("lan server not started", "err", err)
		return l
	}
	addr := k.Config.ECR.ListenAddr()
	if l.ln, err = net.Listen("tcp", addr); err != nil {
		l.err = fmt.Errorf("lan server on %s: %w (another program uses the port? set [ecr] listen)", addr, err)
		k.log.Error("lan server not started", "err", l.err)
		return l
	}
	l.url = lanURL(l.ln.Addr().(*net.TCPAddr))
	l.srv = lan.New(lan.Config{TLS: l.certs.TLSConfig()}, k.log)
	go func() {
		if err := l.srv.Serve(l.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			k.log.Error("lan server", "err", err)
		}
	}()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		l.refreshCerts(ctx, k)
	}()
	k.closers = append(k.closers, func() {
		cancel()
		wg.Wait()
		sctx, stop := context.WithTimeout(context.Background(), 5*time.Second)
		defer stop()
		l.srv.Shutdown(sctx)
	})
	k.log.Info("lan server", "url", l.url, "listen", addr, "ca", l.certs.CAPath, "ca_sha256", l.certs.Fingerprint())
	return l
}

// refreshCerts renews the server certificate while the server runs.
func (l *LANServer) refreshCerts(ctx context.Context, k *Kiosk) {
	t := time.NewTicker(certRefresh)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		hosts, err := lan.MachineHosts()
		if err != nil {
			continue
		}
		if why, err := l.certs.Refresh(time.Now(), hosts); err != nil {
			k.log.Error("lan: renewing the server certificate", "err", err)
		} else if why != "" {
			k.log.Info("lan: server certificate renewed", "why", why)
		}
	}
}

// lanURL is how devices on the LAN reach a listener: its own address, or
// the machine's LAN address when it listens on every interface.
func lanURL(a *net.TCPAddr) string {
	host := a.IP.String()
	if a.IP.IsUnspecified() {
		host = lanIPv4()
	}
	return "https://" + net.JoinHostPort(host, strconv.Itoa(a.Port))
}

// Handle serves pattern with h under route's limits (lan.Server.Handle).
func (l *LANServer) Handle(pattern string, h http.Handler, route lan.Route) {
	if l.srv != nil {
		l.srv.Handle(pattern, h, route)
	}
}

// Err is why the server is not running (nil: it is).
func (l *LANServer) Err() error { return l.err }

// URL is https://<LAN address>:<port>, as a device on the LAN reaches it;
// "" when the server is not running.
func (l *LANServer) URL() string { return l.url }

// CAPath is the CA certificate a POS or a phone imports; "" when the
// certificates could not be made.
func (l *LANServer) CAPath() string {
	if l.certs == nil {
		return ""
	}
	return l.certs.CAPath
}

// Fingerprint is the CA's SHA-256 fingerprint (AA:BB:…), to compare with
// what the POS imported; "" without certificates.
func (l *LANServer) Fingerprint() string {
	if l.certs == nil {
		return ""
	}
	return l.certs.Fingerprint()
}
