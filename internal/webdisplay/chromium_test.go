package webdisplay_test

import (
	"context"
	"fmt"
	"image/color"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"qrkiosk/internal/chromiumtest"
	"qrkiosk/internal/golden"
	"qrkiosk/internal/webdisplay"
	"qrkiosk/internal/webdisplay/displaytest"
	"qrkiosk/payment"
	"qrkiosk/payment/qfpay"
)

var tablet = chromiumtest.Viewport{Width: 1280, Height: 800, Scale: 1.5, Mobile: true}

// TestTabletShowsTheKiosksQR: a real Chromium paired as a tablet shows the
// kiosk's QR, which a phone reads as the order's, in the wallet's language
// order, then "Paid" with its sound.
func TestTabletShowsTheKiosksQR(t *testing.T) {
	d := open(t, t.TempDir(), webdisplay.Config{})
	_, tab := pairedTablet(t, d, tablet)
	if s := tab.State(); s.Page != "idle" {
		t.Errorf("after pairing the display shows %q, want the welcome", s.Page)
	}
	snap := order(t, "wechat")
	d.Show(snap)
	tab.Wait("the QR", func(s displaytest.State) bool { return s.QR })
	if got := displaytest.DecodeQR(tab.Screenshot()); got != snap.QRCode {
		t.Fatalf("the tablet's QR reads %q, want the order's %q", got, snap.QRCode)
	}
	var title []string
	tab.Eval(`[...document.querySelectorAll("#a-title .line")].map(e => e.lang + " " + e.textContent)`, &title)
	if strings.Join(title, "|") != "zh-Hans 请扫码付款|en Scan to pay|zh-Hant 請掃碼付款" {
		t.Errorf("WeChat Pay: title %q, want Simplified Chinese first", title)
	}

	snap.State = payment.StatePaid
	d.Show(snap)
	d.Cue("paid")
	s := tab.Wait("paid", func(s displaytest.State) bool { return s.Page == "result" && len(s.Cues) > 0 })
	if s.QR || !strings.Contains(tab.Text(), "Paid — thank you") || s.Cues[0] != "paid" {
		t.Errorf("paid: %+v, text %q", s, tab.Text())
	}
	if got := displaytest.DecodeQR(tab.Screenshot()); got != "" {
		t.Errorf("a QR is still readable after the payment: %q", got)
	}
	for _, line := range tab.Page.Console() {
		if strings.HasPrefix(line, "error") || strings.HasPrefix(line, "exception") {
			t.Errorf("the page's console: %s", line)
		}
	}
}

// TestLostLinkHidesTheQR: when the link goes quiet (Wi-Fi gone), is cut,
// or the tablet goes offline, the QR is gone within 2 s by the page's own
// clock and the page says it is reconnecting; back on line it shows the
// kiosk's current state, never the QR it lost.
func TestLostLinkHidesTheQR(t *testing.T) {
	for _, how := range []string{"frozen", "cut", "offline"} {
		t.Run(how, func(t *testing.T) {
			d := open(t, t.TempDir(), webdisplay.Config{})
			k, tab := pairedTablet(t, d, tablet)
			snap := order(t, "alipayhk")
			d.Show(snap)
			tab.Wait("the QR", func(s displaytest.State) bool { return s.QR })

			switch how {
			case "frozen":
				k.Link.Freeze()
			case "cut":
				k.Link.Freeze() // no reconnecting until the test says
				k.Link.Cut()
			case "offline":
				if err := tab.Page.SetOffline(true); err != nil {
					t.Fatal(err)
				}
			}
			s := tab.Wait("the QR taken away", func(s displaytest.State) bool { return !s.QR })
			if gone := s.QRHiddenAt - s.LastMessageAt; gone > 2000 {
				t.Errorf("the QR stayed %.0f ms after the kiosk's last word (%s), want within 2000", gone, s.QRHiddenFor)
			}
			t.Logf("%s: the QR went %.0f ms after the last message (%s)", how, s.QRHiddenAt-s.LastMessageAt, s.QRHiddenFor)
			img := tab.Screenshot()
			shot(t, "lost_"+how, img)
			if got := displaytest.DecodeQR(img); got != "" {
				t.Errorf("a QR is readable with the link lost: %q", got)
			}
			if text := tab.Text(); !strings.Contains(text, "Reconnecting…") || !strings.Contains(text, "重新連線中⋯") || !strings.Contains(text, "重新连接中⋯") {
				t.Errorf("the page says %q", text)
			}

			// Meanwhile the customer paid.
			draws := tab.State().QRDraws
			snap.State = payment.StatePaid
			d.Show(snap)
			switch how {
			case "offline":
				tab.Page.SetOffline(false)
			default:
				k.Link.Thaw()
			}
			s = tab.Wait("the current state after reconnecting", func(s displaytest.State) bool { return s.Link == "live" && s.Page == "result" })
			if s.QRDraws != draws || s.QR {
				t.Error("the lost QR came back after reconnecting")
			}
			if !strings.Contains(tab.Text(), "Paid — thank you") {
				t.Errorf("after reconnecting: %q", tab.Text())
			}
		})
	}
}

// A tablet that is put to sleep (the page hidden) drops its QR at once,
// and on waking draws one only after the kiosk's next word: its clocks
// may not have counted the time asleep.
func TestSleepingTabletDropsTheQR(t *testing.T) {
	d := open(t, t.TempDir(), webdisplay.Config{})
	k, tab := pairedTablet(t, d, tablet)
	d.Show(order(t, "alipayhk"))
	tab.Wait("the QR", func(s displaytest.State) bool { return s.QR })
	setHidden := func(hidden bool) {
		t.Helper()
		js := fmt.Sprintf(`Object.defineProperty(document, 'hidden', {value: %v, configurable: true});
			document.dispatchEvent(new Event('visibilitychange')); true`, hidden)
		var ok bool
		if err := tab.Page.Eval(js, &ok); err != nil {
			t.Fatal(err)
		}
	}
	k.Link.Freeze() // the kiosk says nothing while the tablet sleeps and wakes
	setHidden(true)
	if s := tab.State(); s.QR || s.QRHiddenFor != "asleep" {
		t.Fatalf("asleep: QR %v (hidden for %q)", s.QR, s.QRHiddenFor)
	}
	draws := tab.State().QRDraws
	setHidden(false)
	if s := tab.State(); s.QR || s.QRDraws != draws {
		t.Fatalf("a QR came back on waking before the kiosk said anything (draws %d → %d)", draws, s.QRDraws)
	}
	if got := displaytest.DecodeQR(tab.Screenshot()); got != "" {
		t.Fatalf("a QR is readable on waking: %q", got)
	}
	k.Link.Thaw()
	tab.Wait("the QR after the kiosk's next word", func(s displaytest.State) bool { return s.QR && s.Link == "live" })
}

// TestNoQRPastTheKiosksDeadline: the countdown is the kiosk's, whatever the
// tablet's clock says, and a QR whose time is up on the kiosk's clock is
// taken away.
func TestNoQRPastTheKiosksDeadline(t *testing.T) {
	var mu sync.Mutex
	kioskNow := time.Now()
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return kioskNow }
	d := open(t, t.TempDir(), webdisplay.Config{Now: now})
	k := displaytest.Serve(t, d, displaytest.Options{})
	tab := displaytest.NewTablet(t, k, tablet)
	// The tablet's clock is two hours fast.
	if err := tab.Page.Call("Page.addScriptToEvaluateOnNewDocument", map[string]any{"source": `
		const realNow = Date.now, skew = 2 * 3600 * 1000;
		Date.now = () => realNow() + skew;`}, nil); err != nil {
		t.Fatal(err)
	}
	if err := tab.Page.Navigate(k.URL()); err != nil {
		t.Fatal(err)
	}
	code, _ := d.NewCode()
	tab.Pair(code)

	snap := order(t, "fps")
	snap.Created, snap.Deadline = now(), now().Add(90*time.Second)
	d.Show(snap)
	tab.Wait("the QR", func(s displaytest.State) bool { return s.QR })
	var clock string
	tab.Eval(`document.getElementById("clock").textContent`, &clock)
	if clock != "01:30" && clock != "01:29" {
		t.Errorf("the countdown shows %q, want 01:30 by the kiosk's clock", clock)
	}
	mu.Lock()
	kioskNow = kioskNow.Add(91 * time.Second)
	mu.Unlock()
	s := tab.Wait("the QR gone at the kiosk's deadline", func(s displaytest.State) bool { return !s.QR })
	if s.QRHiddenFor != "deadline" || s.Link != "live" {
		t.Errorf("the QR went for %q with the link %s, want at its deadline on a live link", s.QRHiddenFor, s.Link)
	}
	if got := displaytest.DecodeQR(tab.Screenshot()); got != "" {
		t.Errorf("a QR past its deadline is readable: %q", got)
	}
}

// TestRevokedTabletAsksToBePaired: revoked on the kiosk, the tablet drops
// what it showed, forgets its token and shows the pairing form.
func TestRevokedTabletAsksToBePaired(t *testing.T) {
	d := open(t, t.TempDir(), webdisplay.Config{})
	_, tab := pairedTablet(t, d, tablet)
	d.Show(order(t, "payme"))
	tab.Wait("the QR", func(s displaytest.State) bool { return s.QR })
	if err := d.Revoke(d.Paired()[0].ID); err != nil {
		t.Fatal(err)
	}
	s := tab.Wait("the pairing form", func(s displaytest.State) bool { return s.Link == "pairing" })
	if s.QR || !strings.Contains(tab.Text(), "removed on the kiosk") {
		t.Errorf("revoked: %+v %q", s, tab.Text())
	}
	if got := displaytest.DecodeQR(tab.Screenshot()); got != "" {
		t.Errorf("a revoked tablet shows a QR: %q", got)
	}
	var token any
	tab.Eval(`localStorage.getItem("qrkiosk.display.token")`, &token)
	if token != nil {
		t.Error("the revoked token is kept")
	}
}

// TestSeveralDisplays: two tablets paired apart show the same QR.
func TestSeveralDisplays(t *testing.T) {
	d := open(t, t.TempDir(), webdisplay.Config{})
	k := displaytest.Serve(t, d, displaytest.Options{})
	var tabs []*displaytest.Tablet
	for _, v := range []chromiumtest.Viewport{tablet, {Width: 768, Height: 1024, Scale: 2, Mobile: true}} {
		tab := displaytest.NewTablet(t, k, v)
		code, _ := d.NewCode()
		tab.Pair(code)
		tabs = append(tabs, tab)
	}
	if p := d.Paired(); len(p) != 2 || p[0].Links != 1 || p[1].Links != 1 {
		t.Fatalf("paired %+v", p)
	}
	snap := order(t, "octopus")
	d.Show(snap)
	for i, tab := range tabs {
		tab.Wait("the QR", func(s displaytest.State) bool { return s.QR })
		if got := displaytest.DecodeQR(tab.Screenshot()); got != snap.QRCode {
			t.Errorf("tablet %d reads %q", i+1, got)
		}
	}
}

// TestPageShowsTextOnly: what the kiosk sends is shown as text, never run
// as markup.
func TestPageShowsTextOnly(t *testing.T) {
	name := `<img src=x onerror="window.pwned=1">Tea & "Cake"`
	d := open(t, t.TempDir(), webdisplay.Config{Screen: viewConfig(name)})
	_, tab := pairedTablet(t, d, tablet)
	var got struct {
		Merchant string `json:"merchant"`
		Imgs     int    `json:"imgs"`
		Pwned    any    `json:"pwned"`
	}
	tab.Eval(`({merchant: document.getElementById("merchant").textContent, imgs: document.querySelectorAll("main img:not(#logo)").length, pwned: window.pwned})`, &got)
	if got.Merchant != name || got.Imgs != 0 || got.Pwned != nil {
		t.Errorf("merchant name shown as %+v", got)
	}
}

// TestTabletSizes: at each tablet size, in every state, no customer text is
// under 24 px scaled to the screen (as on the Fyne screen), every text has
// 4.5:1 contrast, none is cut off, and the QR is drawn in device pixels,
// large, with whole modules, and reads as the order's.
func TestTabletSizes(t *testing.T) {
	failed := order(t, "alipayhk")
	failed.State, failed.Code = payment.StateFailed, qfpay.CodeSlowNetworkDontRepay
	payable := order(t, "fps")
	payable.State = payment.StateCancelled
	states := []struct {
		name string
		show func(d *webdisplay.Displays)
	}{
		{"idle", func(d *webdisplay.Displays) { d.Idle() }},
		{"qr_alipayhk", func(d *webdisplay.Displays) { d.Show(order(t, "alipayhk")) }},
		{"qr_wechat_urgent", func(d *webdisplay.Displays) {
			urgent := order(t, "wechat")
			urgent.Amount.Minor = 123456789
			urgent.Deadline = time.Now().Add(25 * time.Second)
			d.Show(urgent)
		}},
		{"paid", func(d *webdisplay.Displays) {
			s := order(t, "alipayhk")
			s.State = payment.StatePaid
			d.Show(s)
		}},
		{"failed", func(d *webdisplay.Displays) { d.Show(failed) }},
		{"cancelled_payable", func(d *webdisplay.Displays) { d.Show(payable) }},
		{"ask_for_code", func(d *webdisplay.Displays) {
			d.AskForCode(payment.Amount{Minor: 25000, Currency: hkd})
		}},
	}
	d := open(t, t.TempDir(), webdisplay.Config{Logo: testLogo(), Screen: viewConfig("")})
	for _, v := range displaytest.Sizes {
		size := fmt.Sprintf("%dx%d", v.Width, v.Height)
		_, tab := pairedTablet(t, d, v)
		for _, st := range states {
			t.Run(size+"_"+st.name, func(t *testing.T) {
				st.show(d)
				s := tab.Wait("the view", func(s displaytest.State) bool { return s.Seq == d.Current().Seq })
				if strings.HasPrefix(st.name, "qr") && !s.QR {
					tab.Wait("the QR", func(s displaytest.State) bool { return s.QR })
				}
				img := tab.Screenshot()
				shot(t, size+"_"+st.name, img)
				checkReadable(t, tab, v)
				if !strings.HasPrefix(st.name, "qr") {
					return
				}
				if got := displaytest.DecodeQR(img); got != d.Current().QR {
					t.Errorf("the QR reads %q", got)
				}
				var qr struct{ Width, CSS, Dpr float64 }
				tab.Eval(`(() => { const c = document.getElementById("qr"); return {width: c.width, css: c.getBoundingClientRect().width, dpr: devicePixelRatio}; })()`, &qr)
				if math.Abs(qr.CSS*qr.Dpr-qr.Width) > 0.5 {
					t.Errorf("the QR canvas is %v pixels drawn on %v device pixels: resampled", qr.Width, qr.CSS*qr.Dpr)
				}
				short := math.Min(float64(v.Width), float64(v.Height)) * v.Scale
				if qr.Width < 0.55*short {
					t.Errorf("the QR is %v px on a screen %v px across, want more than half of it", qr.Width, short)
				}
				if m := int(qr.Width) / (len(d.Current().Modules) + 8); m < 4 {
					t.Errorf("%d device pixels a module, want at least 4", m)
				}
			})
		}
	}
}

// checkReadable applies the Fyne screen's rules to the page as drawn.
func checkReadable(t *testing.T, tab *displaytest.Tablet, v chromiumtest.Viewport) {
	t.Helper()
	w, h := float64(v.Width), float64(v.Height)
	scale := math.Min(w/1280, h/800)
	if h > w {
		scale = math.Min(w/800, h/1280)
	}
	least := math.Floor(24 * scale)
	texts := tab.VisibleTexts()
	if len(texts) == 0 {
		t.Fatal("no text on the page")
	}
	for _, txt := range texts {
		if txt.Size < least-0.01 {
			t.Errorf("%q is %.1f px, want at least %.0f on this screen", txt.Text, txt.Size, least)
		}
		if r := golden.Contrast(cssColor(t, txt.Color), cssColor(t, txt.Bg)); r < 4.5 {
			t.Errorf("%q: contrast %.2f:1 (%s on %s), want at least 4.5:1", txt.Text, r, txt.Color, txt.Bg)
		}
		if txt.Clipped {
			t.Errorf("%q is cut off", txt.Text)
		}
	}
}

func cssColor(t *testing.T, s string) color.Color {
	var r, g, b uint8
	if _, err := fmt.Sscanf(s, "rgb(%d, %d, %d)", &r, &g, &b); err != nil {
		t.Fatalf("colour %q: %v", s, err)
	}
	return color.NRGBA{R: r, G: g, B: b, A: 0xff}
}

// TestInstallableFullScreen: the browser reads the page's manifest without
// a complaint, as a full-screen app with home-screen icons.
func TestInstallableFullScreen(t *testing.T) {
	d := open(t, t.TempDir(), webdisplay.Config{})
	_, tab := pairedTablet(t, d, tablet)
	var m struct {
		URL    string `json:"url"`
		Errors []struct {
			Message string `json:"message"`
		} `json:"errors"`
		Parsed struct {
			Display string `json:"display"`
			Icons   []struct {
				Sizes string `json:"sizes"`
			} `json:"icons"`
		} `json:"parsed"`
		Data string `json:"data"`
	}
	if err := tab.Page.Call("Page.getAppManifest", nil, &m); err != nil {
		t.Fatal(err)
	}
	if m.URL == "" || len(m.Errors) > 0 || !strings.Contains(m.Data, `"display": "fullscreen"`) {
		t.Errorf("manifest %s: errors %+v\n%s", m.URL, m.Errors, m.Data)
	}
	var viewport, apple string
	tab.Eval(`document.querySelector('meta[name=viewport]').content`, &viewport)
	tab.Eval(`document.querySelector('meta[name=apple-mobile-web-app-capable]').content`, &apple)
	if !strings.Contains(viewport, "width=device-width") || apple != "yes" {
		t.Errorf("viewport %q, apple-mobile-web-app-capable %q", viewport, apple)
	}
}

// TestPageIdlesQuietly: on the welcome the page lays nothing out again
// (its only timer waits for the heartbeat), and a countdown redraws once a
// second at most.
func TestPageIdlesQuietly(t *testing.T) {
	d := open(t, t.TempDir(), webdisplay.Config{})
	_, tab := pairedTablet(t, d, tablet)
	if err := tab.Page.Call("Performance.enable", nil, nil); err != nil {
		t.Fatal(err)
	}
	metrics := func() (layouts, styles float64) {
		var r struct {
			Metrics []struct {
				Name  string  `json:"name"`
				Value float64 `json:"value"`
			} `json:"metrics"`
		}
		if err := tab.Page.Call("Performance.getMetrics", nil, &r); err != nil {
			t.Fatal(err)
		}
		for _, m := range r.Metrics {
			switch m.Name {
			case "LayoutCount":
				layouts = m.Value
			case "RecalcStyleCount":
				styles = m.Value
			}
		}
		return layouts, styles
	}
	// Counted over the page's own heartbeats, not a wall-clock wait.
	heartbeats := func(n int) {
		start := tab.State().LastMessageAt
		tab.Wait(fmt.Sprintf("%d heartbeats", n), func(s displaytest.State) bool { return s.LastMessageAt-start >= float64(n)*600-50 })
	}
	heartbeats(1)
	l0, s0 := metrics()
	heartbeats(5)
	if l1, s1 := metrics(); l1 != l0 || s1 != s0 {
		t.Errorf("the welcome laid out %v times and restyled %v times over five heartbeats, want none", l1-l0, s1-s0)
	}
	d.Show(order(t, "alipayhk"))
	tab.Wait("the QR", func(s displaytest.State) bool { return s.QR })
	heartbeats(1)
	l0, _ = metrics()
	start := tab.State().LastMessageAt
	heartbeats(5) // three seconds
	l1, _ := metrics()
	secs := (tab.State().LastMessageAt - start) / 1000
	if n := l1 - l0; n > secs+1 {
		t.Errorf("the countdown laid out %v times in %.1f s, want at most one a second", n, secs)
	}
}

// TestTabletComesBack: a paired tablet needs nobody after a restart of
// either side: reopened, it connects with its token; the kiosk restarted
// (its displays read from the same data directory), it finds it again.
func TestTabletComesBack(t *testing.T) {
	dir := t.TempDir()
	d := open(t, dir, webdisplay.Config{})
	k, tab := pairedTablet(t, d, tablet)

	// The tablet restarts: the page opens again from its home screen.
	if err := tab.Page.Navigate(k.URL()); err != nil {
		t.Fatal(err)
	}
	tab.Wait("live again without pairing", func(s displaytest.State) bool { return s.Link == "live" })

	// The kiosk restarts.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	k.Stop(ctx)
	d.Close()
	d2 := open(t, dir, webdisplay.Config{})
	k2 := displaytest.Serve(t, d2, displaytest.Options{Certs: k.Certs})
	k.Link.Retarget(k2.Addr)
	snap := order(t, "alipayhk")
	d2.Show(snap)
	tab.Wait("the restarted kiosk's QR", func(s displaytest.State) bool { return s.Link == "live" && s.QR })
	if got := displaytest.DecodeQR(tab.Screenshot()); got != snap.QRCode {
		t.Errorf("after the kiosk's restart the tablet reads %q", got)
	}
}
