// Package displaytest serves the browser display on a LAN server of its
// own on 127.0.0.1, behind a proxy that can cut or freeze the link as a
// shop's Wi-Fi would, and drives a real headless Chromium as a paired
// tablet: its page's own state, screenshots, the QR read back from them.
// It is for tests only.
package displaytest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	gozxingqr "github.com/makiuchi-d/gozxing/qrcode"

	"qrkiosk/internal/chromiumtest"
	"qrkiosk/internal/lan"
	"qrkiosk/internal/webdisplay"
)

// Kiosk is a LAN server with the displays' routes, as the kiosk's would
// be, reached through Link.
type Kiosk struct {
	Server *lan.Server
	Certs  *lan.Certs
	Addr   string // the server's own address
	Link   *Proxy // what the tablets connect to
}

// URL is the display page's address as a tablet reaches it.
func (k *Kiosk) URL() string { return "https://" + k.Link.Addr() + "/display/" }

// Options are the LAN server's: zero values take lan's defaults.
type Options struct {
	Log *slog.Logger
	// Now is the clock of the server's rate limits (nil: time.Now).
	Now func() time.Time
	// Certs are the server's (nil: a new CA and certificate); a kiosk
	// restarted keeps its own.
	Certs *lan.Certs
}

// Serve starts a LAN server on 127.0.0.1 with d's routes, and the proxy
// in front of it; both stop when the test ends.
func Serve(t testing.TB, d *webdisplay.Displays, o Options) *Kiosk {
	t.Helper()
	certs := o.Certs
	if certs == nil {
		var err error
		if certs, err = lan.EnsureCerts(t.TempDir(), time.Now(), lan.Hosts{Name: "kiosk-test"}); err != nil {
			t.Fatal(err)
		}
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	s := lan.New(lan.Config{TLS: certs.TLSConfig(), Now: o.Now}, o.Log)
	d.Mount(s)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()
	k := &Kiosk{Server: s, Certs: certs, Addr: ln.Addr().String()}
	k.Link = NewProxy(t, k.Addr)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		k.Stop(ctx)
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	})
	return k
}

// Stop shuts the server down (the kiosk quits); the proxy stays.
func (k *Kiosk) Stop(ctx context.Context) { k.Server.Shutdown(ctx) }

// Tablet is a headless Chromium page showing the display.
type Tablet struct {
	t       testing.TB
	Browser *chromiumtest.Browser
	Page    *chromiumtest.Page
}

// Sizes are the tablets the display must fit: CSS pixels, and the device
// pixels each has per CSS pixel.
var Sizes = []chromiumtest.Viewport{
	{Width: 768, Height: 1024, Scale: 2, Mobile: true},   // iPad, upright
	{Width: 800, Height: 1280, Scale: 1.5, Mobile: true}, // 10" Android, upright
	{Width: 1280, Height: 800, Scale: 1.5, Mobile: true}, // the same, on its side
	{Width: 1920, Height: 1200, Scale: 1, Mobile: false}, // a large display
}

// NewTablet starts Chromium trusting the kiosk's CA (as README tells a
// tablet to) and opens the display page at size v.
func NewTablet(t testing.TB, k *Kiosk, v chromiumtest.Viewport) *Tablet {
	t.Helper()
	b := chromiumtest.Start(t, chromiumtest.Options{TrustCAs: []string{k.Certs.CAPath}})
	tab := &Tablet{t: t, Browser: b, Page: b.NewPage()}
	if err := tab.Page.SetViewport(v); err != nil {
		t.Fatal(err)
	}
	if err := tab.Page.Navigate(k.URL()); err != nil {
		t.Fatal(err)
	}
	return tab
}

// State is the page's own account of what it shows (window.qrkiosk).
type State struct {
	Link          string   `json:"link"`
	Seq           uint64   `json:"seq"`
	Page          string   `json:"page"`
	Order         string   `json:"order"`
	QR            bool     `json:"qr"`
	QRDraws       int      `json:"qrDraws"`
	Receipt       bool     `json:"receipt"` // the e-receipt's QR is drawn
	LastMessageAt float64  `json:"lastMessageAt"`
	QRHiddenAt    float64  `json:"qrHiddenAt"`
	QRHiddenFor   string   `json:"qrHiddenFor"`
	Cues          []string `json:"cues"`
}

// State reads the page's state.
func (tab *Tablet) State() State {
	tab.t.Helper()
	var s State
	if err := tab.Page.Eval("window.qrkiosk", &s); err != nil {
		tab.t.Fatal(err)
	}
	return s
}

// Wait waits until the page's state satisfies cond, or fails the test
// after 20 s (a bound for a stuck page, not a timing requirement).
func (tab *Tablet) Wait(what string, cond func(State) bool) State {
	tab.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		s := tab.State()
		if cond(s) {
			return s
		}
		if time.Now().After(deadline) {
			tab.t.Fatalf("%s: not within 20 s; the page's state is %+v\nconsole: %q", what, s, tab.Page.Console())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Pair types code into the pairing form as the shop's staff would, and
// waits until the display shows the kiosk's view.
func (tab *Tablet) Pair(code string) {
	tab.t.Helper()
	tab.Wait("the pairing form", func(s State) bool { return s.Link == "pairing" })
	js := fmt.Sprintf(`document.getElementById("code").value = %q; document.getElementById("pairbutton").click()`, code)
	if err := tab.Page.Eval(js, nil); err != nil {
		tab.t.Fatal(err)
	}
	tab.Wait("the display live after pairing", func(s State) bool { return s.Link == "live" })
}

// Text is the visible text of the page.
func (tab *Tablet) Text() string {
	tab.t.Helper()
	var s string
	if err := tab.Page.Eval("document.body.innerText", &s); err != nil {
		tab.t.Fatal(err)
	}
	return s
}

// Screenshot is the page as the tablet's screen shows it, in device pixels.
func (tab *Tablet) Screenshot() image.Image {
	tab.t.Helper()
	b, err := tab.Page.Screenshot()
	if err != nil {
		tab.t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		tab.t.Fatal(err)
	}
	return img
}

// DecodeQR reads a QR code from img as a phone would; "" when there is
// none to read.
func DecodeQR(img image.Image) string {
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		return ""
	}
	res, err := gozxingqr.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true})
	if err != nil {
		return ""
	}
	return res.GetText()
}

// Eval runs a JavaScript expression in the page and decodes its value.
func (tab *Tablet) Eval(js string, out any) {
	tab.t.Helper()
	if err := tab.Page.Eval(js, out); err != nil {
		tab.t.Fatalf("%s: %v", strings.SplitN(js, "\n", 2)[0], err)
	}
}

// Texts are the page's visible texts with their computed size and colour.
type Texts []struct {
	Text  string  `json:"text"`
	Size  float64 `json:"size"`
	Color string  `json:"color"`
	Bg    string  `json:"bg"`
	// Clipped: wider than the box it is in.
	Clipped bool `json:"clipped"`
}

// VisibleTexts lists every element that shows text of its own.
func (tab *Tablet) VisibleTexts() Texts {
	tab.t.Helper()
	var out Texts
	tab.Eval(visibleTextsJS, &out)
	return out
}

const visibleTextsJS = `(() => {
  const out = [];
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walk.nextNode(); n; n = walk.nextNode()) {
    const el = n.parentElement;
    const text = n.textContent.trim();
    if (!text || el.closest('[hidden]') || el.closest('script')) continue;
    const st = getComputedStyle(el);
    if (st.visibility !== 'visible' || st.display === 'none') continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    let bg = 'rgb(255, 255, 255)';
    for (let p = el; p; p = p.parentElement) {
      const b = getComputedStyle(p).backgroundColor;
      if (b && b !== 'rgba(0, 0, 0, 0)' && b !== 'transparent') { bg = b; break; }
    }
    const box = el.closest('.page, #banner, #reconnect, #pair') || document.body;
    const br = box.getBoundingClientRect();
    out.push({text, size: parseFloat(st.fontSize), color: st.color, bg,
      clipped: el.scrollWidth > el.clientWidth + 1 || r.left < br.left - 1 || r.right > br.right + 1});
  }
  return out;
})()`

// MarshalJSON keeps Texts printable in failures.
func (ts Texts) String() string {
	b, _ := json.MarshalIndent(ts, "", " ")
	return string(b)
}
