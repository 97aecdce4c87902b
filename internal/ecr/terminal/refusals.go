package terminal

import (
	"log/slog"
	"time"

	"qrkiosk/internal/lan"
)

// logFirst refused requests are logged in full per interval; the rest are
// counted, so a POS (or a prober) sending bad requests cannot fill the
// disk. The LAN server's rate limit bounds how many there are at all.
const logFirst = 10

// newRefusals logs refused requests, sampled per every.
func newRefusals(log *slog.Logger, every time.Duration) *lan.Sampler {
	return lan.NewSampler(log, "ecr", logFirst, every, nil)
}
