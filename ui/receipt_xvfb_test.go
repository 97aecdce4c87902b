package ui

import (
	"fmt"
	"image"
	"image/color"
	"os/exec"
	"strings"
	"testing"
	"time"

	"qrkiosk/internal/chromiumtest"
	"qrkiosk/internal/escpos/escpostest"
)

// TestReceiptsOnTheRealApp: the real binary in demo mode under Xvfb, with
// a receipt printer (the fake one on 127.0.0.1, 58 mm, every paid sale
// printed). A sale paid with the demo's Simulate payment prints a slip
// whose raster shows the amount and a QR of the sale's syssn; the
// customer window's Paid page shows the receipt QR, whose page Chromium
// shows with the amount. Then, with the printer switched off, the next
// sale is paid all the same and the cashier's pane says the printer is
// offline.
func TestReceiptsOnTheRealApp(t *testing.T) {
	fake := escpostest.Start(t)
	s := startKiosk(t, 2560, 800, []string{"QRKIOSK_PRINTER=" + fake.Addr(), "QRKIOSK_PRINTER_WIDTH_MM=58",
		"QRKIOSK_PRINTER_AUTO=true", "QRKIOSK_MERCHANT_NAME=Lucky Star 福星茶餐廳"})
	cw, xw := s.window("cashier"), s.window("customer display")
	s.xdotool("windowmove", cw, "0", "0")
	s.xdotool("windowmove", xw, "1240", "40")
	cashier, customer := s.bounds(cw), s.bounds(xw)
	s.waitFor("idle", 20*time.Second, func(img image.Image) bool { return customerState(img, customer) == "idle" })

	sale := func(keys ...string) string {
		t.Helper()
		s.xdotool("mousemove", fmt.Sprint(cashier.Min.X+200), fmt.Sprint(cashier.Min.Y+2))
		s.keys(append(keys, "Return")...)
		img, _ := s.waitFor("the QR", 15*time.Second, func(img image.Image) bool {
			return strings.HasPrefix(customerState(img, customer), "qr:")
		})
		syssn := s.lastSysSN()
		pay, ok := lowest(blobs(img, cashier, color.NRGBA{0xf2, 0xb5, 0x4e, 0xff}, 2000))
		if !ok {
			t.Fatal("no Simulate payment button drawn")
		}
		s.tap(center(pay))
		s.waitFor("Paid", 15*time.Second, func(img image.Image) bool { return customerState(img, customer) == "paid" })
		return syssn
	}

	syssn := sale("1", "2", "period", "3", "4")
	doc, err := escpostest.Decode(fake.Next(t, 30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if doc.Raster == nil || doc.Raster.Bounds().Dx() != 384 {
		t.Fatalf("the printer got %v", doc.Names())
	}
	escpostest.Keep(t, "app-paid-58.png", doc.Raster)
	if got, err := escpostest.ScanQR(doc.Raster); err != nil || got != syssn {
		t.Errorf("the slip's QR reads %q (%v), want the syssn %q", got, err, syssn)
	}
	if words := escpostest.OCR(t, doc.Raster); !strings.Contains(words, "HK$12.34") || !strings.Contains(words, "PAID") {
		t.Errorf("the slip, read back:\n%s", words)
	}

	// The receipt QR on the customer's own window, and its page.
	var link string
	shot, _ := s.waitFor("the receipt QR on the Paid page", 10*time.Second, func(img image.Image) bool {
		link = decodeQR(sub(img, customer))
		return strings.Contains(link, "/r/")
	})
	escpostest.Keep(t, "app-paid-receipt-qr.png", shot)
	if !strings.HasPrefix(link, "http://127.0.0.1:") {
		t.Fatalf("receipt link %q", link)
	}
	b := chromiumtest.Start(t, chromiumtest.Options{})
	p := b.NewPage()
	if err := p.SetViewport(chromiumtest.Viewport{Width: 390, Height: 844, Scale: 3, Mobile: true}); err != nil {
		t.Fatal(err)
	}
	if err := p.Navigate(link); err != nil {
		t.Fatal(err)
	}
	var amount string
	if err := p.Eval(`document.getElementById("amount").textContent`, &amount); err != nil || amount != "HK$12.34" {
		t.Fatalf("the receipt page shows %q (%v)", amount, err)
	}

	// The printer off: the sale is paid, the cashier told.
	fake.Set(t, escpostest.Off)
	sale("5")
	img, _ := s.waitFor("the cashier told the printer is offline", 20*time.Second, func(img image.Image) bool {
		return strings.Contains(s.log.String(), "printer offline")
	})
	escpostest.Keep(t, "app-printer-offline.png", img)
	if words := escpostest.OCR(t, sub(img, cashier)); !strings.Contains(words, "Printeroffline") {
		t.Errorf("the cashier's pane does not say the printer is offline; OCR read:\n%s", words)
	}
	s.stop()
	history := exec.Command(s.cmd.Path, "--data", s.cmd.Args[2], "history", "--demo")
	history.Env = s.cmd.Env
	out, err := history.CombinedOutput()
	if err != nil || strings.Count(string(out), "  paid") != 2 {
		t.Fatalf("history --demo: both sales paid? %v\n%s", err, out)
	}
}
