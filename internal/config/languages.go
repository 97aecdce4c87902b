package config

import "qrkiosk/display/view"

// readLanguages reads the order of the customer screens' languages.
func (c *Config) readLanguages(get func(string) string) []string {
	l, err := view.ParseLanguages(get(EnvLanguages))
	if err != nil {
		return []string{EnvLanguages + "/languages " + err.Error()}
	}
	c.Languages = l
	return nil
}
