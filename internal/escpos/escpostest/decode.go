// Package escpostest is for tests of code that prints receipts: a fake
// network printer on 127.0.0.1 that records what it is sent and answers
// status queries as an Epson does, and a decoder that reads the recorded
// ESC/POS stream back into its commands and its raster image.
package escpostest

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
)

// Command is one decoded ESC/POS command.
type Command struct {
	Offset int    // where it starts in the stream
	Name   string // "ESC @", "GS v 0", "ESC d", "GS V", "DLE EOT"
	// Arg: ESC d's lines, GS V's mode, DLE EOT's n, GS v 0's rows.
	Arg int
}

// Doc is a decoded stream.
type Doc struct {
	Commands []Command
	// Raster is every GS v 0 band stacked top to bottom, as printed (nil
	// when there is none): index 1 of its palette is a dot.
	Raster *image.Paletted
}

// Names lists the commands' names in order, for assertions.
func (d *Doc) Names() []string {
	n := make([]string, len(d.Commands))
	for i, c := range d.Commands {
		n[i] = c.Name
	}
	return n
}

// PNG is the raster as a PNG file, as the paper would show it.
func (d *Doc) PNG() ([]byte, error) {
	if d.Raster == nil {
		return nil, errors.New("escpostest: the stream has no raster image")
	}
	var b bytes.Buffer
	err := png.Encode(&b, d.Raster)
	return b.Bytes(), err
}

// Paper is the palette of decoded rasters: paper, dot.
var Paper = color.Palette{color.Gray{Y: 0xff}, color.Gray{Y: 0}}

// Limits that no receipt printer exceeds, so a garbage stream cannot make
// the decoder allocate without bound: 832 dots is 112 mm paper.
const (
	maxWidthBytes = 128
	maxRows       = 1 << 16
)

// errShort: the stream ends inside a command (the fake printer waits for
// more).
var errShort = errors.New("escpostest: stream ends inside a command")

// band is a GS v 0 image before stacking.
type band struct {
	widthBytes, rows int
	data             []byte
}

// Decode parses a whole stream. Anything that is not one of the commands
// the receipt printer code sends is an error naming its offset, so a test
// catches garbage.
func Decode(stream []byte) (*Doc, error) {
	doc := &Doc{}
	var bands []band
	rows := 0
	for off := 0; off < len(stream); {
		cmd, b, n, err := parse(stream[off:])
		if err != nil {
			return nil, fmt.Errorf("offset %d: %w", off, err)
		}
		cmd.Offset = off
		doc.Commands = append(doc.Commands, cmd)
		if b != nil {
			if rows += b.rows; rows > maxRows {
				return nil, fmt.Errorf("offset %d: more than %d raster rows", off, maxRows)
			}
			bands = append(bands, *b)
		}
		off += n
	}
	doc.Raster = stack(bands, rows)
	return doc, nil
}

// parse reads the command at the start of b: its length, and its band for
// GS v 0.
func parse(b []byte) (Command, *band, int, error) {
	need := func(n int) error {
		if len(b) < n {
			return errShort
		}
		return nil
	}
	if err := need(2); err != nil {
		return Command{}, nil, 0, err
	}
	switch {
	case b[0] == 0x1b && b[1] == '@':
		return Command{Name: "ESC @"}, nil, 2, nil
	case b[0] == 0x1b && b[1] == 'd':
		if err := need(3); err != nil {
			return Command{}, nil, 0, err
		}
		return Command{Name: "ESC d", Arg: int(b[2])}, nil, 3, nil
	case b[0] == 0x10 && b[1] == 0x04:
		if err := need(3); err != nil {
			return Command{}, nil, 0, err
		}
		if n := b[2]; n < 1 || n > 4 {
			return Command{}, nil, 0, fmt.Errorf("DLE EOT %d: n must be 1 to 4", n)
		}
		return Command{Name: "DLE EOT", Arg: int(b[2])}, nil, 3, nil
	case b[0] == 0x1d && b[1] == 'V':
		if err := need(3); err != nil {
			return Command{}, nil, 0, err
		}
		switch m := b[2]; m {
		case 0, 1, 48, 49:
			return Command{Name: "GS V", Arg: int(m)}, nil, 3, nil
		case 65, 66:
			if err := need(4); err != nil {
				return Command{}, nil, 0, err
			}
			return Command{Name: "GS V", Arg: int(m)}, nil, 4, nil
		default:
			return Command{}, nil, 0, fmt.Errorf("GS V %d: not a cut mode", m)
		}
	case b[0] == 0x1d && b[1] == 'v':
		if err := need(8); err != nil {
			return Command{}, nil, 0, err
		}
		if b[2] != '0' {
			return Command{}, nil, 0, fmt.Errorf("GS v %#x: only GS v 0 is a raster command", b[2])
		}
		if m := b[3]; m != 0 && m != 48 {
			return Command{}, nil, 0, fmt.Errorf("GS v 0 mode %d: only normal density (0) is sent", m)
		}
		w := int(b[4]) | int(b[5])<<8
		rows := int(b[6]) | int(b[7])<<8
		if w < 1 || rows < 1 {
			return Command{}, nil, 0, fmt.Errorf("GS v 0 %d×%d bytes: empty image", w, rows)
		}
		if w > maxWidthBytes {
			return Command{}, nil, 0, fmt.Errorf("GS v 0 %d bytes wide: wider than any receipt printer (%d)", w, maxWidthBytes)
		}
		if err := need(8 + w*rows); err != nil {
			return Command{}, nil, 0, err
		}
		return Command{Name: "GS v 0", Arg: rows}, &band{w, rows, b[8 : 8+w*rows]}, 8 + w*rows, nil
	}
	return Command{}, nil, 0, fmt.Errorf("unknown bytes % x", b[:min(len(b), 4)])
}

// stack draws the bands one under the other, as the paper feeds.
func stack(bands []band, rows int) *image.Paletted {
	if len(bands) == 0 {
		return nil
	}
	width := 0
	for _, b := range bands {
		width = max(width, b.widthBytes*8)
	}
	img := image.NewPaletted(image.Rect(0, 0, width, rows), Paper)
	y := 0
	for _, b := range bands {
		for r := 0; r < b.rows; r++ {
			row := img.Pix[(y+r)*img.Stride:]
			for x := 0; x < b.widthBytes*8; x++ {
				if b.data[r*b.widthBytes+x/8]&(0x80>>(x%8)) != 0 {
					row[x] = 1
				}
			}
		}
		y += b.rows
	}
	return img
}
