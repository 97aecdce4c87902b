package journal

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"qrkiosk/payment"
)

// testdata/journal-v1.db was written by the first release (schema version
// 1, no gateway column): a paid order with a refund of HK$2.34, and an FPS
// order left awaiting payment.
const v1Paid, v1Live = "QK20261101040000aaaaaaaaaaaaaaaa", "QK20261101040500bbbbbbbbbbbbbbbb"

func TestJournalOfTheFirstReleaseMigrates(t *testing.T) {
	dir := t.TempDir()
	copyFile(t, filepath.Join("testdata", "journal-v1.db"), filepath.Join(dir, FileName))
	// A kiosk that now runs with another gateway opens it.
	j, err := Open(Options{Dir: dir, Gateway: "scanforpay"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var v int
	if err := j.db.QueryRow("PRAGMA user_version").Scan(&v); err != nil || v != SchemaVersion {
		t.Fatalf("schema version %d (%v), want %d", v, err, SchemaVersion)
	}
	o, err := j.Order(ctx, v1Paid)
	if err != nil || o.Gateway != "qfpay" || o.State != payment.StatePaid || o.Refunded != 234 || o.Amount.Minor != 1234 {
		t.Fatalf("the paid order after migration: %+v, %v", o, err)
	}
	day, err := j.Day(ctx, "2026-11-01")
	if err != nil || len(day.Orders) != 2 || len(day.Refunds) != 1 || day.Totals[0].Net != 1000 {
		t.Fatalf("the day after migration: %+v, %v", day, err)
	}
	// Its unfinished order belongs to the gateway it was sent to, not the
	// one this kiosk now runs with (settle's recovery leaves it alone).
	if p, err := j.Pending(ctx); err != nil || len(p) != 1 || p[0].OutTradeNo != v1Live || p[0].Gateway != "qfpay" || j.GatewayName() != "scanforpay" {
		t.Fatalf("pending with another gateway: %+v, %v", p, err)
	}
	j.Close()

	// Opened again by a QFPay kiosk, nothing more changes and the order is
	// its to settle.
	j, err = Open(Options{Dir: dir, Gateway: "qfpay"})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if p, err := j.Pending(ctx); err != nil || len(p) != 1 || p[0].OutTradeNo != v1Live || p[0].Gateway != "qfpay" {
		t.Fatalf("pending after a second open: %+v, %v", p, err)
	}
}

func TestJournalOfANewerReleaseRefused(t *testing.T) {
	dir := t.TempDir()
	j := open(t, dir)
	if _, err := j.db.Exec("PRAGMA user_version = 99"); err != nil {
		t.Fatal(err)
	}
	j.Close()
	if _, err := Open(Options{Dir: dir}); err == nil || !strings.Contains(err.Error(), "schema version 99") {
		t.Fatalf("a journal from the future: %v", err)
	}
}

func TestNewOrdersRecordTheirGateway(t *testing.T) {
	j, err := Open(Options{Dir: t.TempDir(), Gateway: "scanforpay"})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	ctx := context.Background()
	if err := j.Begin(ctx, request("QK-GW", 100, alipay, j.now())); err != nil {
		t.Fatal(err)
	}
	if o, err := j.Order(ctx, "QK-GW"); err != nil || o.Gateway != "scanforpay" {
		t.Fatalf("order %+v, %v", o, err)
	}
}
