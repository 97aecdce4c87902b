package webdisplay

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"image"
	"image/color"
	"image/png"
	"net/http"

	"qrkiosk/assets/fontdata"
	"qrkiosk/display/view"
	"qrkiosk/internal/sound/cuewav"
)

//go:embed static
var static embed.FS

// asset is one file the page loads.
type asset struct {
	body  []byte
	ctype string
}

// assets are the page and its files, made once: the page is the same for
// every display; what it shows comes over the websocket.
type assets struct {
	index []byte
	files map[string]asset
	logo  []byte // PNG; nil: no logo
}

// soundFile is the WAV of a cue by name; nil for no such cue.
func soundFile(name string) []byte {
	switch name {
	case "paid":
		return cuewav.Paid()
	case "problem":
		return cuewav.Problem()
	}
	return nil
}

func newAssets(logo image.Image) (*assets, error) {
	a := &assets{files: map[string]asset{}}
	for name, ctype := range map[string]string{
		"app.js": "text/javascript; charset=utf-8", "app.css": "text/css; charset=utf-8",
		"manifest.webmanifest": "application/manifest+json",
	} {
		b, err := static.ReadFile("static/" + name)
		if err != nil {
			return nil, err
		}
		if name == "app.css" {
			b = append(paletteCSS(), b...)
		}
		a.files[name] = asset{body: b, ctype: ctype}
	}
	for _, side := range []int{192, 512} {
		b, err := encodePNG(icon(side))
		if err != nil {
			return nil, err
		}
		a.files[fmt.Sprintf("icon-%d.png", side)] = asset{body: b, ctype: "image/png"}
	}
	a.files["paid.wav"] = asset{body: cuewav.Paid(), ctype: "audio/wav"}
	a.files["problem.wav"] = asset{body: cuewav.Problem(), ctype: "audio/wav"}
	// The kiosk's own fonts, for a tablet without Chinese ones: the page
	// names them last, so a browser fetches them only for a character its
	// own fonts lack.
	a.files["KioskSans.ttf"] = asset{body: fontdata.KioskSans(), ctype: "font/ttf"}
	a.files["KioskSansSC.ttf"] = asset{body: fontdata.KioskSansSC(), ctype: "font/ttf"}
	if logo != nil {
		b, err := encodePNG(logo)
		if err != nil {
			return nil, fmt.Errorf("display logo: %w", err)
		}
		a.logo = b
		a.files["logo.png"] = asset{body: b, ctype: "image/png"}
	}

	// The page's URLs for its script and style carry their hash: cached a
	// day, yet never stale after the kiosk is updated.
	h := sha256.New()
	for _, name := range []string{"app.js", "app.css", "manifest.webmanifest"} {
		h.Write(a.files[name].body)
	}
	tmpl, err := template.ParseFS(static, "static/index.html")
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	err = tmpl.Execute(&b, struct {
		Version      string
		Reconnecting view.Text
	}{hex.EncodeToString(h.Sum(nil))[:12], reconnecting()})
	if err != nil {
		return nil, err
	}
	a.index = b.Bytes()
	return a, nil
}

// paletteCSS is the customer screens' palette as the page's CSS variables
// (--ink, --muted, … --panel, --track).
func paletteCSS() []byte {
	var b bytes.Buffer
	b.WriteString(":root {")
	for _, t := range view.Tones() {
		fmt.Fprintf(&b, " --%s: %s;", t, view.Hex(t.Color()))
	}
	fmt.Fprintf(&b, " --panel: %s; --track: %s; }\n", view.Hex(view.Panel), view.Hex(view.Track))
	return b.Bytes()
}

func encodePNG(img image.Image) ([]byte, error) {
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func (a *assets) serveIndex(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(a.index)
}

func (a *assets) serveStatic(w http.ResponseWriter, r *http.Request) {
	f, ok := a.files[r.PathValue("file")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", f.ctype)
	w.Write(f.body)
}

// icon is the display's home-screen icon, side pixels square: the app
// icon's look (a QR in white on the kiosk's green) drawn edge to edge, so
// that a launcher's mask never cuts into the code.
func icon(side int) image.Image {
	img := image.NewNRGBA(image.Rect(0, 0, side, side))
	green := color.NRGBA{R: 0x00, G: 0x69, B: 0x5c, A: 0xff}
	for i := 0; i < len(img.Pix); i += 4 {
		copy(img.Pix[i:], []byte{green.R, green.G, green.B, green.A})
	}
	modules, _ := view.QRModules("qrkiosk")
	n := len(modules) + 2 // a module of white around it
	m := side * 56 / 100 / n
	off := (side - m*n) / 2
	for y := 0; y < n*m; y++ {
		for x := 0; x < n*m; x++ {
			my, mx := y/m-1, x/m-1
			dark := my >= 0 && mx >= 0 && my < n-2 && mx < n-2 && modules[my][mx]
			c := color.NRGBA{R: 0xff, G: 0xff, B: 0xff, A: 0xff}
			if dark {
				c = color.NRGBA{A: 0xff}
			}
			img.SetNRGBA(off+x, off+y, c)
		}
	}
	return img
}
