package webdisplay

import (
	"log/slog"
	"time"

	"qrkiosk/internal/lan"
)

// refusedFirst refusals of a kind a minute are logged in full; the rest
// are counted and logged with that kind's next minute, so a flood of bad
// codes or tokens cannot fill the disk.
const refusedFirst = 5

// refusals samples the log of refused requests.
type refusals struct{ s *lan.Sampler }

func newRefusals(log *slog.Logger, now func() time.Time) *refusals {
	return &refusals{s: lan.NewSampler(log, "display", refusedFirst, time.Minute, now)}
}

// refused logs one refusal, sampled by msg (a constant of the code). Never
// pass a code or a token.
func (r *refusals) refused(msg string, args ...any) {
	r.s.Refuse(msg, "display: refused: "+msg, args...)
}
