package pgtest

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
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

// Terminate drops every connection to the database of url that has the
// given application_name, as a database failover or a network cut would,
// and returns how many it dropped.
func Terminate(t testing.TB, url, applicationName string) int {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE application_name = $1 AND datname = current_database()`, applicationName).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
