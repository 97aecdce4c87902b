package pgstore

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"qrkiosk/relay/internal/storetest"
	"qrkiosk/relay/pgtest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.StopShared()
	os.Exit(code)
}

func mustOpen(t *testing.T, url string) *Store {
	t.Helper()
	st, err := Open(context.Background(), url, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// Two instances on one database, each appending flat out: a reader that
// follows the table by id from either sees every row, none skipped, and
// the other instance's listener wakes it.
func TestPostgresInstancesSeeEveryRowInIDOrder(t *testing.T) {
	url := pgtest.NewDatabase(t)
	a := mustOpen(t, url)
	b := mustOpen(t, url)
	ctx := context.Background()
	waitListening(t, b)

	storetest.MustAppend(t, a, storetest.Record("m", "WAKE", "payment", "O", "", time.Now()))
	select {
	case <-b.Changed():
	case <-time.After(10 * time.Second):
		t.Fatal("instance b was not told of a's commit")
	}

	const perWriter = 400
	stop := make(chan struct{})
	seen := make(chan []int64)
	go func() { // follows the table like the fan-out does
		var ids []int64
		var last int64
		for {
			stopped := false
			select {
			case <-stop:
				stopped = true // every append has returned: one more empty page means all seen
			default:
			}
			page, err := b.After(ctx, last, 50)
			if err != nil {
				t.Error(err)
			}
			for _, r := range page {
				ids = append(ids, r.ID)
				last = r.ID
			}
			if len(page) == 0 && stopped {
				seen <- ids
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for w, st := range []*Store{a, b, a, b} {
		wg.Go(func() {
			for i := range perWriter {
				storetest.MustAppend(t, st, storetest.Record("m", fmt.Sprintf("W%d-%d", w, i), "payment", "O", "", time.Now()))
			}
		})
	}
	wg.Wait()
	close(stop)
	ids := <-seen
	all, err := a.After(ctx, 0, 10*perWriter)
	if err != nil {
		t.Fatal(err)
	}
	var want []int64
	for _, r := range all {
		want = append(want, r.ID)
	}
	if len(want) != 4*perWriter+1 {
		t.Fatalf("%d rows stored, want %d", len(want), 4*perWriter+1)
	}
	if !slices.Equal(ids, want) {
		t.Fatalf("the follower saw %d ids, the table has %d: a row committed out of id order was skipped", len(ids), len(want))
	}
}

func waitListening(t *testing.T, st *Store) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, up := st.Listener(); up {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("listener not up")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A dropped LISTEN connection is re-established and signals once, so the
// instance catches up on what it may have missed meanwhile.
func TestPostgresListenerReconnects(t *testing.T) {
	url := pgtest.NewDatabase(t)
	a := mustOpen(t, url)
	b := mustOpen(t, url)
	waitListening(t, b)
	for len(b.Changed()) > 0 {
		<-b.Changed()
	}
	if n := pgtest.Terminate(t, url, "qrkiosk-relay-listen"); n < 2 {
		t.Fatalf("terminated %d listener connections, want 2", n)
	}
	select {
	case <-b.Changed():
	case <-time.After(15 * time.Second):
		t.Fatal("no catch-up signal after the listener reconnected")
	}
	waitListening(t, b)
	storetest.MustAppend(t, a, storetest.Record("m", "AFTER", "payment", "O", "", time.Now()))
	select {
	case <-b.Changed():
	case <-time.After(10 * time.Second):
		t.Fatal("the reconnected listener hears nothing")
	}
}

// Instances starting together migrate once; pruning runs on one of them
// per period.
func TestPostgresMigrationsAndPruningOnceAcrossInstances(t *testing.T) {
	url := pgtest.NewDatabase(t)
	var wg sync.WaitGroup
	stores := make([]*Store, 4)
	for i := range stores {
		wg.Go(func() { stores[i] = mustOpen(t, url) })
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var versions, maxV int
	conn.QueryRow(ctx, `SELECT count(*), max(version) FROM schema_migrations`).Scan(&versions, &maxV)
	if versions != len(pgMigrations) || maxV != len(pgMigrations) {
		t.Fatalf("schema_migrations has %d rows up to %d, want %d", versions, maxV, len(pgMigrations))
	}
	for i := range 10 {
		storetest.MustAppend(t, stores[0], storetest.Record("m", fmt.Sprint("OLD-", i), "payment", "O", "", time.Now().Add(-200*24*time.Hour)))
	}
	ran := make([]bool, len(stores))
	deleted := make([]int64, len(stores))
	for i, st := range stores {
		wg.Go(func() {
			n, r, err := st.Prune(ctx, time.Now().Add(-90*24*time.Hour), 0, time.Hour)
			if err != nil {
				t.Error(err)
			}
			ran[i], deleted[i] = r, n
		})
	}
	wg.Wait()
	runs, total := 0, int64(0)
	for i := range stores {
		if ran[i] {
			runs++
		}
		total += deleted[i]
	}
	if runs != 1 || total != 10 {
		t.Fatalf("%d instances pruned (%d rows); want exactly one pruning all 10", runs, total)
	}
	if _, r, _ := stores[2].Prune(ctx, time.Now(), 0, time.Hour); r {
		t.Fatal("pruned again within the period")
	}
	if _, r, _ := stores[2].Prune(ctx, time.Now(), 0, time.Nanosecond); !r {
		t.Fatal("the next period's pruning did not run")
	}
}
