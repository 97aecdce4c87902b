// Package scan tells a barcode scanner from a person at the cashier's
// keyboard. A USB or Bluetooth scanner in keyboard (HID) mode types the
// customer's payment code in a burst — a few milliseconds a key — and
// (as usually set up) presses Enter; a person types a hundred
// milliseconds a key and more, and never keeps up a scanner's pace.
//
// The detector holds a run of digits until it ends — at Enter, at any
// other key, or at a pause of RunGap — and only then says what it was:
// typing (the keys go on to the amount, in order), a scanned payment code,
// or a burst too short to be one (a product's barcode, a misread), which
// is dropped. The run is judged by its average key gap, not by its
// slowest: the UI sees keys in batches, once a frame, and a stalled frame
// delays a batch, but a scanner's keys still average a few milliseconds.
// Pure Go, no UI: the cashier pane feeds it keys and a timer.
package scan

import "time"

const (
	// MaxAvgGap: a scanner's keys average at most this far apart (USB HID
	// scanners 1–10 ms a key, Bluetooth ones up to about 20 ms); a
	// person's digits, even rolled, average several times more.
	MaxAvgGap = 30 * time.Millisecond
	// RunGap: a pause this long ends a run. No scanner pauses so long
	// inside a code, and a UI frame that late is rare; a person's digits
	// show this long after the last one at most.
	RunGap = 150 * time.Millisecond
	// MinDigits is the shortest payment code (16 to 24 digits).
	MinDigits = 16
	// MinBurst is the shortest run judged by its pace: a person may roll
	// two or three keys at a scanner's speed, never four.
	MinBurst = 4
)

// Key is one key as the detector sees it: a rune (digits and anything
// else typed), or Enter.
type Key struct {
	Rune  rune
	Enter bool
}

// Action is what the pane does with the keys: type them (Keys, in order,
// as the cashier typed them), charge a scanned code (Code), or tell the
// cashier a burst of Rejected digits was no payment code (it is dropped,
// and the Enter after it too: it must not charge anything).
type Action struct {
	Keys     []Key
	Code     string
	Rejected int
}

// Detector holds a run of digits until it is judged. Its methods are
// called from one goroutine (the UI's).
type Detector struct {
	held        []Key
	first, last time.Time
}

// Press takes a key pressed at now. It returns what to do at once, and
// whether keys are held: then Flush must be called RunGap after now
// (unless another key comes first).
func (d *Detector) Press(k Key, now time.Time) (acts []Action, held bool) {
	if len(d.held) > 0 && now.Sub(d.last) >= RunGap {
		acts = d.end(nil)
	}
	if !k.Enter && k.Rune >= '0' && k.Rune <= '9' {
		if len(d.held) == 0 {
			d.first = now
		}
		d.held = append(d.held, k)
		d.last = now
		return acts, true
	}
	return append(acts, d.end(&k)...), false
}

// Flush ends the run when no key has come for RunGap (a scanner set up
// without Enter after the code ends so too).
func (d *Detector) Flush(now time.Time) []Action {
	if len(d.held) == 0 || now.Sub(d.last) < RunGap {
		return nil
	}
	return d.end(nil)
}

// Release ends the run at once: a key the detector does not see (Esc,
// Backspace) or a tap must come after it.
func (d *Detector) Release() []Action { return d.end(nil) }

// end judges the held run, ended by k (nil: by a pause or a release).
func (d *Detector) end(k *Key) []Action {
	run := d.held
	d.held = nil
	n := len(run)
	burst := n >= MinBurst && d.last.Sub(d.first) <= time.Duration(n-1)*MaxAvgGap
	var acts []Action
	switch {
	case burst && n >= MinDigits:
		code := make([]rune, n)
		for i, h := range run {
			code[i] = h.Rune
		}
		acts = append(acts, Action{Code: string(code)})
	case burst:
		acts = append(acts, Action{Rejected: n})
	case n > 0:
		acts = append(acts, Action{Keys: run})
	}
	if k != nil && !(burst && k.Enter) {
		acts = append(acts, Action{Keys: []Key{*k}})
	}
	return acts
}
