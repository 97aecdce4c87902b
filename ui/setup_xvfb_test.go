package ui

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
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

// ocr reads the words of img with tesseract (make deps installs it).
func ocr(t *testing.T, img image.Image) []word {
	t.Helper()
	var b bytes.Buffer
	png.Encode(&b, img)
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
		words = append(words, word{strings.TrimSpace(f[11]), image.Rect(n[0], n[1], n[0]+n[2], n[1]+n[3])})
	}
	return words
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
	s.tap(center(tab))
	managerPIN := func() {
		s.waitFor("the manager PIN", 10*time.Second, func(img image.Image) bool {
			_, ok := find(ocr(t, img), "PIN:")
			return ok
		})
		// At a person's pace: a burst would be a scanner's.
		s.xdotool("mousemove", "640", "2")
		s.xdotool("type", "--delay", "150", "0000")
		time.Sleep(200 * time.Millisecond)
		s.keys("Return")
	}
	managerPIN()
	img, _ = s.waitFor("Set up from a phone", 10*time.Second, func(img image.Image) bool {
		_, ok := find(ocr(t, img), "phone")
		return ok
	})
	button, _ := find(ocr(t, img), "phone")
	s.tap(center(button))
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
