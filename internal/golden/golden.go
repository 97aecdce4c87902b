// Package golden is for the screens' tests: it compares the images they
// draw with the PNGs kept in a package's testdata, and measures text
// contrast as WCAG does.
package golden

import (
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// NRGBA is img as NRGBA pixels (img itself when it is one).
func NRGBA(img image.Image) *image.NRGBA {
	if n, ok := img.(*image.NRGBA); ok {
		return n
	}
	n := image.NewNRGBA(img.Bounds())
	draw.Draw(n, n.Bounds(), img, img.Bounds().Min, draw.Src)
	return n
}

// Assert compares img with testdata/name. Anti-aliased edges may differ by
// a little between CPUs (fused multiply-add), so it allows small
// per-channel differences, never a changed layout; a mismatch is written to
// testdata/failed/name to be looked at. With update it rewrites the golden
// file instead.
func Assert(t testing.TB, name string, img *image.NRGBA, update bool) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if update {
		WritePNG(t, path, img)
		return
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	defer f.Close()
	raw, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if want := NRGBA(raw); want.Bounds() != img.Bounds() || !Close(want.Pix, img.Pix) {
		failed := filepath.Join("testdata", "failed", name)
		WritePNG(t, failed, img)
		t.Errorf("%s does not match the golden image; got %s (run go test -update if the change is intended)", path, failed)
	}
}

// Close says two images' pixels differ by anti-aliasing at most: no
// channel by more than 40, and by less than 0.5 on average.
func Close(a, b []uint8) bool {
	if len(a) != len(b) {
		return false
	}
	total := 0
	for i := range a {
		d := int(a[i]) - int(b[i])
		if d < 0 {
			d = -d
		}
		if d > 40 {
			return false
		}
		total += d
	}
	return float64(total)/float64(len(a)) < 0.5
}

// WritePNG writes img to path, making its folder.
func WritePNG(t testing.TB, path string, img image.Image) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// Contrast is the WCAG 2 contrast ratio of two colours (1 to 21); text
// needs 4.5 on its background (AA).
func Contrast(a, b color.Color) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

func luminance(c color.Color) float64 {
	r, g, b, _ := c.RGBA()
	lin := func(v uint32) float64 {
		s := float64(v) / 0xffff
		if s <= 0.03928 {
			return s / 12.92
		}
		return math.Pow((s+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(r) + 0.7152*lin(g) + 0.0722*lin(b)
}
