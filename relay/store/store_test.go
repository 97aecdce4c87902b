package store_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"qrkiosk/relay/internal/storesql"
	"qrkiosk/relay/internal/storetest"
	"qrkiosk/relay/pgstore"
	"qrkiosk/relay/pgtest"
	"qrkiosk/relay/sqlitestore"
	"qrkiosk/relay/store"
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
	fresh func(t *testing.T) (open func(t *testing.T) store.Store)
}

var storeKinds = []storeKind{
	{"sqlite", func(t *testing.T) func(t *testing.T) store.Store {
		dir := t.TempDir()
		return func(t *testing.T) store.Store { return openSQLite(t, dir) }
	}},
	{"postgres", func(t *testing.T) func(t *testing.T) store.Store {
		url := pgtest.NewDatabase(t)
		return func(t *testing.T) store.Store { return openPG(t, url) }
	}},
}

func openSQLite(t *testing.T, dir string) store.Store {
	t.Helper()
	st, err := sqlitestore.Open(dir, sqlitestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func openPG(t *testing.T, url string) store.Store {
	t.Helper()
	st, err := pgstore.Open(context.Background(), url, pgstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// forEachStore runs one behaviour against both implementations.
func forEachStore(t *testing.T, f func(t *testing.T, open func(t *testing.T) store.Store)) {
	for _, k := range storeKinds {
		t.Run(k.name, func(t *testing.T) { f(t, k.fresh(t)) })
	}
}

func TestStoreAppendDeduplicatesPerMerchantAndGateway(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(t *testing.T) store.Store) {
		st := open(t)
		ctx := context.Background()
		now := time.Now()
		first := storetest.Record("shop-a", "S-1", "payment", "O-1", "K-1", now)
		if !storetest.MustAppend(t, st, first) || first.ID == 0 {
			t.Fatalf("first append: id %d", first.ID)
		}
		if storetest.MustAppend(t, st, storetest.Record("shop-a", "S-1", "payment", "O-1", "K-1", now)) {
			t.Fatal("the same notification stored twice")
		}
		// The same syssn as a refund, at another merchant, or from another
		// gateway is another notification.
		for _, r := range []*store.Record{
			storetest.Record("shop-a", "S-1", "refund", "O-1", "K-1", now),
			storetest.Record("shop-b", "S-1", "payment", "O-1", "K-1", now),
			func() *store.Record {
				r := storetest.Record("shop-a", "S-1", "payment", "O-1", "K-1", now)
				r.Gateway = "other"
				return r
			}(),
		} {
			if !storetest.MustAppend(t, st, r) {
				t.Fatalf("%s/%s/%s/%s taken for a duplicate", r.Merchant, r.Gateway, r.SysSN, r.NotifyType)
			}
		}
		// Concurrent copies: exactly one is inserted.
		var wg sync.WaitGroup
		var mu sync.Mutex
		inserted := 0
		for range 100 {
			wg.Go(func() {
				if storetest.MustAppend(t, st, storetest.Record("shop-a", "S-race", "payment", "O-2", "K-1", now)) {
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
	forEachStore(t, func(t *testing.T, open func(t *testing.T) store.Store) {
		st := open(t)
		ctx := context.Background()
		if id, err := st.LastID(ctx); err != nil || id != 0 {
			t.Fatalf("empty store: last id %d, %v", id, err)
		}
		var want []string
		for i := range 25 {
			r := storetest.Record("m", fmt.Sprintf("S-%02d", i), "payment", fmt.Sprintf("O-%d", i), "", time.Now())
			storetest.MustAppend(t, st, r)
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
			got = append(got, storetest.SysSNs(page)...)
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
		if storetest.MustAppend(t, again, storetest.Record("m", "S-00", "payment", "O-0", "", time.Now())) {
			t.Fatal("a duplicate of a notification stored before the reopen was inserted")
		}
	})
}

func TestStoreReplayIsScopedAndPaged(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(t *testing.T) store.Store) {
		st := open(t)
		ctx := context.Background()
		now := time.Now()
		old := now.Add(-72 * time.Hour)
		for _, r := range []*store.Record{
			storetest.Record("shop-a", "A1", "payment", "O-A", "K-A", now),
			storetest.Record("shop-a", "A2", "refund", "O-A", "K-A", now),
			storetest.Record("shop-a", "A3", "payment", "O-A2", "K-A", old),
			storetest.Record("shop-a", "B1", "payment", "O-B", "K-B", now),
			storetest.Record("shop-a", "X1", "payment", "O-A", "K-B", now), // same out_trade_no, another device
			storetest.Record("shop-b", "C1", "payment", "O-A", "K-A", now), // same keys, another merchant
		} {
			storetest.MustAppend(t, st, r)
		}
		since := now.Add(-48 * time.Hour)
		for _, tc := range []struct {
			name string
			q    store.ReplayQuery
			want []string
		}{
			{"order, whole merchant", store.ReplayQuery{Scope: store.Scope{Merchant: "shop-a"}, OutTradeNo: "O-A"}, []string{"A1", "A2", "X1"}},
			{"order, one device", store.ReplayQuery{Scope: store.Scope{Merchant: "shop-a", UDID: "K-A"}, OutTradeNo: "O-A"}, []string{"A1", "A2"}},
			{"device since", store.ReplayQuery{Scope: store.Scope{Merchant: "shop-a", UDID: "K-A"}, UDID: "K-A", Since: since}, []string{"A1", "A2"}},
			{"device, older window", store.ReplayQuery{Scope: store.Scope{Merchant: "shop-a"}, UDID: "K-A", Since: old}, []string{"A1", "A2", "A3"}},
			{"order or device", store.ReplayQuery{Scope: store.Scope{Merchant: "shop-a"}, OutTradeNo: "O-B", UDID: "K-A", Since: since}, []string{"A1", "A2", "B1"}},
			{"other merchant", store.ReplayQuery{Scope: store.Scope{Merchant: "shop-b", UDID: "K-A"}, OutTradeNo: "O-A"}, []string{"C1"}},
			{"device B cannot read A's order", store.ReplayQuery{Scope: store.Scope{Merchant: "shop-a", UDID: "K-B"}, OutTradeNo: "O-A2"}, nil},
			{"nothing asked", store.ReplayQuery{Scope: store.Scope{Merchant: "shop-a"}}, nil},
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
				got = append(got, storetest.SysSNs(page)...)
				after = page[len(page)-1].ID
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("%s: replayed %v, want %v", tc.name, got, tc.want)
			}
		}
		for _, tc := range []struct {
			otn   string
			scope store.Scope
			want  bool
		}{
			{"O-A", store.Scope{Merchant: "shop-a", UDID: "K-A"}, true}, // X1 (K-B) and C1 (shop-b)
			{"O-A2", store.Scope{Merchant: "shop-a", UDID: "K-A"}, false},
			{"O-A2", store.Scope{Merchant: "shop-a", UDID: "K-B"}, true},
			{"O-A2", store.Scope{Merchant: "shop-b"}, true},
			{"O-B", store.Scope{Merchant: "shop-a"}, false},
			{"O-none", store.Scope{Merchant: "shop-a", UDID: "K-A"}, false},
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
	forEachStore(t, func(t *testing.T, open func(t *testing.T) store.Store) {
		st := open(t)
		ctx := context.Background()
		now := time.Now()
		storetest.MustAppend(t, st, storetest.Record("shop-a", "N1", "payment", "O-N", "", now))    // names no device
		storetest.MustAppend(t, st, storetest.Record("shop-a", "N2", "refund", "O-N", "", now))     // its refund, the same
		storetest.MustAppend(t, st, storetest.Record("shop-a", "M1", "payment", "O-M", "K-B", now)) // names K-B
		var wg sync.WaitGroup
		owners := make([]string, 20)
		for i := range owners {
			wg.Go(func() {
				o, err := st.Claim(ctx, "shop-a", "O-N", []string{"K-A", "K-B"}[i%2], store.ClaimLimits{})
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
		if o, _ := st.Claim(ctx, "shop-a", "O-N", other, store.ClaimLimits{}); o != owner {
			t.Fatalf("a later claim took the order: %s", o)
		}
		if o, _ := st.Claim(ctx, "shop-b", "O-N", other, store.ClaimLimits{}); o != other {
			t.Fatalf("another merchant's same out_trade_no is another order: %s", o)
		}
		replay := func(scope store.Scope, q store.ReplayQuery) []string {
			q.Scope = scope
			rs, err := st.Replay(ctx, q, 0, 10)
			if err != nil {
				t.Fatal(err)
			}
			return storetest.SysSNs(rs)
		}
		if got := replay(store.Scope{"shop-a", owner}, store.ReplayQuery{OutTradeNo: "O-N"}); !slices.Equal(got, []string{"N1", "N2"}) {
			t.Errorf("owner's replay %v", got)
		}
		if got := replay(store.Scope{"shop-a", other}, store.ReplayQuery{OutTradeNo: "O-N"}); got != nil {
			t.Errorf("the other device replays %v of an order it does not own", got)
		}
		// A udid subscription means what the gateway attributes to the
		// device (live and replayed alike), not its claims.
		if got := replay(store.Scope{"shop-a", owner}, store.ReplayQuery{UDID: owner, Since: now.Add(-time.Hour)}); slices.Contains(got, "N1") {
			t.Errorf("device replay %v includes a claimed order the gateway names no device for", got)
		}
		// A device the gateway names owns the order whatever was claimed.
		if o, _ := st.Claim(ctx, "shop-a", "O-M", "K-A", store.ClaimLimits{}); o != "K-B" {
			t.Errorf("K-A took the order the gateway says is K-B's: %s", o)
		}
		// A notification naming a device settles it whatever the claim.
		if f, _ := st.Foreign(ctx, "O-M", store.Scope{"shop-a", "K-A"}); !f {
			t.Error("K-B's order (named by the gateway) is not foreign to K-A")
		}
		if f, _ := st.Foreign(ctx, "O-N", store.Scope{"shop-a", other}); f {
			t.Error("an order named by no device is foreign by its notifications alone (the claim decides)")
		}
		// Claims go with the notifications they were for.
		if _, _, err := st.Prune(ctx, time.Now().Add(time.Hour), 0, time.Nanosecond); err != nil {
			t.Fatal(err)
		}
		if o, _ := st.Claim(ctx, "shop-a", "O-N", other, store.ClaimLimits{}); o != other {
			t.Errorf("a pruned claim still owns the order: %s", o)
		}
	})
}

func TestStorePrunesOldAndReportsReady(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(t *testing.T) store.Store) {
		st := open(t)
		ctx := context.Background()
		for i := range storesql.PruneChunk + 3 {
			storetest.MustAppend(t, st, storetest.Record("m", fmt.Sprintf("OLD-%d", i), "payment", "O", "", time.Now().Add(-100*24*time.Hour)))
		}
		storetest.MustAppend(t, st, storetest.Record("m", "NEW", "payment", "O", "", time.Now()))
		n, ran, err := st.Prune(ctx, time.Now().Add(-90*24*time.Hour), 0, time.Hour)
		if err != nil || !ran || n != storesql.PruneChunk+3 {
			t.Fatalf("prune: %d, ran %v, %v; want %d", n, ran, err, storesql.PruneChunk+3)
		}
		left, _ := st.After(ctx, 0, 10)
		if !slices.Equal(storetest.SysSNs(left), []string{"NEW"}) {
			t.Fatalf("left %v", storetest.SysSNs(left))
		}
		if err := st.Ready(ctx, "test-instance"); err != nil {
			t.Fatal(err)
		}
	})
}

func TestStoreTokens(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(t *testing.T) store.Store) {
		st := open(t)
		ctx := context.Background()
		start := time.Now().Add(-time.Minute)
		var toks []*store.Token
		for i, dev := range []string{"K-1", "K-1", "K-2"} {
			h := sha256.Sum256([]byte(fmt.Sprint("secret-", i)))
			tok := &store.Token{Hash: h[:], Merchant: "shop-a", UDID: dev, Note: "counter " + dev}
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
		if _, err := st.TokenByHash(ctx, []byte("nope")); !errors.Is(err, store.ErrTokenNotFound) {
			t.Fatalf("unknown hash: %v", err)
		}
		dup := &store.Token{Hash: h[:], Merchant: "m", UDID: "u"}
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
	forEachStore(t, func(t *testing.T, open func(t *testing.T) store.Store) {
		st := open(t)
		st.Close()
		if _, err := st.Append(context.Background(), storetest.Record("m", "S", "payment", "O", "", time.Now())); !errors.Is(err, store.ErrClosed) {
			t.Fatalf("append after close: %v", err)
		}
	})
}
