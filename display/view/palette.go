package view

import (
	"fmt"
	"image/color"
)

// The customer screens' palette: light whatever the device's dark mode, so
// the QR sits in white and reads as a printed code, with darker text and
// result colours than toolkits' light palettes, which are pale from a
// metre away. Every text colour has 4.5:1 contrast on white (WCAG AA).
var (
	palette = map[Tone]color.NRGBA{
		Ink:     {R: 0x1a, G: 0x1a, B: 0x1a, A: 0xff},
		Muted:   {R: 0x5f, G: 0x63, B: 0x68, A: 0xff},
		Primary: {R: 0x00, G: 0x69, B: 0x5c, A: 0xff},
		Success: {R: 0x2e, G: 0x7d, B: 0x32, A: 0xff},
		Error:   {R: 0xc6, G: 0x28, B: 0x28, A: 0xff},
		Warning: {R: 0xa8, G: 0x4a, B: 0x00, A: 0xff},
	}
	// Panel is behind the wallets' names and the QR's placeholder; Track
	// under the countdown's bar.
	Panel = color.NRGBA{R: 0xf1, G: 0xf3, B: 0xf4, A: 0xff}
	Track = color.NRGBA{R: 0xdd, G: 0xe1, B: 0xe3, A: 0xff}
)

// Color is the tone's colour on a customer screen.
func (t Tone) Color() color.NRGBA {
	if c, ok := palette[t]; ok {
		return c
	}
	return palette[Ink]
}

// Tones are the text colours' roles.
func Tones() []Tone { return []Tone{Ink, Muted, Primary, Success, Error, Warning} }

// Hex is c as CSS writes it ("#00695c").
func Hex(c color.NRGBA) string { return fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B) }
