package escpostest

import (
	"image"
	"image/color"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	gozxingqr "github.com/makiuchi-d/gozxing/qrcode"

	"qrkiosk/internal/golden"
)

// ScanQR reads the QR code on a printed slip as a cashier's scanner would.
func ScanQR(img image.Image) (string, error) {
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		return "", err
	}
	res, err := gozxingqr.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true})
	if err != nil {
		return "", err
	}
	return res.GetText(), nil
}

// OCR reads a printed slip with tesseract (Debian's tesseract-ocr, which
// make test installs) at a receipt printer's 203 dpi and returns the
// words without spaces; the test is skipped without tesseract. A banner
// (white on black: PAID, COPY) is read too.
func OCR(tb testing.TB, img image.Image) string {
	tb.Helper()
	if _, err := exec.LookPath("tesseract"); err != nil {
		tb.Skip("tesseract not installed (apt-get install tesseract-ocr)")
	}
	path := filepath.Join(tb.TempDir(), "slip.png")
	golden.WritePNG(tb, path, unbanner(img))
	out, err := exec.Command("tesseract", path, "stdout", "--dpi", "203", "-l", "eng").Output()
	if err != nil {
		tb.Fatalf("tesseract: %v", err)
	}
	return strings.Join(strings.Fields(string(out)), "")
}

// Keep writes a printed slip as dir/name when QRKIOSK_SLIPS is set to a
// directory, so a person can look at what the printer received.
func Keep(tb testing.TB, name string, img image.Image) {
	tb.Helper()
	if dir := os.Getenv("QRKIOSK_SLIPS"); dir != "" {
		golden.WritePNG(tb, filepath.Join(dir, name), img)
	}
}

// unbanner is img in black on white, with a banner's rows (ink from edge
// to edge, a third of it or more) inverted: tesseract reads dark text on
// a light ground.
func unbanner(img image.Image) *image.Gray {
	b := img.Bounds()
	out := image.NewGray(b)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		ink, first, last := 0, -1, -1
		for x := b.Min.X; x < b.Max.X; x++ {
			if dark(img.At(x, y)) {
				ink++
				if first < 0 {
					first = x
				}
				last = x
			}
		}
		invert := ink > b.Dx()/3 && last-first > b.Dx()*9/10
		for x := b.Min.X; x < b.Max.X; x++ {
			if dark(img.At(x, y)) != invert {
				out.SetGray(x, y, color.Gray{})
			} else {
				out.SetGray(x, y, color.Gray{Y: 0xff})
			}
		}
	}
	return out
}

func dark(c color.Color) bool {
	r, _, _, _ := c.RGBA()
	return r < 0x8000
}
