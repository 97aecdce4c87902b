package ui

import (
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/theme"

	"qrkiosk/internal/escpos/escpostest"
)

var screenshots = flag.String("screenshots", "", "write screenshots of the real app in every layout, size and state to this folder (make screenshots)")

var simURLRE = regexp.MustCompile(`msg="demo mode" .*\bgateway=(http://127\.0\.0\.1:\d+)`)

// sim acts at the demo's simulator as the customer's phone would (on
// loopback: the kiosk runs with --demo-host 127.0.0.1).
func (s *xsession) sim(action, syssn string) {
	s.t.Helper()
	m := simURLRE.FindStringSubmatch(s.log.String())
	if m == nil {
		s.t.Fatal("no demo simulator on loopback in the log")
	}
	resp, err := http.Post(m[1]+"/sim/"+action+"/"+syssn, "application/x-www-form-urlencoded", nil)
	if err != nil {
		s.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		s.t.Fatalf("sim %s: %s", action, resp.Status)
	}
}

func (s *xsession) save(dir, name string, img image.Image) {
	s.t.Helper()
	f, err := os.Create(filepath.Join(dir, name+".png"))
	if err != nil {
		s.t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		s.t.Fatal(err)
	}
}

// TestScreenshots drives the real app, demo mode, under Xvfb with no
// window manager, through every state in both layouts at every size, and
// saves what the screens show (make screenshots). The dual layout runs
// with --kiosk, each window full screen on a screen of that size: each is
// raised in turn for its picture. States are reached as a cashier and a
// customer would: keys on the keyboard, taps where buttons are drawn, and
// the customer's phone's Pay, Decline (or the gateway's expiry) at the
// simulator.
func TestScreenshots(t *testing.T) {
	if *screenshots == "" {
		t.Skip("make screenshots runs this (-screenshots DIR)")
	}
	if err := os.MkdirAll(*screenshots, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, layout := range []string{"single", "dual"} {
		for _, size := range screenSizes {
			t.Run(layout+"_"+sizeName(size), func(t *testing.T) {
				shootLayout(t, layout, int(size.Width), int(size.Height))
			})
		}
	}
}

func shootLayout(t *testing.T, layout string, w, h int) {
	dir := *screenshots
	prefix := fmt.Sprintf("%s_%dx%d_", layout, w, h)
	screen := image.Rect(0, 0, w, h)
	args := []string{"--layout", layout}
	if layout == "dual" {
		args = append(args, "--kiosk")
	}
	// One kiosk with every wallet (Alipay HK preselected, withdrawn on
	// cancel) and a receipt printer that prints each paid sale, one with
	// PayMe only (no cancel: payable after, paid late).
	printer := escpostest.Start(t)
	for _, run := range []string{"alipay", "payme"} {
		env := []string{"QRKIOSK_PAY_TYPES=alipayhk,wechat,payme,fps,octopus", "QRKIOSK_PRINTER=" + printer.Addr(), "QRKIOSK_PRINTER_AUTO=true"}
		if run == "payme" {
			env = []string{"QRKIOSK_PAY_TYPES=payme"}
		}
		s := startKiosk(t, w, h, env, args...)
		var cw, xw string
		if layout == "dual" {
			cw, xw = s.window("cashier"), s.window("customer display")
		} else {
			cw = s.window("qrkiosk")
		}
		// shoot saves the screen; in the dual layout each window, raised
		// in turn (the customer's last, as it stays on top).
		shoot := func(state string) {
			t.Helper()
			time.Sleep(600 * time.Millisecond)
			if xw == "" {
				s.save(dir, prefix+state, s.shot())
				return
			}
			s.xdotool("windowraise", cw)
			time.Sleep(400 * time.Millisecond)
			s.save(dir, prefix+state+"_cashier", s.shot())
			s.xdotool("windowraise", xw)
			time.Sleep(400 * time.Millisecond)
			s.save(dir, prefix+state+"_customer", s.shot())
		}
		// state reads the customer screen: in the dual layout the
		// customer window is on top.
		state := func(img image.Image) string { return customerState(img, screen) }
		// keypad: the tablet shows its keypad again (no QR, the amount's
		// box); in the dual layout the customer window is back to idle.
		keypad := func(img image.Image) bool {
			if xw != "" {
				return state(img) == "idle"
			}
			return decodeQR(img) == "" && count(img, screen, custPanel) > w*h/100
		}
		sale := func(amount string) string {
			t.Helper()
			if xw != "" {
				s.xdotool("windowraise", xw)
			}
			s.waitFor("the keypad", 20*time.Second, keypad)
			// The keyboard goes to the window under the pointer (no
			// window manager gives focus).
			s.xdotool("mousemove", fmt.Sprint(w/2), "2")
			for _, r := range amount {
				k := string(r)
				if r == '.' {
					k = "period"
				}
				s.keys(k)
			}
			s.keys("Return")
			if xw != "" {
				s.xdotool("windowraise", xw)
			}
			s.waitFor("the QR", 15*time.Second, func(img image.Image) bool { return strings.HasPrefix(state(img), "qr:") })
			return s.lastSysSN()
		}
		if xw != "" {
			s.xdotool("windowraise", xw)
		}
		if run == "alipay" {
			s.waitFor("idle", 20*time.Second, func(img image.Image) bool { return xw == "" || state(img) == "idle" })
			shoot("idle")
			syssn := sale("250")
			shoot("qr")
			s.sim("pay", syssn)
			s.waitFor("Paid", 15*time.Second, func(img image.Image) bool { return state(img) == "paid" })
			shoot("paid")
			s.waitFor("idle after Paid", 15*time.Second, keypad)
			syssn = sale("12.5")
			s.sim("decline", syssn)
			s.waitFor("Failed", 15*time.Second, func(img image.Image) bool { return decodeQR(img) == "" && count(img, screen, custError) > 800 })
			shoot("failed")
			sale("30")
			s.keys("Escape")
			s.waitFor("Cancelled", 15*time.Second, func(img image.Image) bool { return state(img) == "" && decodeQR(img) == "" })
			shoot("cancelled_withdrawn")
			syssn = sale("40")
			s.sim("expire", syssn)
			s.waitFor("Expired", 40*time.Second, func(img image.Image) bool { return decodeQR(img) == "" && state(img) == "" })
			shoot("expired")
			// The customer's own code, scanned after typing the amount:
			// the customer confirms on the phone (3 s), then Paid.
			if xw != "" {
				s.xdotool("windowraise", xw)
			}
			s.waitFor("the keypad", 20*time.Second, keypad)
			s.xdotool("mousemove", fmt.Sprint(w/2), "2")
			s.xdotool("type", "--delay", "150", "8.8")
			time.Sleep(300 * time.Millisecond)
			s.xdotool("type", "--delay", "3", "287654321098765432", "key", "Return")
			s.waitFor("the customer confirming", 10*time.Second, func(img image.Image) bool {
				return decodeQR(img) == "" && state(img) == "" && !keypad(img)
			})
			shoot("cpm_confirming")
			s.waitFor("Paid (scanned code)", 15*time.Second, func(img image.Image) bool { return state(img) == "paid" })
			shoot("cpm_paid")
			continue
		}
		syssn := sale("80")
		s.keys("Escape")
		s.waitFor("Cancelled (payable)", 15*time.Second, func(img image.Image) bool { return decodeQR(img) == "" && state(img) == "" })
		shoot("cancelled_payable")
		// The customer pays the QR after all: the kiosk says so.
		s.sim("pay", syssn)
		s.waitFor("Paid late", 15*time.Second, func(img image.Image) bool { return state(img) == "paid" })
		if xw != "" {
			s.xdotool("windowraise", cw)
		}
		// On a small screen the banner has the whole pane.
		img, _ := s.waitFor("the paid-late banner", 20*time.Second, func(img image.Image) bool {
			return count(img, screen, alertRed) > w*h/20
		})
		shoot("paidlate")
		// Its Refund button sits above Seen — dismiss (the banner's one
		// button in the primary colour).
		if xw != "" {
			s.xdotool("windowraise", cw)
			time.Sleep(300 * time.Millisecond)
			img = s.shot()
		}
		banner, ok := lowest(blobs(img, screen, alertRed, w*h/20))
		if !ok {
			t.Fatal("no banner drawn")
		}
		ack, ok := lowest(blobs(img, banner, primaryOf(layout), 1000))
		if !ok {
			t.Fatal("no Seen — dismiss button drawn on the banner")
		}
		s.tap(image.Pt(center(ack).X, ack.Min.Y-ack.Dy()/2-4))
		if layout == "single" {
			shoot("pin")
			// At a person's pace: four keys at xdotool's own speed are a
			// scanner's burst, and dropped.
			s.xdotool("type", "--delay", "150", "0000")
			s.keys("Return")
		}
		time.Sleep(2 * time.Second)
		shoot("refund")
	}
}

// alertRed is the paid-late banner's colour.
var alertRed = color.NRGBA{0xb7, 0x1c, 0x1c, 0xff}

// primaryOf is the primary colour of a layout's cashier theme.
func primaryOf(layout string) color.NRGBA {
	if layout == "single" {
		return lightPalette[theme.ColorNamePrimary].(color.NRGBA)
	}
	return darkPalette[theme.ColorNamePrimary].(color.NRGBA)
}
