package receipt

import (
	"image"

	xdraw "golang.org/x/image/draw"
)

// logoBits fits the logo into maxW×maxH dots (a small one is enlarged at
// most twice, so it does not print as blocks), on white paper where it is
// transparent, and dithers it to dots (Floyd–Steinberg) so that greys and
// photos keep their shading on a printer that only has black.
func logoBits(logo image.Image, maxW, maxH int) *image.Paletted {
	b := logo.Bounds()
	if b.Dx() <= 0 || b.Dy() <= 0 {
		return nil
	}
	w, h := maxW, b.Dy()*maxW/b.Dx()
	if h > maxH {
		w, h = b.Dx()*maxH/b.Dy(), maxH
	}
	if w > 2*b.Dx() {
		w, h = 2*b.Dx(), 2*b.Dy()
	}
	w, h = max(w, 1), max(h, 1)
	rgba := image.NewRGBA(image.Rect(0, 0, w, h))
	xdraw.Draw(rgba, rgba.Rect, image.White, image.Point{}, xdraw.Src)
	xdraw.CatmullRom.Scale(rgba, rgba.Rect, logo, b, xdraw.Over, nil)

	// Errors diffused to the next pixels, one row ahead.
	cur, next := make([]int, w+2), make([]int, w+2)
	out := image.NewPaletted(rgba.Rect, Palette)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			px := rgba.Pix[rgba.PixOffset(x, y):]
			// Opaque after the white fill: luma as color.GrayModel has it.
			v := (19595*int(px[0])+38470*int(px[1])+7471*int(px[2])+1<<15)>>16 + cur[x+1]
			target := 255
			if v < 128 {
				target = 0
				out.Pix[out.PixOffset(x, y)] = ink
			}
			e := v - target
			cur[x+2] += e * 7 / 16
			next[x] += e * 3 / 16
			next[x+1] += e * 5 / 16
			next[x+2] += e / 16
		}
		cur, next = next, cur
		clear(next)
	}
	return out
}
