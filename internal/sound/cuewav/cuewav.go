// Package cuewav holds the kiosk's two sound cues as WAV files (16-bit
// mono PCM, 22,050 Hz), in pure Go: the kiosk's player (internal/sound)
// plays them, and the browser display serves them to the tablets, which
// play them themselves. gen.go in this folder synthesizes them (CC0, see
// LICENSE-sounds.txt).
//
// The slices are shared: callers must not modify them.
package cuewav

import _ "embed"

var (
	//go:embed paid.wav
	paid []byte
	//go:embed problem.wav
	problem []byte
)

// Paid is the chime of a payment received.
func Paid() []byte { return paid }

// Problem is the low tone of a payment that failed, expired or came late.
func Problem() []byte { return problem }
