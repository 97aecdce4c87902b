package display

import (
	"fmt"
	"image/color"
	"math"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"

	"qrkiosk/internal/golden"
	"qrkiosk/payment"
	"qrkiosk/payment/qfpay"
)

// The screens shops use, as in ui's tests.
var screenSizes = []fyne.Size{
	{Width: 800, Height: 480}, {Width: 1024, Height: 600}, {Width: 1280, Height: 800},
	{Width: 1366, Height: 768}, {Width: 1920, Height: 1080}, {Width: 1080, Height: 1920},
}

// customerState is one thing a customer sees: a snapshot shown, or (ask)
// the request for a payment code for the snapshot's amount.
type customerState struct {
	name string
	snap *payment.Snapshot
	ask  bool
	// receipt is the e-receipt link shown over the snapshot's result.
	receipt string
}

func (st customerState) apply(s *Screen) {
	switch {
	case st.ask:
		s.AskForCode(st.snap.Amount)
	case st.snap != nil:
		s.Show(*st.snap)
	}
	if st.receipt != "" {
		s.ShowReceipt(st.snap.OutTradeNo, st.receipt)
	}
}

// customerStates are the states a customer sees, by name.
func customerStates(t *testing.T) []customerState {
	failed := order(t)
	failed.State, failed.Code = payment.StateFailed, qfpay.CodeInsufficientBalance
	payable := with(order(t), payment.StateCancelled)
	payable.PayType = payType(t, "fps")
	payable.PayableUntil = t0.Add(30 * time.Minute)
	// A scanned code (all-in-one): no QR; the customer may have to approve
	// it on the phone; unapproved after 2 minutes it is taken back, or on
	// a wallet without cancel stays open there.
	cpm := order(t)
	cpm.QRCode = ""
	cpm.PayType = cpmType(t, payment.AllInOneCPM)
	confirming := cpm
	confirming.Confirming = true
	notConfirmed := confirming
	notConfirmed.State, notConfirmed.Code, notConfirmed.NotConfirmed, notConfirmed.Withdrawn = payment.StateFailed, qfpay.CodeProcessing, true, true
	openOnPhone := notConfirmed
	openOnPhone.PayType, openOnPhone.Withdrawn = cpmType(t, "805808"), false
	return []customerState{
		{name: "idle"},
		{name: "creating", snap: with(order(t), payment.StateCreating)},
		{name: "qr", snap: ptr(order(t))},
		{name: "cancelling", snap: cancelling(order(t))},
		{name: "paid", snap: with(order(t), payment.StatePaid)},
		{name: "paid_receipt", snap: with(order(t), payment.StatePaid), receipt: testReceiptLink},
		{name: "failed", snap: &failed},
		{name: "expired", snap: withdrawn(with(order(t), payment.StateExpired))},
		{name: "cancelled", snap: withdrawn(with(order(t), payment.StateCancelled))},
		{name: "cancelled_payable", snap: payable},
		{name: "cpm_ask", snap: &cpm, ask: true},
		{name: "cpm_processing", snap: with(cpm, payment.StateCreating)},
		{name: "cpm_confirming", snap: &confirming},
		{name: "cpm_not_confirmed", snap: &notConfirmed},
		{name: "cpm_not_confirmed_open", snap: &openOnPhone},
	}
}

func cpmType(t *testing.T, code string) payment.PayType {
	t.Helper()
	p, err := payment.LookupCPMPayType(code)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// walkTexts calls f with every visible text of the screen.
func walkTexts(o fyne.CanvasObject, f func(*canvas.Text)) {
	if o == nil || !o.Visible() {
		return
	}
	switch v := o.(type) {
	case *canvas.Text:
		if strings.TrimSpace(v.Text) != "" {
			f(v)
		}
	case *fyne.Container:
		for _, c := range v.Objects {
			walkTexts(c, f)
		}
	case fyne.Widget:
		for _, c := range test.WidgetRenderer(v).Objects() {
			walkTexts(c, f)
		}
	}
}

// TestReadableAtAMetre: no customer text under 24 px on a 1280×800
// screen, and as much larger or smaller as the screen is (the shorter way
// of it), on every screen and in every state; and every text colour has
// 4.5:1 contrast on the screen's white (WCAG AA).
func TestReadableAtAMetre(t *testing.T) {
	cfg := ScreenConfig{MerchantName: "Lucky Star Café 福星茶餐廳", Demo: true}
	for _, size := range screenSizes {
		for _, st := range customerStates(t) {
			t.Run(fmt.Sprintf("%vx%v_%s", size.Width, size.Height, st.name), func(t *testing.T) {
				s, clk, _ := newTestScreen(t, cfg, size)
				clk.advance(83 * time.Second)
				st.apply(s)
				scale := min(size.Width/1280, size.Height/800)
				if size.Height > size.Width {
					scale = min(size.Width/800, size.Height/1280)
				}
				least := float32(math.Floor(float64(24 * scale)))
				walkTexts(s.Content(), func(txt *canvas.Text) {
					if txt.TextSize < least {
						t.Errorf("%q is %.0f px, want at least %.0f on this screen", txt.Text, txt.TextSize, least)
					}
					bg := color.Color(color.White)
					if txt.Color == color.White {
						bg = colWarning // the DEMO banner
					}
					if r := golden.Contrast(txt.Color, bg); r < 4.5 {
						t.Errorf("%q: contrast %.2f:1, want at least 4.5:1", txt.Text, r)
					}
				})
			})
		}
	}
}
