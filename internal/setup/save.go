package setup

import (
	"fmt"

	"qrkiosk/internal/config"
)

// Save writes f to path as config.Save does — checked as config check
// reads it, atomically, 0600, the previous version kept — with a new logo
// (nil: none) kept beside it first, under a name of its own, so that the
// check reads it as the kiosk will. A failed save leaves the settings in
// force as they were, and no new logo behind. The page's Save and
// `qrkiosk setup` both save through it.
func Save(path string, f config.File, l *Logo, getenv func(string) string) (config.Config, error) {
	if l != nil {
		if err := l.write(path); err != nil {
			return config.Config{}, fmt.Errorf("the logo could not be kept: %w", err)
		}
		f.Logo = l.name
	}
	c, err := config.Save(path, f, getenv)
	if err != nil {
		if l != nil {
			l.remove(path)
		}
		return c, err
	}
	pruneLogos(path)
	return c, nil
}
