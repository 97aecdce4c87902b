package receipt_test

import (
	"context"
	"errors"
	"flag"
	"image"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	gozxingqr "github.com/makiuchi-d/gozxing/qrcode"
	"github.com/skip2/go-qrcode"

	"qrkiosk/internal/escpos"
	"qrkiosk/internal/escpos/escpostest"
	"qrkiosk/internal/golden"
	"qrkiosk/internal/receipt"
	"qrkiosk/payment"
)

var update = flag.Bool("update", false, "rewrite the golden PNGs in testdata/")

var hkt = time.FixedZone("HKT", 8*3600)

func currency(t testing.TB, code string) payment.Currency {
	c, err := payment.LookupCurrency(code)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func wallet(t testing.TB, w string) payment.Names {
	pt, err := payment.LookupPayType(w)
	if err != nil {
		t.Fatal(err)
	}
	return pt.Name
}

// paidSlip is a sale from a POS at a Hong Kong café, in UTC as the journal
// keeps times: the slip must say 14:32 local.
func paidSlip(t testing.TB) receipt.Slip {
	return receipt.Slip{
		Kind: receipt.Sale, Merchant: "Lucky Star Café 福星茶餐廳",
		Time:   time.Date(2026, 12, 7, 6, 32, 5, 0, time.UTC),
		Amount: 123450, Currency: currency(t, "HKD"), Wallet: wallet(t, "alipayhk"), Status: receipt.Paid,
		SysSN: "20261207154800020001", OutTradeNo: "K20261207143205A1B2C3", POSRef: "POS-0042-118",
	}
}

// TestPaidSlipPrints renders a paid slip at 58 and 80 mm, prints it to the
// fake printer and reads the paper back: the same dots as drawn, the QR
// gives the syssn and is big enough to scan, and OCR finds the amount.
func TestPaidSlipPrints(t *testing.T) {
	for _, tc := range []struct {
		width int
		name  string
	}{{escpos.Width58mm, "paid-58.png"}, {escpos.Width80mm, "paid-80.png"}} {
		t.Run(tc.name, func(t *testing.T) {
			slip := paidSlip(t)
			img, err := receipt.Render(slip, receipt.Options{Width: tc.width, Zone: hkt})
			if err != nil {
				t.Fatal(err)
			}
			fake := escpostest.Start(t)
			p, err := escpos.Open(fake.Addr(), escpos.Options{StatusTimeout: 10 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			if err := p.Print(ctx, img); err != nil {
				t.Fatal(err)
			}
			doc, err := escpostest.Decode(fake.Next(t, 5*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			paper := doc.Raster
			if paper.Bounds() != img.Bounds() || string(paper.Pix) != string(img.Pix) {
				t.Fatalf("the paper (%v) is not the slip as drawn (%v)", paper.Bounds(), img.Bounds())
			}
			assertGolden(t, tc.name, paper)

			text, width := scanQR(t, paper)
			if text != slip.SysSN {
				t.Errorf("QR says %q, want the syssn %q", text, slip.SysSN)
			}
			if width < 160 {
				t.Errorf("QR is %.0f dots wide (%.1f mm), want at least 20 mm for a handheld scanner", width, width/8)
			}

			words := ocr(t, paper)
			for _, want := range []string{"HK$1,234.50", slip.SysSN, "2026-12-0714:32:05"} {
				if !strings.Contains(words, want) {
					t.Errorf("OCR does not find %q on the slip; it read:\n%s", want, words)
				}
			}
		})
	}
}

// scanQR decodes the slip's QR as a scanner would and measures its width in
// dots from the finder patterns.
func scanQR(t *testing.T, img image.Image) (string, float64) {
	t.Helper()
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := gozxingqr.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true})
	if err != nil {
		t.Fatalf("no QR code found on the slip: %v", err)
	}
	q, err := qrcode.New(res.GetText(), qrcode.Medium)
	if err != nil {
		t.Fatal(err)
	}
	q.DisableBorder = true
	modules := float64(len(q.Bitmap()))
	pts := res.GetResultPoints() // bottom-left, top-left, top-right finder centres
	d := math.Hypot(pts[2].GetX()-pts[1].GetX(), pts[2].GetY()-pts[1].GetY())
	return res.GetText(), d * modules / (modules - 7)
}

// ocr reads the image with tesseract (Debian's tesseract-ocr; make test
// installs it) and returns the words without spaces.
func ocr(t *testing.T, img image.Image) string {
	t.Helper()
	if _, err := exec.LookPath("tesseract"); err != nil {
		t.Skip("tesseract not installed (apt-get install tesseract-ocr)")
	}
	path := filepath.Join(t.TempDir(), "slip.png")
	golden.WritePNG(t, path, img)
	out, err := exec.Command("tesseract", path, "stdout", "--dpi", "203", "-l", "eng").Output()
	if err != nil {
		t.Fatalf("tesseract: %v", err)
	}
	return strings.Join(strings.Fields(string(out)), "")
}

// TestSlipsLookAsBefore keeps the other slips' layouts: refund, partly
// refunded copy, the summary and the test slip.
func TestSlipsLookAsBefore(t *testing.T) {
	hkd := currency(t, "HKD")
	partly := paidSlip(t)
	partly.Status, partly.Refunded, partly.Copy, partly.POSRef = receipt.PartlyRefunded, 2000, true, ""
	refund := receipt.Slip{
		Kind: receipt.Refund, Merchant: "星巴克咖啡 深圳湾万象城店", Time: time.Date(2026, 12, 7, 7, 40, 0, 0, time.UTC),
		Amount: 2000, Currency: hkd, Wallet: wallet(t, "wechat"),
		SysSN: "20261207154800020777", OrigSysSN: "20261207154800020001", OutTradeNo: "RF20261207153205X9",
	}
	summary := receipt.Summary{
		Merchant: "Lucky Star Café 福星茶餐廳", FirstDay: "2026-12-07", Printed: time.Date(2026, 12, 7, 14, 0, 0, 0, time.UTC),
		Lines: []receipt.SummaryLine{
			{Wallet: wallet(t, "alipayhk"), Currency: hkd, Sales: 12, Paid: 123450, Refunds: 1, Refunded: 2000},
			{Wallet: wallet(t, "wechat"), Currency: hkd, Sales: 3, Paid: 8800},
			{Wallet: wallet(t, "unionpay"), Currency: hkd, Sales: 1, Paid: 99999900},
		},
		Check: receipt.Check{Done: true},
	}
	mismatch := summary
	mismatch.Check = receipt.Check{Done: true, Differences: 2, Unconfirmed: 1}
	test := receipt.TestSlip{Merchant: "Lucky Star Café 福星茶餐廳", Printer: "tcp://192.168.1.50:9100", Time: time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC)}
	o58, o80 := receipt.Options{Width: escpos.Width58mm, Zone: hkt}, receipt.Options{Width: escpos.Width80mm, Zone: hkt}
	for _, tc := range []struct {
		name string
		draw func() (*image.Paletted, error)
	}{
		{"partly-refunded-copy-58.png", func() (*image.Paletted, error) { return receipt.Render(partly, o58) }},
		{"refund-80.png", func() (*image.Paletted, error) { return receipt.Render(refund, o80) }},
		{"summary-58.png", func() (*image.Paletted, error) { return receipt.RenderSummary(summary, o58) }},
		{"summary-mismatch-80.png", func() (*image.Paletted, error) { return receipt.RenderSummary(mismatch, o80) }},
		{"test-58.png", func() (*image.Paletted, error) { return receipt.RenderTest(test, o58) }},
	} {
		img, err := tc.draw()
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		assertGolden(t, tc.name, img)
	}
}

// assertGolden compares a slip with testdata/name. Glyph edges may round
// differently on another CPU (fused multiply-add), which flips lone dots:
// scattered single-dot differences are allowed, a changed glyph or layout
// (differing dots side by side) is not. A mismatch is written to
// testdata/failed/name.
func assertGolden(t *testing.T, name string, img *image.Paletted) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		golden.WritePNG(t, path, img)
		return
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	defer f.Close()
	want, _, err := image.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if reason := differs(want, img); reason != "" {
		golden.WritePNG(t, filepath.Join("testdata", "failed", name), img)
		t.Errorf("%s: %s; got testdata/failed/%s (run go test -update if the change is intended)", path, reason, name)
	}
}

func differs(want image.Image, got *image.Paletted) string {
	if want.Bounds() != got.Bounds() {
		return "the size changed from " + want.Bounds().String() + " to " + got.Bounds().String()
	}
	b := got.Bounds()
	diff := func(x, y int) bool {
		if !image.Pt(x, y).In(b) {
			return false
		}
		r, _, _, _ := want.At(x, y).RGBA()
		return (r < 0x8000) != (got.ColorIndexAt(x, y) == 1)
	}
	n := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if !diff(x, y) {
				continue
			}
			if n++; diff(x+1, y) || diff(x, y+1) {
				return "dots changed side by side at " + image.Pt(x, y).String()
			}
		}
	}
	if n > b.Dx()*b.Dy()/2000 {
		return "too many dots changed"
	}
	return ""
}

func TestBadInputIsRefused(t *testing.T) {
	ok := receipt.Options{Width: escpos.Width58mm}
	for _, tc := range []struct {
		field string
		edit  func(*receipt.Slip, *receipt.Options)
	}{
		{"width", func(_ *receipt.Slip, o *receipt.Options) { o.Width = 0 }},
		{"width", func(_ *receipt.Slip, o *receipt.Options) { o.Width = 580 }},
		{"amount", func(s *receipt.Slip, _ *receipt.Options) { s.Amount = 0 }},
		{"amount", func(s *receipt.Slip, _ *receipt.Options) { s.Amount = payment.MaxMinor + 1 }},
		{"currency", func(s *receipt.Slip, _ *receipt.Options) { s.Currency = payment.Currency{} }},
		{"syssn", func(s *receipt.Slip, _ *receipt.Options) { s.SysSN = "" }},
		{"orig_syssn", func(s *receipt.Slip, _ *receipt.Options) { s.Kind = receipt.Refund }},
		{"refunded", func(s *receipt.Slip, _ *receipt.Options) { s.Status = receipt.PartlyRefunded }},
		{"refunded", func(s *receipt.Slip, _ *receipt.Options) { s.Refunded = s.Amount + 1 }},
		{"status", func(s *receipt.Slip, _ *receipt.Options) { s.Status = 7 }},
		{"kind", func(s *receipt.Slip, _ *receipt.Options) { s.Kind = 7 }},
		{"time", func(s *receipt.Slip, _ *receipt.Options) { s.Time = time.Time{} }},
		{"merchant", func(s *receipt.Slip, _ *receipt.Options) { s.Merchant = strings.Repeat("福", 100) }},
	} {
		s, o := paidSlip(t), ok
		tc.edit(&s, &o)
		_, err := receipt.Render(s, o)
		var fe *payment.FieldError
		if !errors.As(err, &fe) || fe.Field != tc.field {
			t.Errorf("want a %s error, got %v", tc.field, err)
		}
	}
	if _, err := receipt.Render(paidSlip(t), ok); err != nil {
		t.Fatalf("the good slip: %v", err)
	}

	good := receipt.Summary{FirstDay: "2026-12-07", Printed: time.Now(), Lines: []receipt.SummaryLine{{Currency: currency(t, "HKD")}}}
	for _, tc := range []struct {
		field string
		edit  func(*receipt.Summary)
	}{
		{"first_day", func(s *receipt.Summary) { s.FirstDay = "7/12/2026" }},
		{"last_day", func(s *receipt.Summary) { s.LastDay = "2026-12-06" }},
		{"printed", func(s *receipt.Summary) { s.Printed = time.Time{} }},
		{"lines[0].currency", func(s *receipt.Summary) { s.Lines[0].Currency = payment.Currency{} }},
		{"lines[0]", func(s *receipt.Summary) { s.Lines[0].Refunded = -1 }},
		{"check", func(s *receipt.Summary) { s.Check.Differences = -1 }},
	} {
		s := good
		s.Lines = append([]receipt.SummaryLine(nil), good.Lines...)
		tc.edit(&s)
		_, err := receipt.RenderSummary(s, ok)
		var fe *payment.FieldError
		if !errors.As(err, &fe) || fe.Field != tc.field {
			t.Errorf("summary: want a %s error, got %v", tc.field, err)
		}
	}
	if _, err := receipt.RenderSummary(good, ok); err != nil {
		t.Fatalf("the good summary: %v", err)
	}
}

// BenchmarkRenderAndEncode is the time from a paid order to the bytes for
// the printer: drawing an 80 mm slip with a logo and encoding the job.
func BenchmarkRenderAndEncode(b *testing.B) {
	logo := image.NewGray(image.Rect(0, 0, 400, 160))
	for i := range logo.Pix {
		logo.Pix[i] = uint8(i % 251)
	}
	slip := paidSlip(b)
	for b.Loop() {
		img, err := receipt.Render(slip, receipt.Options{Width: escpos.Width80mm, Zone: hkt, Logo: logo})
		if err != nil {
			b.Fatal(err)
		}
		escpos.Job(img, 0)
	}
}
