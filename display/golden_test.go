package display

import (
	"testing"
	"time"

	"fyne.io/fyne/v2"

	"qrkiosk/payment"
)

var landscape = fyne.NewSize(1280, 800)

// TestGolden renders every customer-screen state and compares it with the
// PNGs in testdata (go test -run TestGolden -update rewrites them). The
// screen draws with the bundled font and its own fixed theme, so the images
// are the same on any machine, whatever fonts it has.
func TestGolden(t *testing.T) {
	cfg := ScreenConfig{MerchantName: "Lucky Star Café 福星茶餐廳"}
	failed := order(t)
	failed.State, failed.Code = payment.StateFailed, payment.CodeInsufficientBalance
	wechat := order(t)
	wechat.PayType = payType(t, "wechat")
	wechat.Amount.Minor = 4800

	cases := []struct {
		name    string
		cfg     ScreenConfig
		size    fyne.Size
		snap    *payment.Snapshot
		elapsed time.Duration
	}{
		{name: "idle", cfg: cfg, size: landscape},
		{name: "creating", cfg: cfg, size: landscape, snap: with(order(t), payment.StateCreating)},
		{name: "awaiting", cfg: cfg, size: landscape, snap: ptr(order(t)), elapsed: 83 * time.Second},
		{name: "awaiting_urgent", cfg: cfg, size: landscape, snap: ptr(wechat), elapsed: 4*time.Minute + 48*time.Second},
		{name: "awaiting_portrait", cfg: cfg, size: fyne.NewSize(1080, 1920), snap: ptr(order(t)), elapsed: 83 * time.Second},
		{name: "cancelling", cfg: cfg, size: landscape, snap: cancelling(order(t))},
		{name: "paid", cfg: cfg, size: landscape, snap: with(order(t), payment.StatePaid)},
		{name: "failed", cfg: cfg, size: landscape, snap: &failed},
		{name: "expired", cfg: cfg, size: landscape, snap: withdrawn(with(order(t), payment.StateExpired))},
		{name: "cancelled", cfg: cfg, size: landscape, snap: withdrawn(with(order(t), payment.StateCancelled))},
		// A wallet without cancel: the QR stays payable at the gateway.
		{name: "cancelled_payable", cfg: cfg, size: landscape, snap: with(order(t), payment.StateCancelled)},
		{name: "demo_idle", cfg: ScreenConfig{MerchantName: cfg.MerchantName, Demo: true}, size: landscape},
		{name: "demo_awaiting", cfg: ScreenConfig{MerchantName: cfg.MerchantName, Demo: true}, size: landscape, snap: ptr(order(t)), elapsed: 83 * time.Second},
		{name: "mirror_awaiting", cfg: cfg, size: fyne.NewSize(480, 300), snap: ptr(order(t)), elapsed: 83 * time.Second},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, clk, w := newTestScreen(t, c.cfg, c.size)
			clk.advance(c.elapsed)
			if c.snap != nil {
				s.Show(*c.snap)
			}
			assertGolden(t, c.name+".png", capture(w))
		})
	}
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
