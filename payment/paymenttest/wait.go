package paymenttest

import (
	"testing"
	"time"
)

// Eventually waits, in real time, until cond holds, and fails the test
// after within: for what another goroutine does (a server answering, a
// machine reaching a state), never to let "nothing happen".
func Eventually(t testing.TB, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
