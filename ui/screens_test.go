package ui

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"qrkiosk/internal/pin"
	"qrkiosk/internal/sound"
	"qrkiosk/payment"
	"qrkiosk/payment/qfpay"
)

// TestExitPINOnTheScreensKeypad: the --kiosk exit PIN is typed on its
// own on-screen keys (a counter may have no keyboard), one dialog at a
// time: asking again while it shows opens nothing, and a wrong PIN says
// so in the same dialog instead of stacking another.
func TestExitPINOnTheScreensKeypad(t *testing.T) {
	h := newHarness(t, harnessOpt{})
	quits := 0
	g := pin.NewGuard(nil)
	ask := func() { h.c.dialogs.askExitPIN("2468", g, slog.New(slog.DiscardHandler), func() { quits++ }) }
	ask()
	first := h.c.dialogs.modal
	if first == nil || len(h.w.Canvas().Overlays().List()) != 1 {
		t.Fatal("no PIN dialog")
	}
	ask()
	if h.c.dialogs.modal != first || len(h.w.Canvas().Overlays().List()) != 1 {
		t.Fatal("a second PIN dialog opened over the first")
	}
	for _, k := range "1111" {
		test.Tap(first.keys[string(k)])
	}
	test.Tap(first.ok)
	if quits != 0 || !strings.Contains(first.message.Text, "Wrong PIN") || h.c.dialogs.modal != first || len(h.w.Canvas().Overlays().List()) != 1 {
		t.Fatalf("wrong PIN: quit %d, message %q, dialogs %d", quits, first.message.Text, len(h.w.Canvas().Overlays().List()))
	}
	// The keypad's keys, and the keyboard, type into the dialog, not
	// into the amount.
	for _, k := range "24" {
		test.Tap(first.keys[string(k)])
	}
	h.typeText("68")
	if h.c.amount.typed != "" {
		t.Fatalf("the PIN went into the amount: %q", h.c.amount.typed)
	}
	if s := first.ok.MinSize(); first.ok.Size().Height < minTouch || s.Width > first.ok.Size().Width {
		t.Errorf("Exit button %v", first.ok.Size())
	}
	h.w.Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyReturn})
	if quits != 1 || h.c.dialogs.modal != nil {
		t.Fatalf("right PIN: quit %d, dialog still open %v", quits, h.c.dialogs.modal != nil)
	}
}

// TestTabletAsksManagerPINForToday: on the tablet, whose screen faces
// customers, Today & refunds (all the day's sales) opens only after the
// manager PIN.
func TestTabletAsksManagerPINForToday(t *testing.T) {
	h := newHarness(t, harnessOpt{single: true, pinHash: testPINHash(t, "2468")})
	h.sale("12", 0, true)
	h.single.showKeypad()
	test.Tap(h.c.tabs.historyTab)
	if h.c.tabs.history.content.Visible() || h.c.dialogs.modal == nil {
		t.Fatal("today's sales shown without the manager PIN")
	}
	pad := h.c.dialogs.modal
	for _, k := range "1111" {
		test.Tap(pad.keys[string(k)])
	}
	test.Tap(pad.ok)
	h.pump("the wrong PIN's answer", func() bool { return !pad.busy })
	if h.c.tabs.history.content.Visible() || !strings.Contains(pad.message.Text, "Wrong manager PIN") {
		t.Fatalf("wrong PIN: history shown %v, message %q", h.c.tabs.history.content.Visible(), pad.message.Text)
	}
	for _, k := range "2468" {
		test.Tap(pad.keys[string(k)])
	}
	test.Tap(pad.ok)
	h.pump("the history", func() bool { return h.c.tabs.history.content.Visible() })
	if h.c.dialogs.modal != nil || len(h.c.tabs.history.rows) != 1 {
		t.Fatalf("after the PIN: dialog %v, rows %d", h.c.dialogs.modal != nil, len(h.c.tabs.history.rows))
	}
	// Back to Sale and again: asked again.
	test.Tap(h.c.tabs.saleTab)
	test.Tap(h.c.tabs.historyTab)
	if h.c.tabs.history.content.Visible() || h.c.dialogs.modal == nil {
		t.Fatal("the second visit did not ask for the PIN")
	}
}

// TestTabletResultTapsAway: the tablet's result screen goes back to the
// keypad at a tap anywhere on it, and its keypad screen is marked DEMO.
func TestTabletResultTapsAway(t *testing.T) {
	h := newHarness(t, harnessOpt{single: true, demo: true})
	if h.c.demo.mark == nil || !h.c.demo.mark.Visible() {
		t.Fatal("the tablet's keypad screen is not marked DEMO")
	}
	h.sale("12", 0, true)
	if h.single.keypad.Visible() || !h.single.tapAway.Visible() {
		t.Fatal("the result is not on the screen")
	}
	test.Tap(h.single.tapAway)
	if !h.single.keypad.Visible() {
		t.Fatal("a tap on the result did not bring the keypad back")
	}
}

// TestSoundCues: a chime when paid, the problem tone when failed or
// expired, nothing when the cashier cancels.
func TestSoundCues(t *testing.T) {
	for _, tc := range []struct {
		name string
		end  func(h *harness, s payment.Snapshot)
		want []sound.Cue
	}{
		{"paid", func(h *harness, s payment.Snapshot) { h.gw.Pay(s.OutTradeNo); h.tick(2 * time.Second) }, []sound.Cue{sound.Paid}},
		{"failed", func(h *harness, s payment.Snapshot) {
			h.gw.Decline(s.OutTradeNo, qfpay.CodeInsufficientBalance)
			h.tick(2 * time.Second)
		}, []sound.Cue{sound.Problem}},
		{"expired", func(h *harness, s payment.Snapshot) { h.tick(5 * time.Minute) }, []sound.Cue{sound.Problem}},
		{"cancelled", func(h *harness, s payment.Snapshot) { test.Tap(h.c.keypad.cancel) }, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, harnessOpt{})
			var played []sound.Cue
			h.c.deps.Sound = func(c sound.Cue) { played = append(played, c) }
			h.tapKeys("9")
			test.Tap(h.c.keypad.charge)
			tc.end(h, h.awaiting())
			h.ready()
			if len(played) != len(tc.want) || (len(played) == 1 && played[0] != tc.want[0]) {
				t.Errorf("played %v, want %v", played, tc.want)
			}
		})
	}
}
