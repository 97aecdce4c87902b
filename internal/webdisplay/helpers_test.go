package webdisplay_test

import (
	"image"
	"image/color"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"qrkiosk/display/view"
	"qrkiosk/internal/chromiumtest"
	"qrkiosk/internal/golden"
	"qrkiosk/internal/webdisplay"
	"qrkiosk/internal/webdisplay/displaytest"
	"qrkiosk/payment"
)

var (
	t0  = time.Date(2025, 3, 14, 15, 9, 26, 0, time.FixedZone("HKT", 8*3600))
	hkd = payment.Currency{Code: "HKD", Exponent: 2, Symbol: "HK$"}
)

func payType(t testing.TB, wallet string) payment.PayType {
	t.Helper()
	p, err := payment.LookupPayType(wallet)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// order is an awaiting-payment snapshot with five minutes to pay from now
// on the real clock, as the order machine reports it.
func order(t testing.TB, wallet string) payment.Snapshot {
	now := time.Now()
	return payment.Snapshot{
		OutTradeNo: "QK20250314150926A7F3",
		QRCode:     "http://192.168.1.20:8080/pay/QK20250314150926A7F3?sig=9f2c41d07b",
		Amount:     payment.Amount{Minor: 123450, Currency: hkd},
		PayType:    payType(t, wallet),
		State:      payment.StateAwaitingPayment,
		Created:    now,
		Deadline:   now.Add(5 * time.Minute),
	}
}

// testLogo is a merchant's logo: a red disc with a white bar, 3:2.
func testLogo() image.Image {
	img := image.NewNRGBA(image.Rect(0, 0, 300, 200))
	for y := 0; y < 200; y++ {
		for x := 0; x < 300; x++ {
			dx, dy := float64(x-150), float64(y-100)
			switch {
			case dx*dx+dy*dy < 90*90 && y > 85 && y < 115:
				img.Set(x, y, color.White)
			case dx*dx+dy*dy < 90*90:
				img.Set(x, y, color.NRGBA{0xc6, 0x28, 0x28, 0xff})
			}
		}
	}
	return img
}

// viewConfig is a shop named name (the test's default when "").
func viewConfig(name string) view.Config {
	if name == "" {
		name = "Lucky Star Café 福星茶餐廳"
	}
	return view.Config{MerchantName: name}
}

// open makes the displays of a kiosk whose data directory is dir.
func open(t testing.TB, dir string, cfg webdisplay.Config) *webdisplay.Displays {
	t.Helper()
	cfg.Dir = dir
	if cfg.Screen.MerchantName == "" {
		cfg.Screen.MerchantName = "Lucky Star Café 福星茶餐廳"
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	d, err := webdisplay.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	return d
}

// pairedTablet serves d and pairs a Chromium tablet of size v with it.
func pairedTablet(t *testing.T, d *webdisplay.Displays, v chromiumtest.Viewport) (*displaytest.Kiosk, *displaytest.Tablet) {
	t.Helper()
	k := displaytest.Serve(t, d, displaytest.Options{})
	tab := displaytest.NewTablet(t, k, v)
	code, _ := d.NewCode()
	tab.Pair(code)
	return k, tab
}

// shot keeps a screenshot for people to look at (not compared).
func shot(t *testing.T, name string, img image.Image) {
	dir := os.Getenv("DISPLAY_SHOTS")
	if dir == "" {
		return
	}
	golden.WritePNG(t, filepath.Join(dir, name+".png"), img)
}
