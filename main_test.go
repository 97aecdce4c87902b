package main

import "testing"

func TestGUIOrSubcommand(t *testing.T) {
	for _, tc := range []struct {
		args []string
		gui  bool
	}{
		{nil, true},
		{[]string{"--layout", "single"}, true},
		{[]string{"--data", "/tmp/d"}, true},
		{[]string{"--data=/tmp/d", "--demo"}, true},
		{[]string{"--data", "/tmp/d", "--kiosk"}, true},
		{[]string{"--data", "/tmp/d", "history"}, false},
		{[]string{"-data=/tmp/d", "refund", "--out-trade-no", "X"}, false},
		{[]string{"history", "--data", "/tmp/d"}, false},
		{[]string{"config", "check"}, false},
		{[]string{"--help"}, false},
	} {
		if got := gui(tc.args); got != tc.gui {
			t.Errorf("gui(%q) = %v, want %v", tc.args, got, tc.gui)
		}
	}
}
