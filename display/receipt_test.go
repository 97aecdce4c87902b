package display

import (
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	gozxingqr "github.com/makiuchi-d/gozxing/qrcode"

	"qrkiosk/assets/fontdata"
	"qrkiosk/payment"
)

// testReceiptLink is a relay's receipt link as the demo's look.
const testReceiptLink = "http://192.168.1.20:41234/r/3q2-7wAAAAAAAAAAAAAAAA"

// The receipt QR shows over its own sale's Paid page only, smaller than
// the payment QR and labelled; a phone reads the link from the screen.
func TestReceiptShowsOverItsPaidSaleOnly(t *testing.T) {
	s, _, w := newTestScreen(t, ScreenConfig{}, landscape)
	paid := *with(order(t), payment.StatePaid)

	s.ShowReceipt(paid.OutTradeNo, testReceiptLink) // nothing shown yet
	if s.receipt.shown {
		t.Fatal("a receipt over the idle page")
	}
	s.Show(order(t))
	s.ShowReceipt(paid.OutTradeNo, testReceiptLink)
	if s.receipt.shown {
		t.Fatal("a receipt over the payment QR")
	}
	s.Show(paid)
	s.ShowReceipt("QK-ANOTHER", testReceiptLink)
	if s.receipt.shown {
		t.Fatal("another sale's receipt over this sale's Paid page")
	}
	s.ShowReceipt(paid.OutTradeNo, testReceiptLink)
	if !s.receipt.shown || s.receipt.label.Text != "Receipt" || s.receipt.zh.Image == nil || s.receipt.zhW < s.receipt.label.TextSize*4 {
		t.Fatalf("receipt card: visible %v, label %q, Chinese line %v wide", s.receipt.shown, s.receipt.label.Text, s.receipt.zhW)
	}
	img := capture(w)
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := gozxingqr.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true})
	if err != nil || res.GetText() != testReceiptLink {
		t.Fatalf("the screen's QR reads %v (%v), want the receipt link", res, err)
	}
	if side := s.receipt.img.Size().Width; side > landscape.Height*0.3 {
		t.Errorf("the receipt QR is %v px: not smaller than a payment QR", side)
	}

	failed := paid
	failed.OutTradeNo, failed.State = "QK-NEXT", payment.StateFailed
	s.Show(failed)
	if s.receipt.shown {
		t.Fatal("the last sale's receipt over the next sale's result")
	}
	s.ShowReceipt(failed.OutTradeNo, testReceiptLink)
	if s.receipt.shown {
		t.Fatal("a receipt over a failed payment")
	}
}

// With its receipt, the Paid page stays ReceiptHold from when the QR
// showed (time to take a phone out), then the welcome comes back.
func TestReceiptKeepsThePaidPage(t *testing.T) {
	s, clk, _ := newTestScreen(t, ScreenConfig{ResultHold: 3 * time.Second}, landscape)
	paid := *with(order(t), payment.StatePaid)
	s.Show(paid)
	clk.waitArmed(t, t0.Add(3*time.Second))
	clk.advance(2 * time.Second)
	s.ShowReceipt(paid.OutTradeNo, testReceiptLink)
	clk.waitArmed(t, t0.Add(2*time.Second+ReceiptHold))
	clk.advance(ReceiptHold - time.Millisecond)
	clk.runQueued(50 * time.Millisecond)
	if !s.result.Visible() || !s.receipt.shown {
		t.Fatal("the Paid page and its receipt went before the receipt's hold")
	}
	clk.advance(time.Millisecond)
	clk.runUntil(t, "back to idle after the receipt's hold", s.idle.Visible)
}

// The receipt's label is in the bundled fonts: "Receipt" in the screens'
// own, the Chinese line in it and, for 据, the receipts' companion font
// (TestTextsHaveGlyphs checks text.go's texts; this one lives beside its
// card).
func TestReceiptLabelHasGlyphs(t *testing.T) {
	var cmaps []map[rune]bool
	for _, f := range [][]byte{fontdata.KioskSans(), fontdata.KioskSansSC()} {
		cmap, err := parseCmap(f)
		if err != nil {
			t.Fatal(err)
		}
		cmaps = append(cmaps, cmap)
	}
	for _, r := range txtReceipt.ZhHant + txtReceipt.ZhHans {
		if !cmaps[0][r] && !cmaps[1][r] {
			t.Errorf("neither bundled font has %q", r)
		}
	}
}
