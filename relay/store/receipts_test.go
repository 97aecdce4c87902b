package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"qrkiosk/relay/store"
)

// A receipt is kept under its id; the device sending the same receipt
// again (its link dropped before the answer) gets the same id back with
// the newer data, and another device's receipt of the same key is its own.
func TestReceiptsAreKeptUnderTheirIDs(t *testing.T) {
	forEachStoreDir(t, func(t *testing.T, st store.Store, _ string) {
		ctx := context.Background()
		put := func(id, udid, key, data string) string {
			t.Helper()
			got, err := st.PutReceipt(ctx, &store.Receipt{ID: id, Merchant: "shop-a", UDID: udid, Key: key, Data: []byte(data)}, store.ReceiptLimits{})
			if err != nil {
				t.Fatal(err)
			}
			return got
		}
		if id := put("R1", "K-A", "sale:QK1", `{"v":1}`); id != "R1" {
			t.Fatalf("new receipt kept as %q", id)
		}
		if id := put("R2", "K-A", "sale:QK1", `{"v":2}`); id != "R1" {
			t.Fatalf("the same receipt again kept as %q, want R1", id)
		}
		if id := put("R3", "K-B", "sale:QK1", `{"v":3}`); id != "R3" {
			t.Fatalf("another device's kept as %q", id)
		}
		r, err := st.Receipt(ctx, "R1")
		if err != nil || string(r.Data) != `{"v":2}` || r.Merchant != "shop-a" || r.UDID != "K-A" || time.Since(r.CreatedAt) > time.Minute {
			t.Fatalf("R1: %+v %v", r, err)
		}
		if _, err := st.Receipt(ctx, "R2"); !errors.Is(err, store.ErrReceiptNotFound) {
			t.Fatalf("R2 was never kept: %v", err)
		}
		big := strings.Repeat("x", store.MaxReceiptData+1)
		if _, err := st.PutReceipt(ctx, &store.Receipt{ID: "R4", Merchant: "shop-a", UDID: "K-A", Key: "k4", Data: []byte(big)}, store.ReceiptLimits{}); err == nil {
			t.Fatal("a receipt larger than MaxReceiptData was stored")
		}
	})
}

// One token cannot fill the store with receipts: a device's new receipts
// and a merchant's are bounded a day; the same receipt again costs
// nothing.
func TestReceiptsAreBounded(t *testing.T) {
	limits := store.ReceiptLimits{PerDevice: 3, PerMerchant: 5}
	forEachStoreDir(t, func(t *testing.T, st store.Store, _ string) {
		ctx := context.Background()
		put := func(merchant, udid string, n int) error {
			_, err := st.PutReceipt(ctx, &store.Receipt{ID: fmt.Sprint(merchant, udid, n), Merchant: merchant, UDID: udid,
				Key: fmt.Sprint("sale:", n), Data: []byte("{}")}, limits)
			return err
		}
		for i := range 3 {
			if err := put("shop-a", "K-A", i); err != nil {
				t.Fatal(err)
			}
		}
		if err := put("shop-a", "K-A", 3); !errors.Is(err, store.ErrDeviceReceiptLimit) {
			t.Fatalf("4th receipt of a device with PerDevice 3: %v", err)
		}
		if _, err := st.Receipt(ctx, "shop-aK-A3"); !errors.Is(err, store.ErrReceiptNotFound) {
			t.Fatalf("the refused receipt was stored: %v", err)
		}
		if err := put("shop-a", "K-A", 0); err != nil {
			t.Fatalf("the same receipt again, past the limit: %v", err)
		}
		for i := range 2 {
			if err := put("shop-a", "K-B", i); err != nil {
				t.Fatal(err)
			}
		}
		if err := put("shop-a", "K-C", 0); !errors.Is(err, store.ErrMerchantReceiptLimit) {
			t.Fatalf("6th receipt of a merchant with PerMerchant 5: %v", err)
		}
		if err := put("shop-b", "K-C", 0); err != nil {
			t.Fatalf("another merchant is not bounded by shop-a's: %v", err)
		}
	})
}

// Receipts go after their days; younger ones stay.
func TestReceiptsArePruned(t *testing.T) {
	forEachStoreDir(t, func(t *testing.T, st store.Store, _ string) {
		ctx := context.Background()
		for _, id := range []string{"OLD", "NEW"} {
			if _, err := st.PutReceipt(ctx, &store.Receipt{ID: id, Merchant: "m", UDID: "u", Key: id, Data: []byte("{}")}, store.ReceiptLimits{}); err != nil {
				t.Fatal(err)
			}
			time.Sleep(20 * time.Millisecond)
		}
		r, err := st.Receipt(ctx, "NEW")
		if err != nil {
			t.Fatal(err)
		}
		n, err := st.PruneReceipts(ctx, r.CreatedAt.Add(-time.Millisecond))
		if err != nil || n != 1 {
			t.Fatalf("pruned %d, %v", n, err)
		}
		if _, err := st.Receipt(ctx, "OLD"); !errors.Is(err, store.ErrReceiptNotFound) {
			t.Errorf("OLD: %v", err)
		}
		if _, err := st.Receipt(ctx, "NEW"); err != nil {
			t.Errorf("NEW: %v", err)
		}
	})
}
