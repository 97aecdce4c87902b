package journal

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"qrkiosk/payment"
	"qrkiosk/payment/paymenttest"
)

// fill makes the journal's database as full as a full disk does: no write
// may grow it (SQLite answers "database or disk is full").
func fill(t *testing.T, j *Journal) {
	t.Helper()
	var pages int64
	if err := j.db.QueryRow("PRAGMA page_count").Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if _, err := j.db.Exec(fmt.Sprintf("PRAGMA max_page_count = %d", pages)); err != nil {
		t.Fatal(err)
	}
	// Use up the room left inside the pages too.
	for i := 0; ; i++ {
		if _, err := j.db.Exec(`INSERT INTO events (at, out_trade_no, source, kind, detail) VALUES (0, 'FILLER', 'test', 'fill', ?)`, fmt.Sprint(i)); err != nil {
			if !strings.Contains(err.Error(), "full") {
				t.Fatal(err)
			}
			return
		}
	}
}

// free gives it room again.
func free(t *testing.T, j *Journal) {
	t.Helper()
	if _, err := j.db.Exec("PRAGMA max_page_count = 1073741823"); err != nil {
		t.Fatal(err)
	}
}

// A disk that fills during a sale: the live order still settles at the
// gateway and is recorded once the journal can write again (as paid, not
// as "paid while offline"); meanwhile no new charge starts.
func TestFullDiskStopsNewChargesAndRecordsTheLiveOneLater(t *testing.T) {
	j := open(t, t.TempDir())
	ctx := context.Background()
	gw := paymenttest.NewGateway()
	o := start(t, j, payment.MachineConfig{Gateway: gw, PollFast: 10 * time.Millisecond, PushUp: false}, request("QK-FULL-1", 2000, alipay, time.Now()))
	waitFor(t, "created", func() bool { return o.Snapshot().State == payment.StateAwaitingPayment })
	fill(t, j)
	gw.Pay("QK-FULL-1")
	if s := waitDone(t, o); s.State != payment.StatePaid {
		t.Fatalf("the sale ended %v at the gateway's word, want paid", s.State)
	}
	waitFor(t, "the journal to say it cannot record", func() bool { return j.Broken() != nil })
	if err := j.Begin(ctx, request("QK-FULL-2", 100, alipay, time.Now())); !errors.Is(err, ErrCannotRecord) {
		t.Fatalf("a new order while the journal cannot write: %v, want ErrCannotRecord", err)
	}
	if gw.Count("create") != 1 {
		t.Fatalf("calls %v: nothing unrecorded may reach the gateway", gw.Calls())
	}
	free(t, j)
	waitFor(t, "the kept writes to be recorded", func() bool { return j.Broken() == nil })
	rec, err := j.Order(ctx, "QK-FULL-1")
	if err != nil || rec.State != payment.StatePaid || rec.PaidOffline {
		t.Fatalf("recorded %+v, %v: want paid, not paid while offline", rec, err)
	}
	if err := j.Begin(ctx, request("QK-FULL-3", 100, alipay, time.Now())); err != nil {
		t.Fatalf("a new order once the journal writes again: %v", err)
	}
}

// A new order refused on a full disk keeps nothing to write later: once
// the disk has room the next order is recorded, and the log does not
// claim that kept writes were recorded (there were none).
func TestRefusedOrderKeepsNothing(t *testing.T) {
	var logs strings.Builder
	j, err := Open(Options{Dir: t.TempDir(), UDID: "test-kiosk", Gateway: "test", Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	ctx := context.Background()
	fill(t, j)
	// The orders table may have room left in its own page: fill that too.
	for i := 0; ; i++ {
		err := j.Begin(ctx, request(fmt.Sprintf("QK-FULL-A%d", i), 100, alipay, time.Now()))
		if err == nil && i < 1000 {
			continue
		}
		if !errors.Is(err, ErrCannotRecord) {
			t.Fatalf("a new order on a full disk: %v, want ErrCannotRecord", err)
		}
		break
	}
	free(t, j)
	if err := j.Begin(ctx, request("QK-FULL-B", 100, alipay, time.Now())); err != nil {
		t.Fatalf("a new order once there is room: %v", err)
	}
	if strings.Contains(logs.String(), "kept writes recorded") {
		t.Fatalf("log claims kept writes were recorded, but none were kept:\n%s", logs.String())
	}
}
