package setup

import (
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"qrkiosk/internal/config"
)

func pngOf(w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	img.Set(0, 0, color.RGBA{200, 0, 0, 255})
	var b bytes.Buffer
	png.Encode(&b, img)
	return b.Bytes()
}

// An upload is kept only when it is what it says, an image of bounded
// size, read whole; what is kept is the image re-encoded, nothing else of
// the upload (here: bytes after the PNG's end, which a polyglot hides in).
func TestLogoUpload(t *testing.T) {
	k := startKiosk(t, "")
	c := k.unlocked()
	var jpg bytes.Buffer
	jpeg.Encode(&jpg, image.NewRGBA(image.Rect(0, 0, 40, 20)), nil)
	for _, tc := range []struct {
		name, ct string
		body     []byte
		status   int
		says     string
	}{
		{"a text file", "text/plain", []byte("hello"), 422, "must be a PNG or JPEG image"},
		{"not an image", "image/png", []byte("hello"), 422, "must be a PNG or JPEG image"},
		{"a JPEG sent as a PNG", "image/png", jpg.Bytes(), 422, "not one it says it is"},
		{"too many pixels", "image/png", pngOf(2001, 10), 422, "is 2001×10 pixels; must be at most 2000 a side"},
		{"a cut-off PNG", "image/png", pngOf(300, 300)[:200], 422, "could not be read whole"},
		{"too many bytes", "image/png", make([]byte, maxLogoBytes+1), 413, ""},
		{"a JPEG", "image/jpeg", jpg.Bytes(), 200, `"width":40`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := k.post(c, "/setup/api/logo", tc.ct, tc.body)
			if resp.StatusCode != tc.status || !strings.Contains(body, tc.says) {
				t.Fatalf("%d %s, want %d %q", resp.StatusCode, body, tc.status, tc.says)
			}
		})
	}
	upload := append(pngOf(120, 60), []byte("<script>alert(1)</script>")...)
	if resp, body := k.post(c, "/setup/api/logo", "image/png", upload); resp.StatusCode != 200 {
		t.Fatalf("logo: %d %s", resp.StatusCode, body)
	}
	b, _ := json.Marshal(map[string]any{"values": map[string]string{"merchant_name": "Shop"}})
	if resp, body := k.post(c, "/setup/api/save", "application/json", b); resp.StatusCode != 200 {
		t.Fatalf("save: %d %s", resp.StatusCode, body)
	}
	f, err := config.ReadFile(k.path)
	if err != nil || !strings.HasPrefix(f.Logo, "logo-") || filepath.IsAbs(f.Logo) {
		t.Fatalf("logo setting %q, %v", f.Logo, err)
	}
	kept, err := os.ReadFile(filepath.Join(filepath.Dir(k.path), f.Logo))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(kept, []byte("<script>")) {
		t.Error("the upload's trailing bytes were kept")
	}
	img, err := png.Decode(bytes.NewReader(kept))
	if err != nil || img.Bounds().Dx() != 120 {
		t.Errorf("kept logo: %v %v", img.Bounds(), err)
	}
	if cfg, err := config.Load(k.path, func(string) string { return "" }); err != nil || cfg.Logo == "" {
		t.Errorf("the kiosk reads %q, %v", cfg.Logo, err)
	}
}

// A save that fails leaves no logo behind and the old settings in force.
func TestLogoOfAFailedSave(t *testing.T) {
	k := startKiosk(t, "merchant_name = \"Old\"\n")
	c := k.unlocked()
	k.post(c, "/setup/api/logo", "image/png", pngOf(50, 50))
	// The backup cannot be put in place: the write fails after the logo.
	os.MkdirAll(filepath.Join(k.path+".bak", "in-the-way"), 0o700)
	b, _ := json.Marshal(map[string]any{"values": map[string]string{"merchant_name": "New"}})
	resp, body := k.post(c, "/setup/api/save", "application/json", b)
	if resp.StatusCode != http.StatusInternalServerError || !strings.Contains(body, "old ones stay in force") {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	if logos, _ := filepath.Glob(filepath.Join(filepath.Dir(k.path), "logo-*")); len(logos) != 0 {
		t.Errorf("left behind: %v", logos)
	}
	if b, _ := os.ReadFile(k.path); string(b) != "merchant_name = \"Old\"\n" {
		t.Errorf("file %q", b)
	}
}

// FuzzNewLogo: whatever bytes arrive as a logo, they are refused, or what
// is kept is a PNG of at most 2000 pixels a side that decodes.
func FuzzNewLogo(f *testing.F) {
	f.Add(pngOf(3, 2), "png")
	f.Add([]byte("GIF89a"), "")
	f.Add(pngOf(2001, 1), "png")
	f.Fuzz(func(t *testing.T, raw []byte, format string) {
		l, err := NewLogo(raw, format)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("refused without a reason")
			}
			return
		}
		img, err := png.Decode(bytes.NewReader(l.png))
		if err != nil {
			t.Fatalf("kept a logo that does not decode: %v", err)
		}
		if b := img.Bounds(); b.Dx() < 1 || b.Dy() < 1 || b.Dx() > maxLogoSide || b.Dy() > maxLogoSide {
			t.Fatalf("kept a %v logo", b)
		}
	})
}
