package relay

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"qrkiosk/relay/pgtest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.StopShared()
	os.Exit(code)
}

// storeKind opens fresh stores of one implementation; reopen opens the
// same data again (a restart, or a second instance for PostgreSQL).
type storeKind struct {
	name  string
	fresh func(t *testing.T) (open func(t *testing.T) Store)
}

var storeKinds = []storeKind{
	{"sqlite", func(t *testing.T) func(t *testing.T) Store {
		dir := t.TempDir()
		return func(t *testing.T) Store { return mustOpen(t, StoreConfig{DataDir: dir}) }
	}},
	{"postgres", func(t *testing.T) func(t *testing.T) Store {
		url := pgtest.NewDatabase(t)
		return func(t *testing.T) Store { return mustOpen(t, StoreConfig{Database: url}) }
	}},
}

func mustOpen(t *testing.T, cfg StoreConfig) Store {
	t.Helper()
	st, err := OpenStore(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// forEachStore runs one behaviour against both implementations.
func forEachStore(t *testing.T, f func(t *testing.T, open func(t *testing.T) Store)) {
	for _, k := range storeKinds {
		t.Run(k.name, func(t *testing.T) { f(t, k.fresh(t)) })
	}
}

func rec(merchant, syssn, kind, otn, udid string, at time.Time) *Record {
	body := notifBody(kind, syssn, otn, udid)
	return &Record{Merchant: merchant, Gateway: "qfpay", SysSN: syssn, NotifyType: kind, OutTradeNo: otn, UDID: udid,
		Body: body, Sign: md5Sign(body, testKey), SignType: "MD5", ReceivedAt: at}
}

func mustAppend(t *testing.T, st Store, r *Record) bool {
	t.Helper()
	ok, err := st.Append(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

func syssns(rs []*Record) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.SysSN)
	}
	return out
}

func TestStoreAppendDeduplicatesPerMerchantAndGateway(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(t *testing.T) Store) {
		st := open(t)
		ctx := context.Background()
		now := time.Now()
		first := rec("shop-a", "S-1", "payment", "O-1", "K-1", now)
		if !mustAppend(t, st, first) || first.ID == 0 {
			t.Fatalf("first append: id %d", first.ID)
		}
		if mustAppend(t, st, rec("shop-a", "S-1", "payment", "O-1", "K-1", now)) {
			t.Fatal("the same notification stored twice")
		}
		// The same syssn as a refund, at another merchant, or from another
		// gateway is another notification.
		for _, r := range []*Record{
			rec("shop-a", "S-1", "refund", "O-1", "K-1", now),
			rec("shop-b", "S-1", "payment", "O-1", "K-1", now),
			func() *Record { r := rec("shop-a", "S-1", "payment", "O-1", "K-1", now); r.Gateway = "other"; return r }(),
		} {
			if !mustAppend(t, st, r) {
				t.Fatalf("%s/%s/%s/%s taken for a duplicate", r.Merchant, r.Gateway, r.SysSN, r.NotifyType)
			}
		}
		// Concurrent copies: exactly one is inserted.
		var wg sync.WaitGroup
		var mu sync.Mutex
		inserted := 0
		for range 100 {
			wg.Go(func() {
				if mustAppend(t, st, rec("shop-a", "S-race", "payment", "O-2", "K-1", now)) {
					mu.Lock()
					inserted++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if inserted != 1 {
			t.Fatalf("%d of 100 concurrent copies inserted, want 1", inserted)
		}
		if n, _ := st.Count(ctx); n != 5 {
			t.Fatalf("count %d, want 5", n)
		}
		got, err := st.After(ctx, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		if got[0].ID != first.ID || string(got[0].Body) != string(first.Body) || got[0].Sign != first.Sign ||
			got[0].SignType != "MD5" || got[0].UDID != "K-1" || got[0].Merchant != "shop-a" || got[0].Gateway != "qfpay" ||
			!got[0].ReceivedAt.Equal(now.Truncate(time.Microsecond)) {
			t.Fatalf("stored %+v, want %+v", got[0], first)
		}
	})
}

func TestStoreAfterPagesInIDOrderAndSurvivesReopen(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(t *testing.T) Store) {
		st := open(t)
		ctx := context.Background()
		if id, err := st.LastID(ctx); err != nil || id != 0 {
			t.Fatalf("empty store: last id %d, %v", id, err)
		}
		var want []string
		for i := range 25 {
			r := rec("m", fmt.Sprintf("S-%02d", i), "payment", fmt.Sprintf("O-%d", i), "", time.Now())
			mustAppend(t, st, r)
			want = append(want, r.SysSN)
		}
		var got []string
		var last int64
		for {
			page, err := st.After(ctx, last, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			for i, r := range page {
				if r.ID <= last || (i > 0 && r.ID <= page[i-1].ID) {
					t.Fatalf("ids out of order: %d after %d", r.ID, last)
				}
				last = r.ID
			}
			got = append(got, syssns(page)...)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("read back %v, want %v", got, want)
		}
		if id, _ := st.LastID(ctx); id != last {
			t.Fatalf("last id %d, want %d", id, last)
		}
		st.Close()
		again := open(t)
		if n, _ := again.Count(ctx); n != 25 {
			t.Fatalf("after reopening: %d stored, want 25", n)
		}
		if mustAppend(t, again, rec("m", "S-00", "payment", "O-0", "", time.Now())) {
			t.Fatal("a duplicate of a notification stored before the reopen was inserted")
		}
	})
}

func TestStoreReplayIsScopedAndPaged(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(t *testing.T) Store) {
		st := open(t)
		ctx := context.Background()
		now := time.Now()
		old := now.Add(-72 * time.Hour)
		for _, r := range []*Record{
			rec("shop-a", "A1", "payment", "O-A", "K-A", now),
			rec("shop-a", "A2", "refund", "O-A", "K-A", now),
			rec("shop-a", "A3", "payment", "O-A2", "K-A", old),
			rec("shop-a", "B1", "payment", "O-B", "K-B", now),
			rec("shop-a", "X1", "payment", "O-A", "K-B", now), // same out_trade_no, another device
			rec("shop-b", "C1", "payment", "O-A", "K-A", now), // same keys, another merchant
		} {
			mustAppend(t, st, r)
		}
		since := now.Add(-48 * time.Hour)
		for _, tc := range []struct {
			name string
			q    ReplayQuery
			want []string
		}{
			{"order, whole merchant", ReplayQuery{Scope: Scope{Merchant: "shop-a"}, OutTradeNo: "O-A"}, []string{"A1", "A2", "X1"}},
			{"order, one device", ReplayQuery{Scope: Scope{Merchant: "shop-a", UDID: "K-A"}, OutTradeNo: "O-A"}, []string{"A1", "A2"}},
			{"device since", ReplayQuery{Scope: Scope{Merchant: "shop-a", UDID: "K-A"}, UDID: "K-A", Since: since}, []string{"A1", "A2"}},
			{"device, older window", ReplayQuery{Scope: Scope{Merchant: "shop-a"}, UDID: "K-A", Since: old}, []string{"A1", "A2", "A3"}},
			{"order or device", ReplayQuery{Scope: Scope{Merchant: "shop-a"}, OutTradeNo: "O-B", UDID: "K-A", Since: since}, []string{"A1", "A2", "B1"}},
			{"other merchant", ReplayQuery{Scope: Scope{Merchant: "shop-b", UDID: "K-A"}, OutTradeNo: "O-A"}, []string{"C1"}},
			{"device B cannot read A's order", ReplayQuery{Scope: Scope{Merchant: "shop-a", UDID: "K-B"}, OutTradeNo: "O-A2"}, nil},
			{"nothing asked", ReplayQuery{Scope: Scope{Merchant: "shop-a"}}, nil},
		} {
			var got []string
			var after int64
			for { // pages of 2
				page, err := st.Replay(ctx, tc.q, after, 2)
				if err != nil {
					t.Fatal(err)
				}
				if len(page) > 2 {
					t.Fatalf("%s: page of %d, limit 2", tc.name, len(page))
				}
				if len(page) == 0 {
					break
				}
				for _, r := range page {
					if !tc.q.Scope.Allows(r) {
						t.Fatalf("%s: replayed %s outside scope %+v", tc.name, r.SysSN, tc.q.Scope)
					}
				}
				got = append(got, syssns(page)...)
				after = page[len(page)-1].ID
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("%s: replayed %v, want %v", tc.name, got, tc.want)
			}
		}
		for _, tc := range []struct {
			otn   string
			scope Scope
			want  bool
		}{
			{"O-A", Scope{Merchant: "shop-a", UDID: "K-A"}, true}, // X1 (K-B) and C1 (shop-b)
			{"O-A2", Scope{Merchant: "shop-a", UDID: "K-A"}, false},
			{"O-A2", Scope{Merchant: "shop-a", UDID: "K-B"}, true},
			{"O-A2", Scope{Merchant: "shop-b"}, true},
			{"O-B", Scope{Merchant: "shop-a"}, false},
			{"O-none", Scope{Merchant: "shop-a", UDID: "K-A"}, false},
		} {
			got, err := st.Foreign(ctx, tc.otn, tc.scope)
			if err != nil || got != tc.want {
				t.Errorf("Foreign(%s, %+v) = %v, %v; want %v", tc.otn, tc.scope, got, err, tc.want)
			}
		}
	})
}

// The first device to follow an order owns it; notifications that name
// no device are replayed to it alone.
func TestStoreClaims(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(t *testing.T) Store) {
		st := open(t)
		ctx := context.Background()
		now := time.Now()
		mustAppend(t, st, rec("shop-a", "N1", "payment", "O-N", "", now))    // names no device
		mustAppend(t, st, rec("shop-a", "N2", "refund", "O-N", "", now))     // its refund, the same
		mustAppend(t, st, rec("shop-a", "M1", "payment", "O-M", "K-B", now)) // names K-B
		var wg sync.WaitGroup
		owners := make([]string, 20)
		for i := range owners {
			wg.Go(func() {
				o, err := st.Claim(ctx, "shop-a", "O-N", []string{"K-A", "K-B"}[i%2])
				if err != nil {
					t.Error(err)
				}
				owners[i] = o
			})
		}
		wg.Wait()
		for _, o := range owners {
			if o != owners[0] {
				t.Fatalf("racing claims disagree on the owner: %v", owners)
			}
		}
		owner := owners[0]
		other := map[string]string{"K-A": "K-B", "K-B": "K-A"}[owner]
		if o, _ := st.Claim(ctx, "shop-a", "O-N", other); o != owner {
			t.Fatalf("a later claim took the order: %s", o)
		}
		if o, _ := st.Claim(ctx, "shop-b", "O-N", other); o != other {
			t.Fatalf("another merchant's same out_trade_no is another order: %s", o)
		}
		replay := func(scope Scope, q ReplayQuery) []string {
			q.Scope = scope
			rs, err := st.Replay(ctx, q, 0, 10)
			if err != nil {
				t.Fatal(err)
			}
			return syssns(rs)
		}
		if got := replay(Scope{"shop-a", owner}, ReplayQuery{OutTradeNo: "O-N"}); !slices.Equal(got, []string{"N1", "N2"}) {
			t.Errorf("owner's replay %v", got)
		}
		if got := replay(Scope{"shop-a", other}, ReplayQuery{OutTradeNo: "O-N"}); got != nil {
			t.Errorf("the other device replays %v of an order it does not own", got)
		}
		// A udid subscription means what the gateway attributes to the
		// device (live and replayed alike), not its claims.
		if got := replay(Scope{"shop-a", owner}, ReplayQuery{UDID: owner, Since: now.Add(-time.Hour)}); slices.Contains(got, "N1") {
			t.Errorf("device replay %v includes a claimed order the gateway names no device for", got)
		}
		// A device the gateway names owns the order whatever was claimed.
		if o, _ := st.Claim(ctx, "shop-a", "O-M", "K-A"); o != "K-B" {
			t.Errorf("K-A took the order the gateway says is K-B's: %s", o)
		}
		// A notification naming a device settles it whatever the claim.
		if f, _ := st.Foreign(ctx, "O-M", Scope{"shop-a", "K-A"}); !f {
			t.Error("K-B's order (named by the gateway) is not foreign to K-A")
		}
		if f, _ := st.Foreign(ctx, "O-N", Scope{"shop-a", other}); f {
			t.Error("an order named by no device is foreign by its notifications alone (the claim decides)")
		}
		// Claims go with the notifications they were for.
		if _, _, err := st.Prune(ctx, time.Now().Add(time.Hour), time.Nanosecond); err != nil {
			t.Fatal(err)
		}
		if o, _ := st.Claim(ctx, "shop-a", "O-N", other); o != other {
			t.Errorf("a pruned claim still owns the order: %s", o)
		}
	})
}

func TestStorePrunesOldAndReportsReady(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(t *testing.T) Store) {
		st := open(t)
		ctx := context.Background()
		for i := range pruneChunk + 3 {
			mustAppend(t, st, rec("m", fmt.Sprintf("OLD-%d", i), "payment", "O", "", time.Now().Add(-100*24*time.Hour)))
		}
		mustAppend(t, st, rec("m", "NEW", "payment", "O", "", time.Now()))
		n, ran, err := st.Prune(ctx, time.Now().Add(-90*24*time.Hour), time.Hour)
		if err != nil || !ran || n != pruneChunk+3 {
			t.Fatalf("prune: %d, ran %v, %v; want %d", n, ran, err, pruneChunk+3)
		}
		left, _ := st.After(ctx, 0, 10)
		if !slices.Equal(syssns(left), []string{"NEW"}) {
			t.Fatalf("left %v", syssns(left))
		}
		if err := st.Ready(ctx, "test-instance"); err != nil {
			t.Fatal(err)
		}
	})
}

func TestStoreTokens(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(t *testing.T) Store) {
		st := open(t)
		ctx := context.Background()
		start := time.Now().Add(-time.Minute)
		var toks []*Token
		for i, dev := range []string{"K-1", "K-1", "K-2"} {
			h := sha256.Sum256([]byte(fmt.Sprint("secret-", i)))
			tok := &Token{Hash: h[:], Merchant: "shop-a", UDID: dev, Note: "counter " + dev}
			if err := st.AddToken(ctx, tok); err != nil || tok.ID == 0 || tok.CreatedAt.IsZero() {
				t.Fatalf("add: %+v %v", tok, err)
			}
			toks = append(toks, tok)
		}
		h := sha256.Sum256([]byte("secret-1"))
		got, err := st.TokenByHash(ctx, h[:])
		if err != nil || got.ID != toks[1].ID || got.UDID != "K-1" || got.Merchant != "shop-a" || !got.RevokedAt.IsZero() {
			t.Fatalf("by hash: %+v %v", got, err)
		}
		if _, err := st.TokenByHash(ctx, []byte("nope")); !errors.Is(err, ErrTokenNotFound) {
			t.Fatalf("unknown hash: %v", err)
		}
		dup := &Token{Hash: h[:], Merchant: "m", UDID: "u"}
		if err := st.AddToken(ctx, dup); err == nil {
			t.Fatal("two tokens with one hash")
		}
		if ids, _, err := st.RevokedSince(ctx, start); err != nil || len(ids) != 0 {
			t.Fatalf("revoked before any revocation: %v %v", ids, err)
		}
		if n, err := st.RevokeTokens(ctx, toks[2].ID, "", ""); err != nil || n != 1 {
			t.Fatalf("revoke by id: %d %v", n, err)
		}
		if n, err := st.RevokeTokens(ctx, 0, "shop-a", "K-1"); err != nil || n != 2 {
			t.Fatalf("revoke a device: %d %v", n, err)
		}
		if n, _ := st.RevokeTokens(ctx, toks[2].ID, "", ""); n != 0 {
			t.Fatal("revoked twice")
		}
		ids, now, err := st.RevokedSince(ctx, start)
		slices.Sort(ids)
		if err != nil || !slices.Equal(ids, []int64{toks[0].ID, toks[1].ID, toks[2].ID}) || now.Before(start) {
			t.Fatalf("revoked since: %v %v %v", ids, now, err)
		}
		if ids, _, _ := st.RevokedSince(ctx, now.Add(time.Second)); len(ids) != 0 {
			t.Fatalf("revoked in the future: %v", ids)
		}
		list, err := st.ListTokens(ctx)
		if err != nil || len(list) != 3 || list[0].RevokedAt.IsZero() || list[0].Note != "counter K-1" {
			t.Fatalf("list: %v %v", list, err)
		}
	})
}

func TestStoreClosedRefusesAppends(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(t *testing.T) Store) {
		st := open(t)
		st.Close()
		if _, err := st.Append(context.Background(), rec("m", "S", "payment", "O", "", time.Now())); !errors.Is(err, ErrStoreClosed) {
			t.Fatalf("append after close: %v", err)
		}
	})
}

// Two instances on one database, each appending flat out: a reader that
// follows the table by id from either sees every row, none skipped, and
// the other instance's listener wakes it.
func TestPostgresInstancesSeeEveryRowInIDOrder(t *testing.T) {
	url := pgtest.NewDatabase(t)
	a := mustOpen(t, StoreConfig{Database: url})
	b := mustOpen(t, StoreConfig{Database: url})
	ctx := context.Background()
	waitListening(t, b)

	mustAppend(t, a, rec("m", "WAKE", "payment", "O", "", time.Now()))
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
	for w, st := range []Store{a, b, a, b} {
		wg.Go(func() {
			for i := range perWriter {
				mustAppend(t, st, rec("m", fmt.Sprintf("W%d-%d", w, i), "payment", "O", "", time.Now()))
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

func waitListening(t *testing.T, st Store) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !st.(*pgStore).Listening() {
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
	a := mustOpen(t, StoreConfig{Database: url})
	b := mustOpen(t, StoreConfig{Database: url})
	waitListening(t, b)
	for len(b.Changed()) > 0 {
		<-b.Changed()
	}
	if n := terminateListeners(t, url); n < 2 {
		t.Fatalf("terminated %d listener connections, want 2", n)
	}
	select {
	case <-b.Changed():
	case <-time.After(15 * time.Second):
		t.Fatal("no catch-up signal after the listener reconnected")
	}
	waitListening(t, b)
	mustAppend(t, a, rec("m", "AFTER", "payment", "O", "", time.Now()))
	select {
	case <-b.Changed():
	case <-time.After(10 * time.Second):
		t.Fatal("the reconnected listener hears nothing")
	}
}

// terminateListeners drops every relay LISTEN connection to the database
// of url, as a database failover or a network cut would.
func terminateListeners(t *testing.T, url string) int {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE application_name = 'qrkiosk-relay-listen' AND datname = current_database()`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// Instances starting together migrate once; pruning runs on one of them
// per period.
func TestPostgresMigrationsAndPruningOnceAcrossInstances(t *testing.T) {
	url := pgtest.NewDatabase(t)
	var wg sync.WaitGroup
	stores := make([]Store, 4)
	for i := range stores {
		wg.Go(func() { stores[i] = mustOpen(t, StoreConfig{Database: url}) })
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
		mustAppend(t, stores[0], rec("m", fmt.Sprint("OLD-", i), "payment", "O", "", time.Now().Add(-200*24*time.Hour)))
	}
	ran := make([]bool, len(stores))
	deleted := make([]int64, len(stores))
	for i, st := range stores {
		wg.Go(func() {
			n, r, err := st.Prune(ctx, time.Now().Add(-90*24*time.Hour), time.Hour)
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
	if _, r, _ := stores[2].Prune(ctx, time.Now(), time.Hour); r {
		t.Fatal("pruned again within the period")
	}
	if _, r, _ := stores[2].Prune(ctx, time.Now(), time.Nanosecond); !r {
		t.Fatal("the next period's pruning did not run")
	}
}

// A journal written before schema versioning keeps its notifications
// (they become the one-shop merchant's), is private, and is locked.
func TestSQLiteMigratesOldJournalLocksAndIsPrivate(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, JournalFile)
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	body := notifBody("payment", "S-OLD", "O-OLD", "K-OLD")
	if _, err := db.Exec(sqliteMigrations[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO notifications (syssn, notify_type, out_trade_no, udid, body, sign, sign_type, received_at)
		VALUES ('S-OLD', 'payment', 'O-OLD', 'K-OLD', ?, ?, 'MD5', ?)`, body, md5Sign(body, testKey), time.Now().UnixNano()); err != nil {
		t.Fatal(err)
	}
	db.Close()
	os.Chmod(path, 0o644)

	st := mustOpen(t, StoreConfig{DataDir: dir, Lock: true})
	got, err := st.Replay(context.Background(), ReplayQuery{Scope: Scope{Merchant: DefaultMerchant}, OutTradeNo: "O-OLD"}, 0, 10)
	if err != nil || len(got) != 1 || got[0].Gateway != "qfpay" || string(got[0].Body) != string(body) {
		t.Fatalf("old notification after migration: %+v %v", got, err)
	}
	if mustAppend(t, st, rec(DefaultMerchant, "S-OLD", "payment", "O-OLD", "K-OLD", time.Now())) {
		t.Fatal("the old notification's duplicate was inserted")
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("journal mode %v, want 0600", fi.Mode().Perm())
	}
	_, err = OpenStore(context.Background(), StoreConfig{DataDir: dir, Lock: true})
	if err == nil || !strings.Contains(err.Error(), "in use by another qrkiosk-relay") {
		t.Fatalf("second relay on the same directory: %v", err)
	}
	// The token commands open it beside the relay.
	side := mustOpen(t, StoreConfig{DataDir: dir})
	if n, err := side.Count(context.Background()); err != nil || n != 1 {
		t.Fatalf("side open: %d %v", n, err)
	}

	fresh := t.TempDir()
	mustOpen(t, StoreConfig{DataDir: fresh})
	if fi, err := os.Stat(filepath.Join(fresh, JournalFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("new journal: %v %v, want mode 0600", fi, err)
	}
}
