package escpos_test

import (
	"bytes"
	"image"
	"testing"

	"qrkiosk/internal/escpos"
	"qrkiosk/internal/escpos/escpostest"
)

// FuzzRasterRoundTrip: any image of any size and band height prints
// exactly: decoding the job gives back every dot, padded with paper to
// whole bytes.
func FuzzRasterRoundTrip(f *testing.F) {
	f.Add(uint16(384), uint16(300), uint8(0), []byte{0xaa, 0x55, 0x0f})
	f.Add(uint16(1), uint16(1), uint8(1), []byte{0xff})
	f.Add(uint16(13), uint16(600), uint8(24), []byte{})
	f.Fuzz(func(t *testing.T, w, h uint16, band uint8, bits []byte) {
		width, height := int(w)%832+1, int(h)%1200+1
		img := image.NewPaletted(image.Rect(0, 0, width, height), escpostest.Paper)
		for i := range img.Pix {
			if len(bits) > 0 && bits[(i/8)%len(bits)]&(0x80>>(i%8)) != 0 {
				img.Pix[i] = 1
			}
		}
		job := escpos.Job(img, int(band))
		doc, err := escpostest.Decode(job)
		if err != nil {
			t.Fatal(err)
		}
		rows := int(band)
		if rows < 1 || rows > escpos.MaxBandRows {
			rows = escpos.MaxBandRows
		}
		for _, c := range doc.Commands {
			if c.Name == "GS v 0" && c.Arg > rows {
				t.Fatalf("a band of %d rows, want at most %d", c.Arg, rows)
			}
		}
		r := doc.Raster
		if r.Bounds().Dy() != height || r.Bounds().Dx() != (width+7)/8*8 {
			t.Fatalf("raster %v for a %d×%d image", r.Bounds(), width, height)
		}
		for y := 0; y < height; y++ {
			row := r.Pix[y*r.Stride : (y+1)*r.Stride]
			if !bytes.Equal(row[:width], img.Pix[y*img.Stride:y*img.Stride+width]) {
				t.Fatalf("row %d differs", y)
			}
			if bytes.IndexByte(row[width:], 1) >= 0 {
				t.Fatalf("row %d: dots in the padding", y)
			}
		}
	})
}
