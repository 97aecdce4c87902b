package display

import (
	"fmt"
	"image"

	"qrkiosk/display/view"
)

// quietZone is the white margin around the symbol, in modules.
const quietZone = view.QuietZone

// QRImage encodes content as a QR code (error correction M) and draws it
// black on white into a size×size image. Every module is the same whole
// number of pixels, the largest that fits with the 4-module quiet zone; the
// symbol is centred and the rest is white. The image must be shown pixel for
// pixel (canvas.ImageScalePixels, at its own size): scaling it by a
// non-integer factor or smoothing it makes modules uneven and blurs edges.
func QRImage(content string, size int) (*image.Gray, error) {
	bm, err := view.QRModules(content)
	if err != nil {
		return nil, fmt.Errorf("display: %w", err)
	}
	return rasterQR(bm, size)
}

// moduleSize is the pixels per module for an n-module symbol in size pixels,
// quiet zone included; 0 if it does not fit.
func moduleSize(n, size int) int {
	return size / (n + 2*quietZone)
}

func rasterQR(bm [][]bool, size int) (*image.Gray, error) {
	n := len(bm)
	m := moduleSize(n, size)
	if m < 1 {
		return nil, fmt.Errorf("display: a %d-module QR code and its quiet zone do not fit in %d pixels", n, size)
	}
	img := image.NewGray(image.Rect(0, 0, size, size))
	pix := img.Pix
	pix[0] = 0xFF
	for filled := 1; filled < len(pix); filled *= 2 {
		copy(pix[filled:], pix[:filled])
	}
	off := (size - m*n) / 2
	stride := img.Stride
	for y, row := range bm {
		top := (off + y*m) * stride
		line := pix[top+off : top+off+n*m]
		for x, dark := range row {
			if dark {
				clear(line[x*m : (x+1)*m])
			}
		}
		for k := 1; k < m; k++ {
			copy(pix[top+k*stride+off:], line)
		}
	}
	return img, nil
}
