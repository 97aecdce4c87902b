package kiosk

import (
	"errors"
	"fmt"

	"qrkiosk/internal/config"
	"qrkiosk/internal/setup"
)

// SetupPage is the kiosk's setup page for the owner's phone, mounted on its
// LAN server the first time it is asked for, off until opened; its URL is
// the page's address on the LAN. check is the window's own rule for
// settings (WindowOptions.Check), onEvent tells the screen what the page
// sees (from the page's goroutines). It writes the config.toml the kiosk
// reads (QRKIOSK_CONFIG, else the user's).
func (k *Kiosk) SetupPage(check func(Settings) error, onEvent func(setup.Event)) (*setup.Server, string, error) {
	k.setupMu.Lock()
	defer k.setupMu.Unlock()
	if k.setup != nil {
		return k.setup, k.LAN().URL() + "/setup/", nil
	}
	l := k.LAN()
	if err := l.Err(); err != nil {
		return nil, "", err
	}
	path, _, err := config.DefaultPath(k.getenv)
	if err != nil {
		return nil, "", fmt.Errorf("no settings file to write: %w", err)
	}
	k.setup = setup.New(setup.Options{
		Path: path, Getenv: k.getenv, Log: k.log, OnEvent: onEvent, Fingerprint: l.Fingerprint,
		Check: func(c config.Config) error {
			// The demo's 0000 goes with demo mode: without a PIN of its
			// own, the kiosk could not open this page again.
			if !c.Demo() && c.ManagerPINHash == "" {
				return errors.New("QRKIOSK_MANAGER_PIN_HASH/manager_pin_hash: set a manager PIN: once the kiosk takes real money it guards refunds and this setup page")
			}
			if check == nil {
				return nil
			}
			// As Reopen will check it: demo mode only without credentials.
			s := k.Settings
			s.Config, s.Demo = c, k.opts.ForceDemo || c.Demo()
			return check(s)
		},
	})
	k.setup.Mount(l)
	return k.setup, l.URL() + "/setup/", nil
}
