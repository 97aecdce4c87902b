package escpos

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// DefaultPort is the raw printing port of network receipt printers
// (JetDirect / "port 9100").
const DefaultPort = "9100"

// address is a parsed printer address: a host:port for tcp, or a device
// file's path.
type address struct {
	tcp    string // host:port, or ""
	device string // absolute path, or ""
}

// parseAddress reads "tcp://HOST[:PORT]" (port 9100 when left out) or an
// absolute device path such as /dev/usb/lp0.
func parseAddress(s string) (address, error) {
	in := strings.TrimSpace(s)
	bad := func(rule string) error {
		return fmt.Errorf("printer address %q %s", s, rule)
	}
	switch {
	case in == "":
		return address{}, bad("is empty: give tcp://HOST:9100 or a device path such as /dev/usb/lp0")
	case strings.HasPrefix(in, "/"):
		if filepath.Clean(in) != in {
			return address{}, bad("must be a clean absolute path such as /dev/usb/lp0")
		}
		return address{device: in}, nil
	case strings.HasPrefix(strings.ToLower(in), "tcp://"):
		u, err := url.Parse(in)
		if err != nil || u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
			return address{}, bad("must be tcp://HOST:PORT, nothing after the port")
		}
		host, port := u.Hostname(), u.Port()
		if port == "" {
			port = DefaultPort
		}
		if host == "" {
			return address{}, bad("has no host")
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != port {
			return address{}, bad("has a bad port: it must be a number from 1 to 65535")
		}
		return address{tcp: net.JoinHostPort(host, port)}, nil
	}
	return address{}, bad("must start with tcp:// (a network printer) or / (a USB printer's device file)")
}

// CheckAddress refuses what Open refuses, and a device path that names an
// existing regular file or directory (a device file that is missing is
// fine: the printer may be unplugged). config check calls it, so a save
// that would point the printer at config.toml is refused before it is kept.
func CheckAddress(s string) error {
	a, err := parseAddress(s)
	if err != nil || a.device == "" {
		return err
	}
	if fi, err := os.Stat(a.device); err == nil && !printerFile(fi.Mode()) {
		return fmt.Errorf("printer address %q is a %s, not a printer's device file (such as /dev/usb/lp0)", s, fileKind(fi.Mode()))
	}
	return nil
}
