//go:build ignore

// gen synthesizes the kiosk's two sounds into WAV files (16-bit mono,
// 22,050 Hz), so that they are ours to license: go run gen.go
//
//	paid.wav     a short rising two-note bell chime (G5 then C6), 0.8 s
//	problem.wav  two falling low tones with a buzz (A4 then E4), 0.5 s
package main

import (
	"encoding/binary"
	"log"
	"math"
	"os"
)

const rate = 22050

func main() {
	write("paid.wav", chime())
	write("problem.wav", problem())
}

// bell is a struck note: a few inharmonic partials, each decaying.
func bell(buf []float64, start, f, gain float64) {
	partials := []struct{ ratio, amp, decay float64 }{{1, 1, 5}, {2.0, 0.35, 8}, {3.0, 0.12, 12}, {4.2, 0.06, 16}}
	for i := int(start * rate); i < len(buf); i++ {
		t := float64(i)/rate - start
		attack := math.Min(t/0.004, 1)
		for _, p := range partials {
			buf[i] += gain * p.amp * attack * math.Exp(-p.decay*t) * math.Sin(2*math.Pi*f*p.ratio*t)
		}
	}
}

func chime() []float64 {
	buf := make([]float64, int(0.8*rate))
	bell(buf, 0, 783.99, 0.38)
	bell(buf, 0.13, 1046.5, 0.42)
	return fade(buf, 0.05)
}

// tone is a held note with odd harmonics (a soft buzz), smooth at both ends.
func tone(buf []float64, start, length, f, gain float64) {
	for i := int(start * rate); i < int((start+length)*rate) && i < len(buf); i++ {
		t := float64(i)/rate - start
		env := math.Min(math.Min(t/0.01, (length-t)/0.03), 1)
		v := math.Sin(2*math.Pi*f*t) + 0.3*math.Sin(2*math.Pi*3*f*t) + 0.12*math.Sin(2*math.Pi*5*f*t)
		buf[i] += gain * env * v
	}
}

func problem() []float64 {
	buf := make([]float64, int(0.5*rate))
	tone(buf, 0, 0.2, 440, 0.45)
	tone(buf, 0.25, 0.24, 329.63, 0.45)
	return buf
}

// fade ends the sound on silence over the last d seconds.
func fade(buf []float64, d float64) []float64 {
	n := int(d * rate)
	for i := 0; i < n; i++ {
		buf[len(buf)-1-i] *= float64(i) / float64(n)
	}
	return buf
}

func write(name string, buf []float64) {
	pcm := make([]byte, 2*len(buf))
	for i, v := range buf {
		binary.LittleEndian.PutUint16(pcm[2*i:], uint16(int16(math.Max(-1, math.Min(1, v))*32767)))
	}
	h := make([]byte, 44)
	copy(h, "RIFF")
	binary.LittleEndian.PutUint32(h[4:], uint32(36+len(pcm)))
	copy(h[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(h[16:], 16)
	binary.LittleEndian.PutUint16(h[20:], 1) // PCM
	binary.LittleEndian.PutUint16(h[22:], 1) // mono
	binary.LittleEndian.PutUint32(h[24:], rate)
	binary.LittleEndian.PutUint32(h[28:], rate*2)
	binary.LittleEndian.PutUint16(h[32:], 2)
	binary.LittleEndian.PutUint16(h[34:], 16)
	copy(h[36:], "data")
	binary.LittleEndian.PutUint32(h[40:], uint32(len(pcm)))
	if err := os.WriteFile(name, append(h, pcm...), 0o644); err != nil {
		log.Fatal(err)
	}
}
