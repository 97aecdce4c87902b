package chromiumtest_test

import (
	"bytes"
	"fmt"
	"image/png"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"qrkiosk/internal/chromiumtest"
	"qrkiosk/internal/lan"
)

func TestEval(t *testing.T) {
	p := chromiumtest.Start(t, chromiumtest.Options{}).NewPage()
	var n int
	if err := p.Eval("new Promise(r => setTimeout(() => r(6 * 7), 10))", &n); err != nil || n != 42 {
		t.Errorf("a promise: %d, %v", n, err)
	}
	var obj struct{ A []string }
	if err := p.Eval(`({A: ["x", "y"]})`, &obj); err != nil || strings.Join(obj.A, "") != "xy" {
		t.Errorf("an object: %+v, %v", obj, err)
	}
	if err := p.Eval(`Promise.reject(new Error("no paper"))`, nil); err == nil || !strings.Contains(err.Error(), "no paper") {
		t.Errorf("a rejected promise: %v", err)
	}
	p.Eval(`console.log("printed", 7)`, nil)
	if c := strings.Join(p.Console(), "\n"); !strings.Contains(c, "log: printed 7") {
		t.Errorf("console %q", c)
	}
}

// A phone-size page at 3 device pixels per CSS pixel is captured at its
// device size.
func TestScreenshotAtViewportAndScale(t *testing.T) {
	p := chromiumtest.Start(t, chromiumtest.Options{}).NewPage()
	if err := p.SetViewport(chromiumtest.Viewport{Width: 360, Height: 640, Scale: 3, Mobile: true}); err != nil {
		t.Fatal(err)
	}
	page := `<!doctype html><meta name=viewport content="width=device-width"><body style="margin:0;background:#f00"><div style="height:50vh;background:#00f"></div>`
	if err := p.Navigate("data:text/html," + url.PathEscape(page)); err != nil {
		t.Fatal(err)
	}
	var size struct{ W, H, Ratio float64 }
	if err := p.Eval(`({W: innerWidth, H: innerHeight, Ratio: devicePixelRatio})`, &size); err != nil || size.W != 360 || size.H != 640 || size.Ratio != 3 {
		t.Errorf("the page sees %+v, %v", size, err)
	}
	shot, err := p.Screenshot()
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 1080 || b.Dy() != 1920 {
		t.Fatalf("screenshot %v, want 1080×1920", b)
	}
	for _, pt := range []struct {
		x, y    int
		r, g, b uint32
	}{{540, 400, 0, 0, 0xffff}, {540, 1500, 0xffff, 0, 0}} {
		r, g, b, _ := img.At(pt.x, pt.y).RGBA()
		if r != pt.r || g != pt.g || b != pt.b {
			t.Errorf("pixel (%d,%d) = %x %x %x, want %x %x %x", pt.x, pt.y, r, g, b, pt.r, pt.g, pt.b)
		}
	}
}

func TestOffline(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "<!doctype html>ok")
	}))
	defer srv.Close()
	p := chromiumtest.Start(t, chromiumtest.Options{}).NewPage()
	if err := p.Navigate(srv.URL); err != nil {
		t.Fatal(err)
	}
	fetch := `fetch("/ping", {cache: "no-store"}).then(r => r.text())`
	if err := p.Eval(fetch, nil); err != nil {
		t.Fatalf("online: %v", err)
	}
	if err := p.SetOffline(true); err != nil {
		t.Fatal(err)
	}
	var online bool
	if err := p.Eval("navigator.onLine", &online); err != nil || online {
		t.Errorf("navigator.onLine %v, %v", online, err)
	}
	if err := p.Eval(fetch, nil); err == nil {
		t.Fatal("a fetch succeeded offline")
	}
	if f := p.NetworkFailures(); len(f) == 0 || f[len(f)-1].Error != "net::ERR_INTERNET_DISCONNECTED" {
		t.Errorf("failures %+v", f)
	}
	p.SetOffline(false)
	if err := p.Eval(fetch, nil); err != nil {
		t.Errorf("back online: %v", err)
	}
}

// The browser trusts a CA only through the NSS database, as a POS machine
// does after README's certutil step: no certificate errors are ignored.
func TestTrustsCAThroughNSS(t *testing.T) {
	certs, err := lan.EnsureCerts(t.TempDir(), time.Now(), lan.Hosts{Name: "kiosk"})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{TLSConfig: certs.TLSConfig(), ErrorLog: nil, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "<!doctype html><title>kiosk</title>")
	})}
	go srv.ServeTLS(ln, "", "")
	defer srv.Close()
	kiosk := "https://" + ln.Addr().String() + "/"

	if err := chromiumtest.Start(t, chromiumtest.Options{}).NewPage().Navigate(kiosk); err == nil || !strings.Contains(err.Error(), "ERR_CERT_AUTHORITY_INVALID") {
		t.Errorf("without the CA imported: %v", err)
	}
	p := chromiumtest.Start(t, chromiumtest.Options{TrustCAs: []string{certs.CAPath}}).NewPage()
	if err := p.Navigate(kiosk); err != nil {
		t.Fatal(err)
	}
	var title string
	if err := p.Eval("document.title", &title); err != nil || title != "kiosk" {
		t.Errorf("title %q, %v", title, err)
	}
}

// No Chromium process outlives its test.
func TestCleanupKillsEveryProcess(t *testing.T) {
	var home string
	t.Run("browser", func(t *testing.T) {
		b := chromiumtest.Start(t, chromiumtest.Options{})
		b.NewPage()
		home = b.Home
		if n := len(processesUsing(home)); n < 2 {
			t.Fatalf("%d processes found using %s; the check would see nothing", n, home)
		}
	})
	if left := processesUsing(home); len(left) > 0 {
		t.Errorf("left running: %v", left)
	}
}

// processesUsing lists the processes whose command line mentions dir.
func processesUsing(dir string) []string {
	var found []string
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, f := range procs {
		b, err := os.ReadFile(f)
		if err == nil && bytes.Contains(b, []byte(dir)) {
			found = append(found, fmt.Sprintf("%s: %.80s", filepath.Base(filepath.Dir(f)), bytes.ReplaceAll(b, []byte{0}, []byte{' '})))
		}
	}
	return found
}
