package cli

import (
	"context"
	"errors"
	"fmt"

	"qrkiosk/internal/config"
	"qrkiosk/internal/kiosk"
	"qrkiosk/internal/probe"
)

// Exit codes of `qrkiosk config test`.
const (
	TestPassed = 0 // every configured part works
	TestFailed = 1 // at least one does not: its sentence says why
)

// configTest runs `qrkiosk config test`: the settings in force (as config
// check reads them) tested part by part with calls that move no money, one
// line each, the failing ones saying what to fix. o is the real
// gateways' but in tests.
func configTest(ctx context.Context, env Env, dataDir string, o probe.Options) int {
	s, err := kiosk.LoadSettings(kiosk.Options{DataDir: dataDir, Getenv: env.Getenv})
	var probs config.Problems
	switch {
	case errors.As(err, &probs):
		fmt.Fprintln(env.Stdout, "invalid (qrkiosk config check says more):")
		for _, p := range probs {
			fmt.Fprintln(env.Stdout, "  -", p)
		}
		return CheckInvalid
	case err != nil:
		fmt.Fprintln(env.Stdout, "invalid:", err)
		return CheckInvalid
	}
	code := TestPassed
	for _, r := range probe.All(ctx, s.Config, o) {
		mark := "ok  "
		if !r.OK {
			mark, code = "FAIL", TestFailed
		}
		fmt.Fprintf(env.Stdout, "%s %s: %s\n", mark, r.Part, r.Text)
	}
	return code
}
