package ui

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	gozxingqr "github.com/makiuchi-d/gozxing/qrcode"

	"qrkiosk/internal/proctest"
)

// The real binary under Xvfb, as a bare kiosk session runs it: no window
// manager. These tests look at the pixels the windows really show and tap
// where things are drawn, with xdotool (synthetic input through XTEST,
// like a touchscreen's) and ImageMagick's import (make deps installs both).

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// kioskBinary builds qrkiosk once for the tests, as shipped.
func kioskBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "qrkiosk-xvfb-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "qrkiosk")
		// Not a debug build: it draws outlines over every widget.
		out, err := exec.Command("go", "build", "-tags", "no_emoji", "-o", binPath, "qrkiosk").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// xsession is a virtual screen with the real kiosk on it.
type xsession struct {
	t        *testing.T
	display  string
	log      *proctest.Buffer
	cmd      *exec.Cmd
	stopOnce sync.Once
}

func needX(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("runs the real binary under Xvfb")
	}
	xvfb, err := exec.LookPath("Xvfb")
	if err != nil {
		t.Skip("Xvfb is not installed (make deps installs it)")
	}
	for _, tool := range []string{"xdotool", "import"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (make deps installs it)", tool)
		}
	}
	return xvfb
}

// startKiosk starts Xvfb at w×h and the demo kiosk on it with args.
func startKiosk(t *testing.T, w, h int, env []string, args ...string) *xsession {
	t.Helper()
	xvfb := needX(t)
	bin := kioskBinary(t)
	s := &xsession{t: t, display: proctest.StartXvfb(t, xvfb, "-screen", "0", fmt.Sprintf("%dx%dx24", w, h), "-nolisten", "tcp"), log: &proctest.Buffer{}}
	dir := t.TempDir()
	// The demo's simulator on loopback: tests talk to this machine only.
	s.cmd = exec.Command(bin, append([]string{"--data", filepath.Join(dir, "data"), "--demo-host", "127.0.0.1"}, args...)...)
	s.cmd.Dir = dir
	s.cmd.Env = append([]string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "XDG_CONFIG_HOME=" + dir, "XDG_DATA_HOME=" + dir,
		"XDG_CACHE_HOME=" + filepath.Join(dir, "cache"), "DISPLAY=" + s.display, "QRKIOSK_LOG=info",
		// The demo answers a POS: its LAN server stays on this machine.
		"QRKIOSK_ECR_LISTEN=127.0.0.1:0",
	}, env...)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.stop()
		if t.Failed() {
			t.Logf("kiosk log:\n%s", s.log.String())
		}
	})
	return s
}

// stop ends the kiosk as its unit would (SIGTERM), once.
func (s *xsession) stop() {
	s.stopOnce.Do(func() {
		s.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { s.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			s.cmd.Process.Kill()
			<-done
		}
	})
}

func (s *xsession) xdotool(args ...string) string {
	s.t.Helper()
	cmd := exec.Command("xdotool", args...)
	cmd.Env = []string{"DISPLAY=" + s.display}
	out, err := cmd.CombinedOutput()
	if err != nil {
		s.t.Fatalf("xdotool %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// window waits for the window whose title contains name.
func (s *xsession) window(name string) string {
	s.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		cmd := exec.Command("xdotool", "search", "--name", name)
		cmd.Env = []string{"DISPLAY=" + s.display}
		if out, err := cmd.Output(); err == nil && len(bytes.TrimSpace(out)) > 0 {
			return strings.Fields(string(out))[0]
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.t.Fatalf("no window %q:\n%s", name, s.log.String())
	return ""
}

var geometryRE = regexp.MustCompile(`Position: (-?\d+),(-?\d+).*\n.*Geometry: (\d+)x(\d+)`)

// bounds is where a window is on the screen.
func (s *xsession) bounds(win string) image.Rectangle {
	s.t.Helper()
	m := geometryRE.FindStringSubmatch(s.xdotool("getwindowgeometry", win))
	if m == nil {
		s.t.Fatalf("geometry of %s", win)
	}
	v := make([]int, 4)
	for i := range v {
		v[i], _ = strconv.Atoi(m[i+1])
	}
	return image.Rect(v[0], v[1], v[0]+v[2], v[1]+v[3])
}

// shot is the whole screen as the X server has it.
func (s *xsession) shot() image.Image {
	s.t.Helper()
	cmd := exec.Command("import", "-display", s.display, "-window", "root", "png:-")
	out, err := cmd.Output()
	if err != nil {
		s.t.Fatalf("screenshot: %v", err)
	}
	img, err := png.Decode(bytes.NewReader(out))
	if err != nil {
		s.t.Fatal(err)
	}
	return img
}

// tap clicks at a point of the screen, as a finger would.
func (s *xsession) tap(p image.Point) {
	s.t.Helper()
	s.xdotool("mousemove", strconv.Itoa(p.X), strconv.Itoa(p.Y), "click", "1")
}

func (s *xsession) keys(keys ...string) {
	s.t.Helper()
	for _, k := range keys {
		s.xdotool("key", k)
	}
}

// waitFor takes screenshots until cond holds on one, or fails after d.
func (s *xsession) waitFor(what string, d time.Duration, cond func(image.Image) bool) (image.Image, time.Time) {
	s.t.Helper()
	deadline := time.Now().Add(d)
	var img image.Image
	for time.Now().Before(deadline) {
		img = s.shot()
		if cond(img) {
			return img, time.Now()
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Kept after the test, to be looked at.
	f, _ := os.CreateTemp("", "qrkiosk-xvfb-*.png")
	path := f.Name()
	png.Encode(f, img)
	f.Close()
	s.t.Fatalf("%s: not seen within %s (last screenshot %s)", what, d, path)
	return nil, time.Time{}
}

func sub(img image.Image, r image.Rectangle) image.Image {
	return img.(interface {
		SubImage(image.Rectangle) image.Image
	}).SubImage(r)
}

// decodeQR reads a QR code in img, "" if there is none.
func decodeQR(img image.Image) string {
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

// count is how many pixels of img in r have colour c.
func count(img image.Image, r image.Rectangle, c color.NRGBA) int {
	n := 0
	r = r.Intersect(img.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA) == c {
				n++
			}
		}
	}
	return n
}

// blobs are the bounding boxes of the areas of colour c in r larger than
// minArea pixels (a button's face), found by flood fill.
func blobs(img image.Image, r image.Rectangle, c color.NRGBA, minArea int) []image.Rectangle {
	r = r.Intersect(img.Bounds())
	w, h := r.Dx(), r.Dy()
	seen := make([]bool, w*h)
	is := func(x, y int) bool {
		return color.NRGBAModel.Convert(img.At(r.Min.X+x, r.Min.Y+y)).(color.NRGBA) == c
	}
	var out []image.Rectangle
	for y0 := 0; y0 < h; y0++ {
		for x0 := 0; x0 < w; x0++ {
			if seen[y0*w+x0] || !is(x0, y0) {
				continue
			}
			box := image.Rect(x0, y0, x0+1, y0+1)
			area := 0
			stack := []image.Point{{x0, y0}}
			seen[y0*w+x0] = true
			for len(stack) > 0 {
				p := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				area++
				box = box.Union(image.Rect(p.X, p.Y, p.X+1, p.Y+1))
				for _, d := range []image.Point{{1, 0}, {-1, 0}, {0, 1}, {0, -1}} {
					q := p.Add(d)
					if q.X >= 0 && q.Y >= 0 && q.X < w && q.Y < h && !seen[q.Y*w+q.X] && is(q.X, q.Y) {
						seen[q.Y*w+q.X] = true
						stack = append(stack, q)
					}
				}
			}
			if area >= minArea {
				out = append(out, box.Add(r.Min))
			}
		}
	}
	return out
}

// lowest is the blob nearest the bottom (the bar's or the keypad's).
func lowest(bs []image.Rectangle) (image.Rectangle, bool) {
	var best image.Rectangle
	for _, b := range bs {
		if best.Empty() || b.Min.Y > best.Min.Y {
			best = b
		}
	}
	return best, !best.Empty()
}

func center(r image.Rectangle) image.Point {
	return image.Pt((r.Min.X+r.Max.X)/2, (r.Min.Y+r.Max.Y)/2)
}

// The customer screen's colours, as display draws them.
var (
	custSuccess = color.NRGBA{0x2e, 0x7d, 0x32, 0xff} // the Paid tick's disc
	custPanel   = color.NRGBA{0xf1, 0xf3, 0xf4, 0xff} // the idle screen's wallet tiles
	custError   = color.NRGBA{0xc6, 0x28, 0x28, 0xff}
)

// customerState names what a customer screen (or the cashier's small
// mirror of it) shows in r: "qr:<text>", "paid", "idle", or "" when it is
// none of these.
func customerState(img image.Image, r image.Rectangle) string {
	// The tick's green disc; the wallet tiles of the idle screen (neither
	// is on the QR page); the QR, slower to find, last.
	if count(img, r, custSuccess) > 800 {
		return "paid"
	}
	if count(img, r, custPanel) > 4000 {
		return "idle"
	}
	if q := decodeQR(sub(img, r)); q != "" {
		return "qr:" + q
	}
	return ""
}

var syssnRE = regexp.MustCompile(`msg="order created" syssn=(\S+)`)

// lastSysSN is the simulator's number of the last order created.
func (s *xsession) lastSysSN() string {
	m := syssnRE.FindAllStringSubmatch(s.log.String(), -1)
	if len(m) == 0 {
		return ""
	}
	return m[len(m)-1][1]
}

// TestCustomerWindowFollowsTheSale is the regression test of the customer
// window that kept showing the last customer's Paid (or Welcome while the
// mirror showed the QR): the dual layout with no window manager, the two
// windows apart (moved before the sale: moving a window makes X repaint
// it, which hid the fault), Fyne's object cache shortened to 2 s so that
// its expiry is crossed too. A sale goes to Paid with the demo's Simulate
// button, tapped where it is drawn; the customer window's own pixels must
// show the QR (the order's own), Paid, then idle again, each within about
// a second of the cashier's mirror.
func TestCustomerWindowFollowsTheSale(t *testing.T) {
	s := startKiosk(t, 2560, 800, []string{"FYNE_CACHE=2s"})
	cw, xw := s.window("cashier"), s.window("customer display")
	s.xdotool("windowmove", cw, "0", "0")
	s.xdotool("windowmove", xw, "1240", "40")
	cashier, customer := s.bounds(cw), s.bounds(xw)
	if cashier.Overlaps(customer) {
		t.Fatalf("windows overlap: %v %v", cashier, customer)
	}
	s.waitFor("idle on both screens", 20*time.Second, func(img image.Image) bool {
		return customerState(img, customer) == "idle" && customerState(img, cashier) == "idle"
	})
	// Longer than the cache's lifetime: nothing drawn since is known.
	time.Sleep(3 * time.Second)

	// Ring up 12.34 by keyboard (to the window under the pointer).
	s.xdotool("mousemove", fmt.Sprint(cashier.Min.X+200), fmt.Sprint(cashier.Min.Y+2))
	s.keys("1", "2", "period", "3", "4", "Return")

	// both waits until the mirror and the customer window both show a
	// state, and fails if a screenshot taken more than a second and a half
	// after the mirror showed it still has the customer window without it.
	both := func(what string, want func(string) bool) {
		t.Helper()
		var mirrorAt time.Time
		deadline := time.Now().Add(15 * time.Second)
		for time.Now().Before(deadline) {
			at := time.Now()
			img := s.shot()
			mirror, cust := want(customerState(img, cashier)), want(customerState(img, customer))
			if mirror && mirrorAt.IsZero() {
				mirrorAt = at
			}
			if cust && !mirrorAt.IsZero() {
				return
			}
			if !mirrorAt.IsZero() && at.Sub(mirrorAt) > 1500*time.Millisecond {
				t.Fatalf("%s: the customer window still did not show it %s after the mirror did", what, at.Sub(mirrorAt).Round(100*time.Millisecond))
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Fatalf("%s: not seen within 15 s (mirror at %v)", what, mirrorAt)
	}
	both("the QR", func(st string) bool { return strings.HasPrefix(st, "qr:") })
	img := s.shot()
	got := strings.TrimPrefix(customerState(img, customer), "qr:")
	if syssn := s.lastSysSN(); syssn == "" || !strings.HasSuffix(got, "/sim/pay/"+syssn) {
		t.Fatalf("the customer window's QR reads %q; the order is %q", got, syssn)
	}

	// Simulate payment: the orange button, tapped where it is drawn.
	pay, ok := lowest(blobs(img, cashier, color.NRGBA{0xf2, 0xb5, 0x4e, 0xff}, 2000))
	if !ok {
		t.Fatal("no Simulate payment button drawn in the cashier window")
	}
	s.tap(center(pay))
	both("Paid", func(st string) bool { return st == "paid" })
	both("idle after the result", func(st string) bool { return st == "idle" })
}

// TestTapsLandOnWhatIsDrawn: the tablet layout at 1280×800 (the 10"
// tablet), full screen with no window manager. The Charge, Simulate
// payment, Next sale and Cancel buttons are found in the screenshot by
// their colours and tapped at their centres, for two sales: after the
// first sale everything used to be drawn ~50 px higher than where taps
// landed.
func TestTapsLandOnWhatIsDrawn(t *testing.T) {
	s := startKiosk(t, 1280, 800, nil, "--layout", "single")
	s.window("qrkiosk")
	screen := image.Rect(0, 0, 1280, 800)
	primary := color.NRGBA{0x00, 0x69, 0x5c, 0xff} // Charge, Next sale
	warning := color.NRGBA{0xa8, 0x4a, 0x00, 0xff} // Simulate payment
	img, _ := s.waitFor("the keypad", 20*time.Second, func(img image.Image) bool {
		_, ok := lowest(blobs(img, screen, primary, 4000))
		return ok
	})
	for sale := 1; sale <= 2; sale++ {
		charge, _ := lowest(blobs(img, screen, primary, 4000))
		// The amount on the keyboard (it goes to the window under the
		// pointer: no window manager gives focus).
		s.xdotool("mousemove", "640", "2")
		s.keys("2", "5")
		s.tap(center(charge))
		img, _ = s.waitFor(fmt.Sprintf("sale %d: the QR after tapping the drawn Charge", sale), 15*time.Second, func(img image.Image) bool {
			return strings.HasPrefix(customerState(img, screen), "qr:")
		})
		if sale == 1 {
			bar, ok := lowest(blobs(img, screen, warning, 3000))
			if !ok {
				t.Fatal("no Simulate payment in the bar")
			}
			s.tap(center(bar))
			img, _ = s.waitFor("Paid", 15*time.Second, func(img image.Image) bool { return customerState(img, screen) == "paid" })
		} else {
			bar, ok := lowest(blobs(img, screen, custError, 3000))
			if !ok {
				t.Fatal("no Cancel in the bar")
			}
			s.tap(center(bar))
			img, _ = s.waitFor("Cancelled", 15*time.Second, func(img image.Image) bool {
				return customerState(img, screen) == "" && decodeQR(img) == ""
			})
		}
		next, ok := lowest(blobs(img, screen, primary, 3000))
		if !ok {
			t.Fatal("no Next sale button drawn")
		}
		s.tap(center(next))
		img, _ = s.waitFor("the keypad again after Next sale", 5*time.Second, func(img image.Image) bool {
			// No QR, and the amount's box across the top left.
			return decodeQR(img) == "" && count(img, image.Rect(0, 0, 640, 120), custPanel) > 20000
		})
	}
}

// TestScannerOnTheRealWindow: the tablet (single layout, demo, no mouse):
// 8.80 typed at a person's pace, then a scanner's burst — 18 digits a
// few milliseconds apart and Enter, through X like a USB scanner's — is
// charged as the customer's code: the customer screen never shows a QR,
// it ends Paid, and `qrkiosk history --demo` lists one paid CPM order.
func TestScannerOnTheRealWindow(t *testing.T) {
	s := startKiosk(t, 1280, 800, nil, "--layout", "single")
	s.window("qrkiosk")
	screen := image.Rect(0, 0, 1280, 800)
	primary := color.NRGBA{0x00, 0x69, 0x5c, 0xff}
	s.waitFor("the keypad", 20*time.Second, func(img image.Image) bool {
		_, ok := lowest(blobs(img, screen, primary, 4000))
		return ok
	})
	// The keys go to the window under the pointer (no window manager).
	s.xdotool("mousemove", "640", "2")
	s.xdotool("type", "--delay", "150", "8.80")
	time.Sleep(300 * time.Millisecond)
	s.xdotool("type", "--delay", "3", "287654321098765432", "key", "Return")
	// The customer screen takes the window (the keypad and its Charge go),
	// then Paid once the simulated customer confirms (3 s).
	s.waitFor("the customer screen", 10*time.Second, func(img image.Image) bool {
		_, keypad := lowest(blobs(img, screen, primary, 4000))
		return !keypad
	})
	s.waitFor("Paid after the customer confirms", 20*time.Second, func(img image.Image) bool {
		state := customerState(img, screen)
		// The one QR allowed is the e-receipt's, on the Paid page.
		if q := decodeQR(img); q != "" && (!strings.Contains(q, "/r/") || state != "paid") {
			t.Fatalf("a QR on the screen for a scanned code (%s): %q", state, q)
		}
		return state == "paid"
	})
	if !strings.Contains(s.log.String(), "pay_type=800008 scanned_code=true") || strings.Contains(s.log.String(), "287654321098765432") {
		t.Fatalf("the log should show one scanned-code charge, never the code itself:\n%s", s.log.String())
	}
	s.stop()
	data := s.cmd.Args[2]
	history := exec.Command(s.cmd.Path, "--data", data, "history", "--demo")
	history.Env = s.cmd.Env
	out, err := history.CombinedOutput()
	if err != nil || strings.Count(string(out), "allinone-cpm  HKD 8.80  paid") != 1 || !strings.Contains(string(out), "1 order(s)") {
		t.Fatalf("history --demo: %v\n%s", err, out)
	}
}
