// Package sound plays the kiosk's two cues: a short chime when a payment
// is received and a distinct low tone when one fails, expires or arrives
// late. Both are synthesized by cuewav/gen.go (CC0, see
// cuewav/LICENSE-sounds.txt) and embedded there.
//
// Audio goes through Ebitengine's oto (ALSA on Linux). The device is opened
// at the first cue, not at start, and suspended between cues, so an idle
// kiosk spends nothing on sound. A machine without an audio device plays
// nothing and says so once in the log.
package sound

import (
	"bytes"
	"encoding/binary"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/ebitengine/oto/v3"

	"qrkiosk/internal/sound/cuewav"
)

// Cue is a sound the kiosk plays.
type Cue int

const (
	// Paid: the customer's payment was received.
	Paid Cue = iota + 1
	// Problem: a payment failed or expired, or one arrived after the
	// screen showed the sale unpaid.
	Problem
)

func (c Cue) String() string {
	switch c {
	case Paid:
		return "paid"
	case Problem:
		return "problem"
	}
	return "none"
}

var (
	paidWAV    = cuewav.Paid()
	problemWAV = cuewav.Problem()
)

// Format of the embedded sounds.
const (
	sampleRate = 22050
	channels   = 1
)

// Player plays cues, one at a time; a cue that comes while another plays
// waits its turn. The zero value is not usable: use New.
type Player struct {
	log   *slog.Logger
	queue chan Cue
	pcm   map[Cue][]byte
	// open starts the audio output; a test replaces it.
	open func() (output, error)
}

// output is an opened audio device.
type output interface {
	// play plays pcm to the end.
	play(pcm []byte)
}

// New returns a Player; enabled false (the `sound = false` setting) makes
// one that plays nothing. Play never blocks.
func New(enabled bool, log *slog.Logger) *Player {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p := &Player{log: log, open: openOto}
	if !enabled {
		log.Info("sound is off (sound = false)")
		return p
	}
	p.pcm = map[Cue][]byte{}
	for c, wav := range map[Cue][]byte{Paid: paidWAV, Problem: problemWAV} {
		pcm, err := decodeWAV(wav)
		if err != nil {
			panic("sound: bundled " + c.String() + ".wav: " + err.Error())
		}
		p.pcm[c] = pcm
	}
	p.queue = make(chan Cue, 4)
	go p.run()
	return p
}

// Play plays c in the background. Cues beyond a few waiting are dropped:
// a burst of events is one sound, not a queue of them.
func (p *Player) Play(c Cue) {
	if p == nil || p.queue == nil {
		return
	}
	select {
	case p.queue <- c:
	default:
	}
}

func (p *Player) run() {
	var out output
	for c := range p.queue {
		if out == nil {
			o, err := p.open()
			if err != nil {
				// Once: every cue after this is dropped silently.
				p.log.Warn("no audio device: the kiosk runs without sound", "err", err)
				for range p.queue {
				}
				return
			}
			out = o
		}
		out.play(p.pcm[c])
	}
}

// oto allows one context per process.
var (
	otoOnce sync.Once
	otoCtx  *oto.Context
	otoErr  error
)

type otoOutput struct{ ctx *oto.Context }

func openOto() (output, error) {
	otoOnce.Do(func() {
		ctx, ready, err := oto.NewContext(&oto.NewContextOptions{SampleRate: sampleRate, ChannelCount: channels, Format: oto.FormatSignedInt16LE})
		if err != nil {
			otoErr = err
			return
		}
		<-ready
		if err := ctx.Err(); err != nil {
			otoErr = err
			return
		}
		// Between cues the device is suspended: oto would otherwise
		// write silence to it all the time.
		otoErr = ctx.Suspend()
		otoCtx = ctx
	})
	if otoErr != nil {
		return nil, otoErr
	}
	return otoOutput{otoCtx}, nil
}

func (o otoOutput) play(pcm []byte) {
	if err := o.ctx.Resume(); err != nil {
		return
	}
	pl := o.ctx.NewPlayer(bytes.NewReader(pcm))
	pl.Play()
	for pl.IsPlaying() {
		time.Sleep(20 * time.Millisecond)
	}
	pl.Close()
	// Let the device drain what oto has buffered before suspending it.
	time.Sleep(100 * time.Millisecond)
	o.ctx.Suspend()
}

// decodeWAV returns the samples of a 16-bit mono PCM WAV at sampleRate.
func decodeWAV(b []byte) ([]byte, error) {
	if len(b) < 12 || string(b[:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return nil, errors.New("not a WAV file")
	}
	var fmtOK bool
	for i := 12; i+8 <= len(b); {
		id, n := string(b[i:i+4]), int(binary.LittleEndian.Uint32(b[i+4:]))
		body := b[i+8 : min(i+8+n, len(b))]
		switch id {
		case "fmt ":
			if len(body) < 16 || binary.LittleEndian.Uint16(body[0:]) != 1 || binary.LittleEndian.Uint16(body[2:]) != channels ||
				binary.LittleEndian.Uint32(body[4:]) != sampleRate || binary.LittleEndian.Uint16(body[14:]) != 16 {
				return nil, errors.New("not 16-bit mono PCM at 22,050 Hz")
			}
			fmtOK = true
		case "data":
			if !fmtOK {
				return nil, errors.New("data before fmt")
			}
			return body, nil
		}
		i += 8 + n + n%2
	}
	return nil, errors.New("no data chunk")
}
