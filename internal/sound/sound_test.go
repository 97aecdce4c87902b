package sound

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

type fakeOutput struct {
	mu     sync.Mutex
	played [][]byte
	done   chan struct{}
}

func (f *fakeOutput) play(pcm []byte) {
	f.mu.Lock()
	f.played = append(f.played, pcm)
	f.mu.Unlock()
	f.done <- struct{}{}
}

func TestBundledSoundsDecode(t *testing.T) {
	for name, wav := range map[string][]byte{"paid": paidWAV, "problem": problemWAV} {
		pcm, err := decodeWAV(wav)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		// Short cues: under a second, and not silent.
		if d := time.Duration(len(pcm)/2) * time.Second / sampleRate; d < 300*time.Millisecond || d > time.Second {
			t.Errorf("%s lasts %s", name, d)
		}
		if bytes.Count(pcm, []byte{0}) == len(pcm) {
			t.Errorf("%s is silent", name)
		}
	}
	if bytes.Equal(paidWAV, problemWAV) {
		t.Error("the two cues are the same sound")
	}
	if _, err := decodeWAV([]byte("RIFF\x00\x00\x00\x00WAVEdata")); err == nil {
		t.Error("a WAV without fmt was accepted")
	}
}

func TestPlaysEachCue(t *testing.T) {
	out := &fakeOutput{done: make(chan struct{}, 4)}
	p := New(true, nil)
	p.open = func() (output, error) { return out, nil }
	p.Play(Paid)
	<-out.done
	p.Play(Problem)
	<-out.done
	if len(out.played) != 2 || !bytes.Equal(out.played[0], p.pcm[Paid]) || !bytes.Equal(out.played[1], p.pcm[Problem]) {
		t.Fatalf("played %d sounds, want the paid chime then the problem tone", len(out.played))
	}
}

// syncLog is a log the player writes from its goroutine.
type syncLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncLog) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncLog) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestNoAudioDeviceLogsOnceAndStaysSilent(t *testing.T) {
	var log syncLog
	opened := make(chan struct{}, 8)
	p := New(true, slog.New(slog.NewTextHandler(&log, nil)))
	p.open = func() (output, error) {
		opened <- struct{}{}
		return nil, errors.New("ALSA: no such device")
	}
	for range 5 {
		p.Play(Paid)
		p.Play(Problem)
	}
	<-opened
	deadline := time.Now().Add(2 * time.Second)
	for !strings.Contains(log.String(), "no audio device") && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	p.Play(Paid) // never blocks, even with nobody playing
	if n := strings.Count(log.String(), "no audio device"); n != 1 {
		t.Errorf("logged %d times, want once:\n%s", n, log.String())
	}
	if len(opened) != 0 {
		t.Error("the device was tried again after it failed")
	}
}

func TestMuted(t *testing.T) {
	p := New(false, nil)
	p.open = func() (output, error) {
		t.Error("a muted player opened the audio device")
		return nil, errors.New("muted")
	}
	p.Play(Paid)
	p.Play(Problem)
	var nilPlayer *Player
	nilPlayer.Play(Paid)
}

// TestRealOutputThroughALSA plays both cues through oto and ALSA into a
// file (ALSA's file plugin in front of its null device, made the default
// by ~/.asoundrc in a child process: oto allows one context per process):
// the real path opens, resumes and suspends the device, and the sound
// reaches it.
func TestRealOutputThroughALSA(t *testing.T) {
	if os.Getenv("SOUND_TEST_CHILD") == "1" {
		out, err := openOto()
		if err != nil {
			t.Fatal(err)
		}
		out.play(mustPCM(t, paidWAV))
		out.play(mustPCM(t, problemWAV))
		return
	}
	home := t.TempDir()
	captured := filepath.Join(home, "out.raw")
	rc := fmt.Sprintf("pcm.!default { type file slave.pcm \"null\" file %q format \"raw\" }\n", captured)
	if err := os.WriteFile(filepath.Join(home, ".asoundrc"), []byte(rc), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run", "^TestRealOutputThroughALSA$", "-test.v")
	cmd.Env = append(os.Environ(), "SOUND_TEST_CHILD=1", "HOME="+home)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	raw, err := os.ReadFile(captured)
	if err != nil {
		t.Fatal(err)
	}
	// oto hands ALSA 32-bit floats: the loudest sample written tells
	// whether the cues got there or only silence did.
	var peak float64
	for i := 0; i+4 <= len(raw); i += 4 {
		peak = max(peak, math.Abs(float64(math.Float32frombits(binary.LittleEndian.Uint32(raw[i:])))))
	}
	if peak < 0.3 {
		t.Fatalf("ALSA received %d bytes peaking at %.3f: the cues were not played", len(raw), peak)
	}
}

func mustPCM(t *testing.T, wav []byte) []byte {
	t.Helper()
	pcm, err := decodeWAV(wav)
	if err != nil {
		t.Fatal(err)
	}
	return pcm
}
