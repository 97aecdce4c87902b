package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A bad --retain-days is refused with the flag and the rule named, exit 64,
// before anything is opened or created.
func TestRetainDaysIsValidated(t *testing.T) {
	for _, c := range []struct {
		arg, want string
	}{
		{"3", "at least 7"},
		{"-1", "at least 7"},
		{"ninety", "whole number of days"},
		{"1.5", "whole number of days"},
		{"999999", "more than 100 years"},
	} {
		data := filepath.Join(t.TempDir(), "journal")
		var stdout, stderr bytes.Buffer
		code := run([]string{"--qfpay-key", "k", "--token", "t", "--data", data, "--listen", "127.0.0.1:0",
			"--retain-days", c.arg}, &stdout, &stderr)
		if code != exitUsage || !strings.Contains(stderr.String(), "--retain-days") || !strings.Contains(stderr.String(), c.want) {
			t.Errorf("--retain-days %s: exit %d, stderr %q; want %d naming the flag and %q", c.arg, code, stderr.String(), exitUsage, c.want)
		}
		if _, err := os.Stat(data); !os.IsNotExist(err) {
			t.Errorf("--retain-days %s: the journal directory was created", c.arg)
		}
	}
	for arg, want := range map[string]time.Duration{"0": -1, "7": 7 * 24 * time.Hour, " 90 ": 90 * 24 * time.Hour} {
		if got, err := retainDays(arg); err != nil || got != want {
			t.Errorf("retainDays(%q) = %v, %v; want %v", arg, got, err, want)
		}
	}
}
