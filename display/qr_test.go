package display

import (
	"image"
	"image/color"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	gozxingqr "github.com/makiuchi-d/gozxing/qrcode"
)

func decodeQR(t *testing.T, img image.Image) string {
	t.Helper()
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := gozxingqr.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true})
	if err != nil {
		t.Fatalf("no QR code found: %v", err)
	}
	return res.GetText()
}

func isBlack(c color.Color) bool {
	r, g, b, _ := c.RGBA()
	return r == 0 && g == 0 && b == 0
}

func isWhite(c color.Color) bool {
	r, g, b, _ := c.RGBA()
	return r == 0xffff && g == 0xffff && b == 0xffff
}

// symbolBox finds the QR symbol in img: the bounding box of pure black
// pixels inside area (nothing else on the screen is pure black) and its
// module size, read from the top-left finder pattern, 7 modules wide.
func symbolBox(t *testing.T, img image.Image, area image.Rectangle) (image.Rectangle, int) {
	t.Helper()
	box := image.Rectangle{Min: area.Max, Max: area.Min}
	for y := area.Min.Y; y < area.Max.Y; y++ {
		for x := area.Min.X; x < area.Max.X; x++ {
			if isBlack(img.At(x, y)) {
				box.Min.X, box.Min.Y = min(box.Min.X, x), min(box.Min.Y, y)
				box.Max.X, box.Max.Y = max(box.Max.X, x+1), max(box.Max.Y, y+1)
			}
		}
	}
	if box.Empty() {
		t.Fatal("no QR symbol found")
	}
	run := 0
	for x := box.Min.X; x < box.Max.X && isBlack(img.At(x, box.Min.Y)); x++ {
		run++
	}
	if run%7 != 0 {
		t.Fatalf("finder pattern is %d px wide: not a whole number of pixels per module", run)
	}
	return box, run / 7
}

// checkSymbol asserts what a scanner needs: whole, equal modules of at
// least minModule pixels, every module one colour, and a 4-module white
// quiet zone all round.
func checkSymbol(t *testing.T, img image.Image, area image.Rectangle, minModule int) {
	t.Helper()
	box, m := symbolBox(t, img, area)
	if m < minModule {
		t.Errorf("module is %d px, want at least %d", m, minModule)
	}
	if box.Dx() != box.Dy() || box.Dx()%m != 0 {
		t.Fatalf("symbol %v is not a square of whole %d-px modules", box, m)
	}
	for y := box.Min.Y; y < box.Max.Y; y += m {
		for x := box.Min.X; x < box.Max.X; x += m {
			first := isBlack(img.At(x, y))
			for dy := 0; dy < m; dy++ {
				for dx := 0; dx < m; dx++ {
					c := img.At(x+dx, y+dy)
					if isBlack(c) != first || (!first && !isWhite(c)) {
						t.Fatalf("module at %d,%d is not one clean colour (pixel %d,%d is %v)", x, y, x+dx, y+dy, c)
					}
				}
			}
		}
	}
	quiet := box.Inset(-4 * m)
	if !quiet.In(img.Bounds()) {
		t.Fatalf("quiet zone %v leaves the image %v", quiet, img.Bounds())
	}
	for y := quiet.Min.Y; y < quiet.Max.Y; y++ {
		for x := quiet.Min.X; x < quiet.Max.X; x++ {
			if !(image.Point{X: x, Y: y}).In(box) && !isWhite(img.At(x, y)) {
				t.Fatalf("quiet zone pixel %d,%d is %v, want white", x, y, img.At(x, y))
			}
		}
	}
}

func TestQRImage(t *testing.T) {
	content := "http://192.168.1.20:8080/pay/QK20250314150926A7F3?sig=9f2c41d07b"
	for _, size := range []int{1080, 1000, 777, 333, 200, 80} {
		img, err := QRImage(content, size)
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		if b := img.Bounds(); b.Dx() != size || b.Dy() != size {
			t.Fatalf("size %d: image is %v", size, b)
		}
		checkSymbol(t, img, img.Bounds(), 1)
		box, m := symbolBox(t, img, img.Bounds())
		n := box.Dx() / m
		if want := size / (n + 8); m != want {
			t.Errorf("size %d: module %d px, want the largest that fits, %d", size, m, want)
		}
		if got := decodeQR(t, img); got != content {
			t.Errorf("size %d: decoded %q", size, got)
		}
	}
}

func TestQRImageTooSmall(t *testing.T) {
	if _, err := QRImage("anything", 20); err == nil {
		t.Error("a 20-px QR code with its quiet zone: want an error")
	}
	if _, err := QRImage(strings.Repeat("x", 3000), 1080); err == nil {
		t.Error("content over a QR code's capacity: want an error")
	}
}

func BenchmarkQRRender1080(b *testing.B) {
	content := "http://192.168.1.20:8080/pay/QK20250314150926A7F3?sig=9f2c41d07b"
	for b.Loop() {
		if _, err := QRImage(content, 1080); err != nil {
			b.Fatal(err)
		}
	}
}
