package kiosk

import (
	"errors"
	"fmt"
)

// Reopen applies the settings as config.toml now holds them (the setup
// page has saved it) without restarting the process: the settings are
// read and checked first (check adds the window's own rules; nil: none),
// and only then is k closed — journal, gateway, relay, demo, LAN server —
// and the kiosk opened again with the options k was opened with. Settings
// with credentials leave demo mode (unless --demo forced it). The caller
// makes sure nothing uses k meanwhile: no sale live, the till held
// (Till.HoldIdle), the windows given the new kiosk. Refused settings leave
// k open and in use; if the new kiosk cannot open, the old settings are
// opened again and returned with the error.
func (k *Kiosk) Reopen(check func(Settings) error) (*Kiosk, error) {
	s, err := LoadSettings(k.opts)
	if err == nil && check != nil {
		err = check(s)
	}
	if err != nil {
		return nil, err
	}
	k.Close()
	nk, err := OpenWith(s, k.opts)
	if err == nil {
		nk.log.Info("settings applied", "demo", nk.Demo != nil, "gateway", nk.Config.Gateway)
		return nk, nil
	}
	old, err2 := OpenWith(k.Settings, k.opts)
	if err2 != nil {
		return nil, errors.Join(fmt.Errorf("the new settings: %w", err), fmt.Errorf("the previous settings again: %w", err2))
	}
	return old, fmt.Errorf("the new settings could not be applied, so the previous ones are in force again: %w", err)
}

// Check refuses window options the settings cannot honour: a full-screen
// kiosk (--kiosk) needs a PIN to close it; --demo-charge needs demo mode.
func (o WindowOptions) Check(s Settings) error {
	switch {
	case o.DemoCharge != "" && !s.Demo:
		return errors.New("--demo-charge works in demo mode only")
	case o.Kiosk && s.Config.PIN == "":
		return errors.New("QRKIOSK_PIN/pin: the kiosk runs full screen (--kiosk) and needs an exit PIN to close it: set pin in config.toml or QRKIOSK_PIN")
	}
	return nil
}

// HoldIdle holds the till (Hold) only when it has nothing under way — no
// live sale, none being recorded, no wait for a customer's code, no refund
// waiting for the manager PIN, no other hold — and reports whether it did.
// Checked and held at once: no sale can start in between.
func (t *Till) HoldIdle(reason string) bool {
	t.mu.Lock()
	if t.busyLocked() != nil {
		t.mu.Unlock()
		return false
	}
	t.holding = reason
	t.mu.Unlock()
	t.send(TillEvent{Kind: TillHeld, Why: reason})
	return true
}
