package display

import (
	"fmt"
	"image"
	"image/color"
	"testing"
	"time"

	"fyne.io/fyne/v2"

	"qrkiosk/payment"
)

var landscape = fyne.NewSize(1280, 800)

// TestGolden renders every customer-screen state on every screen size and
// compares it with the PNGs in testdata (go test -run TestGolden -update
// rewrites them). The screen draws with the bundled font and its own fixed
// theme, so the images are the same on any machine, whatever fonts it has.
func TestGolden(t *testing.T) {
	cfg := ScreenConfig{MerchantName: "Lucky Star Café 福星茶餐廳", Logo: testLogo()}
	wechat := order(t)
	wechat.PayType = payType(t, "wechat")
	wechat.Amount.Minor = 4800

	type goldenCase struct {
		name    string
		cfg     ScreenConfig
		size    fyne.Size
		snap    *payment.Snapshot
		state   *customerState
		elapsed time.Duration
	}
	var cases []goldenCase
	for _, size := range screenSizes {
		for _, st := range customerStates(t) {
			cases = append(cases, goldenCase{name: fmt.Sprintf("%vx%v_%s", size.Width, size.Height, st.name), cfg: cfg, size: size, state: &st, elapsed: 83 * time.Second})
		}
	}
	cases = append(cases,
		goldenCase{name: "awaiting_urgent", cfg: cfg, size: landscape, snap: ptr(wechat), elapsed: 4*time.Minute + 48*time.Second},
		goldenCase{name: "idle_no_logo", cfg: ScreenConfig{MerchantName: cfg.MerchantName}, size: landscape},
		goldenCase{name: "demo_idle", cfg: ScreenConfig{MerchantName: cfg.MerchantName, Demo: true}, size: landscape},
		goldenCase{name: "demo_awaiting", cfg: ScreenConfig{MerchantName: cfg.MerchantName, Demo: true}, size: landscape, snap: ptr(order(t)), elapsed: 83 * time.Second},
		goldenCase{name: "mirror_awaiting", cfg: cfg, size: fyne.NewSize(480, 300), snap: ptr(order(t)), elapsed: 83 * time.Second},
	)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, clk, w := newTestScreen(t, c.cfg, c.size)
			clk.advance(c.elapsed)
			switch {
			case c.state != nil:
				c.state.apply(s)
			case c.snap != nil:
				s.Show(*c.snap)
			}
			assertGolden(t, c.name+".png", capture(w))
		})
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

func ptr(s payment.Snapshot) *payment.Snapshot { return &s }

func with(s payment.Snapshot, st payment.State) *payment.Snapshot {
	s.State = st
	return &s
}

func withdrawn(s *payment.Snapshot) *payment.Snapshot {
	s.Withdrawn = true
	return s
}

func cancelling(s payment.Snapshot) *payment.Snapshot {
	s.Cancelling = true
	return &s
}
