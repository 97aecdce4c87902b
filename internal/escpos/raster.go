// Package escpos prints images on ESC/POS thermal receipt printers (Epson
// TM, Star in ESC/POS emulation, Xprinter and their clones) over the
// network (raw TCP, port 9100) or a USB device file, and reads their status.
//
// Everything is printed as a raster image (GS v 0): printers' code pages
// differ (GB18030, Big5, none), an image comes out the same on all of them.
package escpos

import (
	"image"
	"image/color"
)

// Command bytes, named as the ESC/POS manuals name them.
const (
	dle = 0x10
	eot = 0x04
	esc = 0x1b
	gs  = 0x1d
)

// Paper widths in dots at 203 dpi: the printable width of 58 mm and 80 mm
// paper.
const (
	Width58mm = 384
	Width80mm = 576
)

// MaxBandRows is the most rows one GS v 0 command carries. The command
// allows more, but clones with small receive buffers drop or garble tall
// bands; 255 rows (under 19 KB at 80 mm) print everywhere we know of.
const MaxBandRows = 255

// feedLines is how far the paper is fed after the image (ESC d, in lines of
// the default 1/6 inch): the slip's end clears the cutter, or the tear bar
// on printers without one.
const feedLines = 4

// Job is the whole print job for img: ESC @ (reset, which also clears a
// half-received job left by an earlier failure), img as GS v 0 bands of at
// most bandRows rows (MaxBandRows when out of range), a feed, and GS V 1
// (partial cut; printers without a cutter ignore it).
func Job(img image.Image, bandRows int) []byte {
	b := img.Bounds()
	job := make([]byte, 0, 2+(b.Dx()+7)/8*b.Dy()+8*(b.Dy()/MaxBandRows+1)+6)
	job = append(job, esc, '@')
	job = AppendRaster(job, img, bandRows)
	return append(job, esc, 'd', feedLines, gs, 'V', 1)
}

// AppendRaster appends img as GS v 0 commands (normal density), a band of
// at most bandRows rows each. A pixel darker than mid-grey is a dot;
// transparency counts as paper. A width that is not a multiple of 8 is
// padded with paper on the right.
func AppendRaster(dst []byte, img image.Image, bandRows int) []byte {
	if bandRows < 1 || bandRows > MaxBandRows {
		bandRows = MaxBandRows
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w <= 0 || h <= 0 {
		return dst
	}
	rowBytes := (w + 7) / 8
	dots := rowReader(img)
	row := make([]bool, rowBytes*8)
	for y0 := 0; y0 < h; y0 += bandRows {
		rows := min(bandRows, h-y0)
		dst = append(dst, gs, 'v', '0', 0, byte(rowBytes), byte(rowBytes>>8), byte(rows), byte(rows>>8))
		for y := y0; y < y0+rows; y++ {
			dots(b.Min.Y+y, row[:w])
			for xb := 0; xb < rowBytes; xb++ {
				var v byte
				for bit, dot := range row[xb*8 : xb*8+8] {
					if dot {
						v |= 0x80 >> bit
					}
				}
				dst = append(dst, v)
			}
		}
	}
	return dst
}

// rowReader returns a function that fills row with whether each pixel of
// image row y prints, with a fast path for the two-colour paletted images
// the receipts are drawn as.
func rowReader(img image.Image) func(y int, row []bool) {
	b := img.Bounds()
	if p, ok := img.(*image.Paletted); ok {
		var dark [256]bool
		for i, c := range p.Palette {
			dark[i] = isDark(c)
		}
		return func(y int, row []bool) {
			pix := p.Pix[p.PixOffset(b.Min.X, y):]
			for x := range row {
				row[x] = dark[pix[x]]
			}
		}
	}
	return func(y int, row []bool) {
		for x := range row {
			row[x] = isDark(img.At(b.Min.X+x, y))
		}
	}
}

// isDark: luminance composited over white paper below half.
func isDark(c color.Color) bool {
	r, g, b, a := c.RGBA()
	y := (19595*r + 38470*g + 7471*b + 1<<15) >> 16
	return y+(0xffff-a) < 0x8000
}
