package scan

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

// feed presses each key of s ('\n' is Enter) every gap, running the flush
// timer as the pane does, and returns what was typed and what was scanned
// (a rejected burst of n digits as "rejected n").
func feed(d *Detector, s string, gap time.Duration, at time.Time) (typed string, codes []string, end time.Time) {
	var b strings.Builder
	var flushAt time.Time
	apply := func(acts []Action) {
		for _, a := range acts {
			if a.Code != "" {
				codes = append(codes, a.Code)
			}
			if a.Rejected > 0 {
				codes = append(codes, fmt.Sprintf("rejected %d", a.Rejected))
			}
			for _, k := range a.Keys {
				if k.Enter {
					b.WriteString("⏎")
				} else {
					b.WriteRune(k.Rune)
				}
			}
		}
	}
	for _, r := range s {
		if !flushAt.IsZero() && !at.Before(flushAt) {
			apply(d.Flush(flushAt))
			flushAt = time.Time{}
		}
		acts, held := d.Press(Key{Rune: r, Enter: r == '\n'}, at)
		apply(acts)
		if held {
			flushAt = at.Add(RunGap)
		}
		at = at.Add(gap)
	}
	if !flushAt.IsZero() {
		apply(d.Flush(flushAt))
	}
	return b.String(), codes, at
}

func TestScannerBurstIsAScan(t *testing.T) {
	for _, gap := range []time.Duration{time.Millisecond, 4 * time.Millisecond, 20 * time.Millisecond} {
		var d Detector
		typed, codes, _ := feed(&d, "287654321098765432\n", gap, t0)
		if typed != "" || len(codes) != 1 || codes[0] != "287654321098765432" {
			t.Errorf("scanner at %v a key: typed %q, scanned %q", gap, typed, codes)
		}
	}
}

// A person types the amount — even very fast — and it stays amount entry:
// the digits reach the amount in order, and Enter charges.
func TestPersonTypingIsNotAScan(t *testing.T) {
	for _, gap := range []time.Duration{40 * time.Millisecond, 90 * time.Millisecond, 300 * time.Millisecond} {
		var d Detector
		typed, codes, _ := feed(&d, "8.80\n", gap, t0)
		if typed != "8.80⏎" || codes != nil {
			t.Errorf("typing at %v a key: typed %q, scanned %q", gap, typed, codes)
		}
	}
	// Even sixteen digits typed by hand are not a scan.
	var d Detector
	if typed, codes, _ := feed(&d, "1234567890123456\n", 35*time.Millisecond, t0); typed != "1234567890123456⏎" || codes != nil {
		t.Errorf("sixteen digits by hand: typed %q, scanned %q", typed, codes)
	}
}

// The amount typed before a scan stays; the scan carries only the code.
func TestAmountThenScan(t *testing.T) {
	var d Detector
	typed, _, at := feed(&d, "8.80", 120*time.Millisecond, t0)
	typed2, codes, _ := feed(&d, "287654321098765432\n", 3*time.Millisecond, at.Add(time.Second))
	if typed != "8.80" || typed2 != "" || len(codes) != 1 {
		t.Fatalf("typed %q then %q, scanned %q", typed, typed2, codes)
	}
}

// A burst too short to be a payment code (a product's barcode, a
// misread) is neither typed nor charged, and its Enter charges nothing.
func TestShortBurstIsDropped(t *testing.T) {
	var d Detector
	if typed, codes, _ := feed(&d, "4006381333931\n", 3*time.Millisecond, t0); typed != "" || len(codes) != 1 || codes[0] != "rejected 13" {
		t.Errorf("typed %q, scanned %q", typed, codes)
	}
}

// A scan split by a pause longer than any scanner makes: neither part is
// typed, and the Enter after it charges nothing.
func TestPauseBreaksABurst(t *testing.T) {
	var d Detector
	typed, codes, at := feed(&d, "28765432", 3*time.Millisecond, t0)
	typed2, codes2, _ := feed(&d, "1098765432\n", 3*time.Millisecond, at.Add(200*time.Millisecond))
	if typed+typed2 != "" || strings.Join(append(codes, codes2...), ",") != "rejected 8,rejected 10" {
		t.Errorf("typed %q, scanned %q", typed+typed2, append(codes, codes2...))
	}
}

// The UI sees keys once a frame: a scanner's keys come in batches a frame
// apart, and a stalled frame leaves one long gap. The burst is still a
// scan.
func TestBatchedAndStalledScan(t *testing.T) {
	var d Detector
	code := "287654321098765432"
	at := t0
	var got []string
	for i, r := range code + "\n" {
		if i > 0 && i%6 == 0 {
			at = at.Add(16 * time.Millisecond) // the next frame
		}
		if i == 9 {
			at = at.Add(120 * time.Millisecond) // a stalled frame
		}
		acts, _ := d.Press(Key{Rune: r, Enter: r == '\n'}, at)
		for _, a := range acts {
			if len(a.Keys) > 0 {
				t.Fatalf("keys typed: %v", a.Keys)
			}
			got = append(got, a.Code)
		}
	}
	if len(got) != 1 || got[0] != code {
		t.Fatalf("scanned %q", got)
	}
}

// A scanner set up without Enter after the code: the pause ends the scan.
func TestScanWithoutEnter(t *testing.T) {
	var d Detector
	if typed, codes, _ := feed(&d, "287654321098765432", 5*time.Millisecond, t0); typed != "" || len(codes) != 1 || codes[0] != "287654321098765432" {
		t.Errorf("typed %q, scanned %q", typed, codes)
	}
}

// A person rolling two or three keys at a scanner's pace is typing.
func TestRolledKeysAreTyping(t *testing.T) {
	var d Detector
	if typed, codes, _ := feed(&d, "100\n", 12*time.Millisecond, t0); typed != "100⏎" || codes != nil {
		t.Errorf("typed %q, scanned %q", typed, codes)
	}
}
