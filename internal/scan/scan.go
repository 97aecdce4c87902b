// Package scan tells a barcode scanner from a person at the cashier's
// keyboard. A USB or Bluetooth scanner in keyboard (HID) mode types the
// customer's payment code in a burst — a few milliseconds a key — and
// presses Enter; a person types tens of milliseconds a key and more. A
// burst of MinDigits digits or more ending in Enter is a scan; everything
// else is typing and goes on to the amount, in order, a moment later.
// Pure Go, no UI: the cashier pane feeds it keys and a timer.
package scan

import "time"

// A scanner's keys come at most MaxGap apart (USB HID scanners: 1–10 ms a
// key; Bluetooth ones up to about 20 ms); a person's, even rolling two
// keys, rarely under 30 ms — and never sixteen in a row.
const (
	MaxGap    = 25 * time.Millisecond
	MinDigits = 16
)

// Key is one key as the detector sees it: a rune (digits and anything
// else typed), or Enter.
type Key struct {
	Rune  rune
	Enter bool
}

// Action is what the pane does with the keys: type them (Keys, in order,
// as the cashier typed them) or charge a scanned code (Code).
type Action struct {
	Keys []Key
	Code string
}

// Detector holds keys back while they could be the start of a scan. Its
// methods are called from one goroutine (the UI's).
type Detector struct {
	held []Key
	last time.Time
}

// Press takes a key pressed at now. It returns what to do at once, and
// whether keys are held: then Flush must be called MaxGap after now (unless
// another key comes first).
func (d *Detector) Press(k Key, now time.Time) (acts []Action, held bool) {
	if len(d.held) > 0 && now.Sub(d.last) > MaxGap {
		acts = d.release()
	}
	switch {
	case k.Enter && d.burst():
		code := make([]rune, len(d.held))
		for i, h := range d.held {
			code[i] = h.Rune
		}
		d.held = nil
		return append(acts, Action{Code: string(code)}), false
	case k.Enter:
		acts = append(acts, d.release()...)
		return append(acts, Action{Keys: []Key{k}}), false
	case k.Rune >= '0' && k.Rune <= '9':
		d.held = append(d.held, k)
		d.last = now
		return acts, true
	}
	acts = append(acts, d.release()...)
	return append(acts, Action{Keys: []Key{k}}), false
}

// Flush releases the held keys as typing when no key came within MaxGap.
func (d *Detector) Flush(now time.Time) []Action {
	if len(d.held) == 0 || now.Sub(d.last) < MaxGap {
		return nil
	}
	return d.release()
}

// burst: the held keys are a scanner's code so far.
func (d *Detector) burst() bool { return len(d.held) >= MinDigits }

func (d *Detector) release() []Action {
	if len(d.held) == 0 {
		return nil
	}
	keys := d.held
	d.held = nil
	return []Action{{Keys: keys}}
}
