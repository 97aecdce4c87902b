package pgtest

import (
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
)

var (
	sharedOnce sync.Once
	shared     *Cluster
	sharedErr  error
	dbSeq      atomic.Int64
)

// Shared is one cluster per test binary, started on first use; call
// StopShared from TestMain after m.Run. If PostgreSQL is not installed the
// test fails with how to install it, unless QRKIOSK_TEST_SKIP_POSTGRES=1
// asks to skip it.
func Shared(t testing.TB) *Cluster {
	t.Helper()
	sharedOnce.Do(func() { shared, sharedErr = Start(Options{}) })
	if sharedErr != nil {
		if os.Getenv(SkipEnv) == "1" {
			t.Skipf("PostgreSQL tests skipped (%s=1): %v", SkipEnv, sharedErr)
		}
		t.Fatalf("%v\n(to skip the PostgreSQL tests on a development machine, set %s=1)", sharedErr, SkipEnv)
	}
	return shared
}

// NewDatabase creates a fresh database in the shared cluster and returns
// its URL.
func NewDatabase(t testing.TB) string {
	t.Helper()
	c := Shared(t)
	url, err := c.CreateDatabase(fmt.Sprintf("t%d_%d", os.Getpid(), dbSeq.Add(1)))
	if err != nil {
		t.Fatal(err)
	}
	return url
}

// StopShared stops the shared cluster if one was started.
func StopShared() {
	if shared != nil {
		shared.Stop()
	}
}
