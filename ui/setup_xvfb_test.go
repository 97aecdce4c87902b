package ui

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	neturl "net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"qrkiosk/internal/chromiumtest"
	"qrkiosk/sim/qfpaysim"
)

// word is a word tesseract read on the screen, where it is drawn.
type word struct {
	text string
	box  image.Rectangle
}

// ocr reads the words of img with tesseract (make deps installs it), each
// where it is on the screen.
func ocr(t *testing.T, img image.Image) []word {
	t.Helper()
	// Grey reads better: red on dark grey is dark on darker in colour.
	gray := image.NewGray(img.Bounds())
	draw.Draw(gray, gray.Bounds(), img, img.Bounds().Min, draw.Src)
	var b bytes.Buffer
	png.Encode(&b, gray)
	cmd := exec.Command("tesseract", "stdin", "stdout", "--psm", "11", "tsv")
	cmd.Stdin = &b
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tesseract: %v", err)
	}
	var words []word
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Split(line, "\t")
		if len(f) < 12 || f[0] != "5" || strings.TrimSpace(f[11]) == "" {
			continue
		}
		n := make([]int, 4)
		for i := range n {
			n[i], _ = strconv.Atoi(f[6+i])
		}
		// tesseract counts from the image's corner, the screen from its own.
		words = append(words, word{strings.TrimSpace(f[11]), image.Rect(n[0], n[1], n[0]+n[2], n[1]+n[3]).Add(img.Bounds().Min)})
	}
	return words
}

// tapWhenSettled taps r's centre once the screen that just appeared has
// settled, as a person's finger comes: a tap in the frame a dialog closes
// in can go to the dialog on its way out.
func (s *xsession) tapWhenSettled(r image.Rectangle) {
	time.Sleep(700 * time.Millisecond)
	s.tap(center(r))
}

// find is where a word is drawn.
func find(words []word, text string) (image.Rectangle, bool) {
	for _, w := range words {
		if w.text == text {
			return w.box, true
		}
	}
	return image.Rectangle{}, false
}

// typePIN types a PIN on the open PIN dialog's own keys, tapped where
// they are drawn, then taps Open. Keys typed on the keyboard would do too,
// but X hands them over in a bunch when the window is slow to draw, and a
// burst of digits is a scanner's. The keys are found by their face's
// colour, which is the colour of the dialog's Cancel button (read by OCR
// in any theme): twelve keys in four rows, 0 the middle of the last; Open
// is beside Cancel, under the keys.
func (s *xsession) typePIN(r image.Rectangle, digits string) {
	s.t.Helper()
	img := s.shot()
	cancel, ok := find(ocr(s.t, sub(img, r)), "Cancel")
	if !ok {
		s.t.Fatal("no Cancel on the PIN dialog")
	}
	face := color.NRGBAModel.Convert(img.At(cancel.Max.X+12, (cancel.Min.Y+cancel.Max.Y)/2)).(color.NRGBA)
	var keys []image.Rectangle
	for _, b := range blobs(img, r, face, 3000) {
		if b.Max.Y < cancel.Min.Y-10 && b.Dx() < r.Dx()/4 {
			keys = append(keys, b)
		}
	}
	if len(keys) != 12 {
		s.t.Fatalf("%d keys of colour %v on the PIN dialog, want 12", len(keys), face)
	}
	slices.SortFunc(keys, func(a, b image.Rectangle) int {
		if d := a.Min.Y - b.Min.Y; abs(d) > 10 {
			return d
		}
		return a.Min.X - b.Min.X
	})
	at := map[rune]image.Point{'0': center(keys[10])}
	for i, d := range "123456789" {
		at[d] = center(keys[i])
	}
	for _, d := range digits {
		s.tap(at[d])
		time.Sleep(150 * time.Millisecond)
	}
	s.tap(image.Pt((keys[0].Min.X+keys[11].Max.X)/2, (cancel.Min.Y+cancel.Max.Y)/2))
}

var threeDigits = regexp.MustCompile(`^[0-9]{3}$`)

// codeOnScreen is the one-time code as drawn: two groups of three large
// digits side by side.
func codeOnScreen(words []word) string {
	for i, a := range words {
		for _, b := range words[i+1:] {
			if threeDigits.MatchString(a.text) && threeDigits.MatchString(b.text) && a.box.Dy() >= 30 && b.box.Dy() >= 30 &&
				abs(a.box.Min.Y-b.box.Min.Y) < 8 && b.box.Min.X > a.box.Max.X {
				return a.text + b.text
			}
		}
	}
	return ""
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// demoBanner: the DEMO strip across the top of the tablet's screen.
func demoBanner(img image.Image) bool {
	return count(img, image.Rect(0, 0, 1280, 30), color.NRGBA{0xa8, 0x4a, 0x00, 0xff}) > 20000
}

const (
	standInApp = "SHOPAPPCODE000000000000000000001"
	standInKey = "SHOPKEY0000000000000000000000001"
)

// TestSetUpFromAPhone is issue 24's "done": a kiosk installed from the
// package (its default config.toml) on a fresh data directory runs in
// demo mode under Xvfb; the manager opens "Set up from a phone"; the
// owner's phone (a real headless Chromium at phone size, trusting the
// kiosk's CA as a phone that accepted it does) reads the address from the
// QR code on the screen and the code from its digits (tesseract), types
// the code, enters a QFPay stand-in's credentials with a wrong key, is told
// it is a wrong key, fixes it and saves; the same kiosk process, without a
// restart, loses its DEMO strip and charges a real order at the stand-in,
// which the customer pays.
func TestSetUpFromAPhone(t *testing.T) {
	needX(t)
	if _, err := exec.LookPath("tesseract"); err != nil {
		t.Skip("tesseract is not installed (make deps installs it)")
	}
	sim := qfpaysim.New(qfpaysim.Config{AppCode: standInApp, Key: standInKey})
	gateway := httptest.NewServer(sim)
	t.Cleanup(func() { gateway.Close(); sim.Close() })
	sim.SetBaseURL(gateway.URL)

	etc := t.TempDir()
	cfg := filepath.Join(etc, "config.toml")
	def, err := os.ReadFile(filepath.Join("..", "packaging", "qrkiosk", "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg, def, 0o600); err != nil {
		t.Fatal(err)
	}
	s := startKiosk(t, 1280, 800, []string{"QRKIOSK_CONFIG=" + cfg, "QRKIOSK_ECR_LISTEN=127.0.0.1:0"})
	s.window("qrkiosk")
	pid := s.cmd.Process.Pid
	screen := image.Rect(0, 0, 1280, 800)
	img, _ := s.waitFor("the demo's keypad", 20*time.Second, func(img image.Image) bool {
		_, ok := find(ocr(t, img), "refunds")
		return ok && demoBanner(img)
	})

	// The manager: Today & refunds, the PIN, Set up from a phone, the PIN.
	tab, _ := find(ocr(t, img), "refunds")
	s.tapWhenSettled(tab)
	managerPIN := func() {
		s.waitFor("the manager PIN", 10*time.Second, func(img image.Image) bool {
			_, ok := find(ocr(t, img), "PIN:")
			return ok
		})
		s.typePIN(screen, "0000")
	}
	managerPIN()
	img, _ = s.waitFor("Set up from a phone", 10*time.Second, func(img image.Image) bool {
		_, ok := find(ocr(t, img), "phone")
		return ok
	})
	button, _ := find(ocr(t, img), "phone")
	s.tapWhenSettled(button)
	managerPIN()
	var url, code string
	s.waitFor("the setup page's QR code and code", 15*time.Second, func(img image.Image) bool {
		url, code = decodeQR(sub(img, image.Rect(0, 0, 640, 800))), codeOnScreen(ocr(t, img))
		return strings.HasPrefix(url, "https://127.0.0.1:") && strings.HasSuffix(url, "/setup/") && code != ""
	})
	t.Logf("the screen shows %s and the code %s", url, code)

	// The owner's phone.
	ca := filepath.Join(s.cmd.Args[2], "lan", "ca.crt")
	p := chromiumtest.Start(t, chromiumtest.Options{TrustCAs: []string{ca}}).NewPage()
	if err := p.SetViewport(chromiumtest.Viewport{Width: 390, Height: 844, Scale: 3, Mobile: true}); err != nil {
		t.Fatal(err)
	}
	if err := p.Navigate(url); err != nil {
		t.Fatal(err)
	}
	js := func(what, expr string) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			var ok bool
			if p.Eval("Boolean("+expr+")", &ok) == nil && ok {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Fatalf("the phone: %s not seen\nconsole: %q", what, p.Console())
	}
	set := func(id, v string) {
		t.Helper()
		if err := p.Eval(fmt.Sprintf(`(() => { const e = document.getElementById(%q); e.value = %q; e.dispatchEvent(new Event('input')); return true })()`, id, v), nil); err != nil {
			t.Fatal(err)
		}
	}
	js("the code form", `document.getElementById('code')`)
	set("code", code)
	p.Eval(`document.forms[0].submit()`, nil)
	js("the settings", `document.getElementById('test-gateway')`)
	set("in-qfpay.base_url", gateway.URL)
	set("in-qfpay.appcode", standInApp)
	set("in-qfpay.key", "SHOPKEY0000000000000000000000002")
	set("in-merchant_name", "陳記茶餐廳")
	p.Eval(`document.getElementById('test-gateway').click()`, nil)
	js("the gateway's verdict", `!document.getElementById('result-gateway').hidden`)
	var verdict string
	p.Eval(`document.getElementById('result-gateway').textContent`, &verdict)
	if verdict != "✗ The QFPay key does not match the app code: the gateway refused the signature (1108)." {
		t.Fatalf("the phone says %q for a wrong key", verdict)
	}
	set("in-qfpay.key", standInKey)
	// The demo's manager PIN goes with demo mode: saving without one is
	// refused, the rule under the field.
	p.Eval(`document.getElementById('save').click()`, nil)
	js("the manager PIN asked for", `document.getElementById('field-manager_pin_hash').classList.contains('bad')`)
	var rule string
	p.Eval(`document.querySelector('#field-manager_pin_hash .rule').textContent`, &rule)
	if !strings.Contains(rule, "set a manager PIN") {
		t.Fatalf("the PIN's field says %q", rule)
	}
	set("in-manager_pin_hash", "2468")
	p.Eval(`document.querySelectorAll('#field-manager_pin_hash input')[1].value = '2468'`, nil)
	p.Eval(`document.getElementById('save').click()`, nil)
	js("saved", `document.getElementById('saved')`)

	// The same kiosk, without a restart: no DEMO strip, and a sale is a
	// real order at the stand-in.
	img, _ = s.waitFor("the kiosk out of demo mode", 20*time.Second, func(img image.Image) bool {
		_, ok := find(ocr(t, img), "refunds")
		return ok && !demoBanner(img)
	})
	if s.cmd.ProcessState != nil || !strings.Contains(s.log.String(), `msg="settings applied" demo=false gateway=qfpay`) {
		t.Fatalf("the kiosk did not apply the settings in the same process (pid %d):\n%s", pid, s.log.String())
	}
	s.xdotool("mousemove", "640", "2")
	s.xdotool("type", "--delay", "150", "12.34")
	time.Sleep(200 * time.Millisecond)
	s.keys("Return")
	img, _ = s.waitFor("the stand-in's QR", 15*time.Second, func(img image.Image) bool {
		return strings.HasPrefix(customerState(img, screen), "qr:"+gateway.URL+"/sim/pay/")
	})
	orders := sim.Orders()
	if len(orders) != 1 || orders[0].TxAmt != 1234 {
		t.Fatalf("the stand-in holds %+v, want one order of 12.34", orders)
	}
	if err := sim.Pay(orders[0].SysSN); err != nil {
		t.Fatal(err)
	}
	s.waitFor("Paid", 15*time.Second, func(img image.Image) bool { return customerState(img, screen) == "paid" })
	if demoBanner(img) {
		t.Error("the DEMO strip is back")
	}
}

// TestSettingsWaitForTheSale: settings saved while a sale is live are
// applied only once it ends — the dual layout, a demo sale's QR on the
// screens, the setup page saved meanwhile (by a phone's requests): the
// DEMO strip stays and the pane says the settings wait; the cashier
// withdraws the sale (Esc), and the kiosk leaves demo mode.
func TestSettingsWaitForTheSale(t *testing.T) {
	needX(t)
	if _, err := exec.LookPath("tesseract"); err != nil {
		t.Skip("tesseract is not installed (make deps installs it)")
	}
	sim := qfpaysim.New(qfpaysim.Config{AppCode: standInApp, Key: standInKey})
	gateway := httptest.NewServer(sim)
	t.Cleanup(func() { gateway.Close(); sim.Close() })
	cfg := filepath.Join(t.TempDir(), "config.toml")
	os.WriteFile(cfg, []byte("merchant_name = \"Shop\"\n"), 0o600)
	s := startKiosk(t, 1280, 800, []string{"QRKIOSK_CONFIG=" + cfg, "QRKIOSK_ECR_LISTEN=127.0.0.1:0"}, "--layout", "dual")
	cw := s.window("cashier")
	s.xdotool("windowmove", cw, "0", "0")
	cashier := s.bounds(cw)
	// The DEMO strip across the top of the cashier's pane.
	demo := func(img image.Image) bool {
		box, ok := find(ocr(t, sub(img, cashier)), "DEMO")
		return ok && box.Min.Y < cashier.Min.Y+40
	}
	img, _ := s.waitFor("the demo", 20*time.Second, func(img image.Image) bool {
		_, ok := find(ocr(t, sub(img, cashier)), "refunds")
		return ok && demo(img)
	})
	// A sale: its QR on the cashier's mirror.
	s.xdotool("mousemove", fmt.Sprint(cashier.Min.X+200), fmt.Sprint(cashier.Min.Y+2))
	s.xdotool("type", "--delay", "150", "5")
	time.Sleep(200 * time.Millisecond)
	s.keys("Return")
	img, _ = s.waitFor("the demo sale's QR", 15*time.Second, func(img image.Image) bool {
		return strings.HasPrefix(customerState(img, cashier), "qr:")
	})
	tab, _ := find(ocr(t, sub(img, cashier)), "refunds")
	s.tapWhenSettled(tab)
	img, _ = s.waitFor("Set up from a phone", 10*time.Second, func(img image.Image) bool {
		_, ok := find(ocr(t, sub(img, cashier)), "phone")
		return ok
	})
	button, _ := find(ocr(t, sub(img, cashier)), "phone")
	s.tapWhenSettled(button)
	s.waitFor("the manager PIN", 10*time.Second, func(img image.Image) bool {
		_, ok := find(ocr(t, sub(img, cashier)), "PIN:")
		return ok
	})
	s.typePIN(cashier, "0000")
	var url, code string
	s.waitFor("the code", 15*time.Second, func(img image.Image) bool {
		url, code = decodeQR(sub(img, cashier)), codeOnScreen(ocr(t, sub(img, cashier)))
		return strings.HasSuffix(url, "/setup/") && code != ""
	})
	phone := phoneClient(t, filepath.Join(s.cmd.Args[2], "lan", "ca.crt"))
	if resp, err := phone.PostForm(url+"unlock", neturl.Values{"code": {code}}); err != nil || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("unlock: %v %v", resp, err)
	}
	body := fmt.Sprintf(`{"values":{"gateway":"qfpay","qfpay.base_url":%q,"qfpay.appcode":%q,"qfpay.key":%q,"manager_pin_hash":"2468"}}`, gateway.URL, standInApp, standInKey)
	req, _ := http.NewRequest(http.MethodPost, url+"api/save", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if resp, err := phone.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("save: %v %v", resp, err)
	}
	// Saved, the sale still live: the demo goes on, and says why.
	time.Sleep(2 * time.Second)
	message := image.Rect(cashier.Min.X, cashier.Min.Y+100, cashier.Min.X+cashier.Dx()/2, cashier.Min.Y+160)
	img, _ = s.waitFor("the settings waiting for the sale", 10*time.Second, func(img image.Image) bool {
		_, ok := find(ocr(t, sub(img, message)), "applied")
		return ok && demo(img)
	})
	if strings.Contains(s.log.String(), "settings applied") {
		t.Fatal("the settings were applied during the sale")
	}
	// The cashier withdraws the sale: the new settings go in.
	s.xdotool("mousemove", fmt.Sprint(cashier.Min.X+200), fmt.Sprint(cashier.Min.Y+2))
	s.keys("Escape")
	s.waitFor("out of demo mode after the sale", 30*time.Second, func(img image.Image) bool { return !demo(img) })
	if !strings.Contains(s.log.String(), `msg="settings applied" demo=false`) {
		t.Fatalf("log:\n%s", s.log.String())
	}
}

// phoneClient is a phone that trusts the kiosk's CA and keeps its cookie.
func phoneClient(t *testing.T, caPath string) *http.Client {
	t.Helper()
	pem, err := os.ReadFile(caPath)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 60 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
}
