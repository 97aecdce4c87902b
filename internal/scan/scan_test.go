package scan

import (
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

// feed presses each key of s ('\n' is Enter) every gap, running the flush
// timer as the pane does, and returns what was typed and what was scanned.
func feed(d *Detector, s string, gap time.Duration, at time.Time) (typed string, codes []string, end time.Time) {
	var b strings.Builder
	var flushAt time.Time
	apply := func(acts []Action) {
		for _, a := range acts {
			if a.Code != "" {
				codes = append(codes, a.Code)
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
			flushAt = at.Add(MaxGap)
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

// A burst too short to be a payment code (a misread, a product barcode)
// is typing: the pane's amount rules refuse what does not fit.
func TestShortBurstIsTyping(t *testing.T) {
	var d Detector
	if typed, codes, _ := feed(&d, "4006381333931\n", 3*time.Millisecond, t0); typed != "4006381333931⏎" || codes != nil {
		t.Errorf("typed %q, scanned %q", typed, codes)
	}
}

// A pause inside a burst breaks it: the keys before the pause were typing.
func TestPauseBreaksABurst(t *testing.T) {
	var d Detector
	typed, _, at := feed(&d, "28765432", 3*time.Millisecond, t0)
	typed2, codes, _ := feed(&d, "1098765432\n", 3*time.Millisecond, at.Add(200*time.Millisecond))
	if typed+typed2 != "287654321098765432⏎" || codes != nil {
		t.Errorf("typed %q, scanned %q", typed+typed2, codes)
	}
}
