package journal

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"qrkiosk/payment"
	"qrkiosk/payment/paymenttest"
	"qrkiosk/payment/qfpay"
)

var (
	hkd, _    = payment.LookupCurrency("HKD")
	jpy, _    = payment.LookupCurrency("JPY")
	alipay, _ = payment.LookupPayType("alipayhk")
	wechat, _ = payment.LookupPayType("wechat")
)

func open(t *testing.T, dir string) *Journal {
	t.Helper()
	j, err := Open(Options{Dir: dir, UDID: "test-kiosk", Gateway: qfpay.Name})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	return j
}

func request(otn string, minor int64, pt payment.PayType, at time.Time) payment.CreateRequest {
	return payment.CreateRequest{OutTradeNo: otn, Amount: payment.Amount{Minor: minor, Currency: hkd}, PayType: pt, Expiry: 5 * time.Minute, TxTime: at}
}

func waitDone(t *testing.T, o *payment.Order) payment.Snapshot {
	t.Helper()
	select {
	case <-o.Done():
	case <-time.After(10 * time.Second):
		t.Fatalf("order %s not final: %+v", o.Snapshot().OutTradeNo, o.Snapshot())
	}
	return o.Snapshot()
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	paymenttest.Eventually(t, what, 10*time.Second, cond)
}

// start records an order and starts its machine with the journal
// observing it, as the workflow above the journal does.
func start(t *testing.T, j *Journal, cfg payment.MachineConfig, req payment.CreateRequest) *payment.Order {
	t.Helper()
	if err := j.Begin(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	return payment.StartOrder(context.Background(), cfg, req, j.Observer())
}

func TestSecondOpenRefused(t *testing.T) {
	dir := t.TempDir()
	j := open(t, dir)
	_, err := Open(Options{Dir: dir})
	var le *LockedError
	if !errors.As(err, &le) {
		t.Fatalf("second open: %v, want a LockedError", err)
	}
	if le.PID != os.Getpid() || !strings.Contains(err.Error(), "in use") || !strings.Contains(err.Error(), filepath.Join(dir, FileName)) {
		t.Fatalf("message %q (pid %d)", err, le.PID)
	}
	// Deleting every file beside the database does not hand the journal
	// to a second process.
	others, _ := filepath.Glob(filepath.Join(dir, FileName+".*"))
	for _, f := range others {
		os.Remove(f)
	}
	if _, err := Open(Options{Dir: dir}); !errors.As(err, &le) {
		t.Fatalf("open after %v were deleted: %v, want a LockedError", others, err)
	}
	if err := j.Begin(context.Background(), request("QK-L1", 100, alipay, time.Now())); err != nil {
		t.Fatalf("the first holder is disturbed: %v", err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	j2 := open(t, dir)
	if _, err := j2.Order(context.Background(), "QK-L1"); err != nil {
		t.Fatalf("after the first closed: %v", err)
	}
}

// A power cut leaves the database and its WAL as they were on disk at some
// instant, possibly with a torn last frame. Every such state opens, passes
// SQLite's integrity check, and holds a prefix of what was committed.
func TestPowerLossMidWrite(t *testing.T) {
	src := t.TempDir()
	j := open(t, src)
	ctx := context.Background()
	// No checkpoint while copying: the database file stays as it was and
	// the WAL only grows, so a copy is exactly a disk image at one moment
	// (a copy racing a checkpoint would be a state no power cut produces).
	if _, err := j.db.Exec("PRAGMA wal_autocheckpoint=0"); err != nil {
		t.Fatal(err)
	}
	snaps := t.TempDir()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			otn := "QK-P" + strings.Repeat("0", 4-len(itoa(i))) + itoa(i)
			if err := j.Begin(ctx, request(otn, int64(100+i), alipay, time.Now())); err != nil {
				t.Error(err)
				return
			}
			j.Observer()(payment.Event{Kind: "created", Snapshot: payment.Snapshot{OutTradeNo: otn, SysSN: "SYS" + otn, QRCode: "qr", State: payment.StateAwaitingPayment}})
		}
	}()
	// Copy db and WAL while the writer runs: each copy is a moment's disk.
	var copies []string
	for i := 0; i < 6; i++ {
		time.Sleep(15 * time.Millisecond)
		dst := filepath.Join(snaps, "copy"+itoa(i))
		os.MkdirAll(dst, 0o700)
		copyFile(t, filepath.Join(src, FileName), filepath.Join(dst, FileName))
		copyFile(t, filepath.Join(src, FileName+"-wal"), filepath.Join(dst, FileName+"-wal"))
		copies = append(copies, dst)
	}
	close(stop)
	wg.Wait()
	// And the WAL cut at arbitrary byte offsets, as a torn write leaves it.
	last := copies[len(copies)-1]
	wal, _ := os.ReadFile(filepath.Join(last, FileName+"-wal"))
	for i, cut := range []int{0, 31, 32 + 4096/3, len(wal) / 2, len(wal) - 1000, len(wal) - 1} {
		if cut < 0 || cut > len(wal) {
			continue
		}
		dst := filepath.Join(snaps, "cut"+itoa(i))
		os.MkdirAll(dst, 0o700)
		copyFile(t, filepath.Join(last, FileName), filepath.Join(dst, FileName))
		if err := os.WriteFile(filepath.Join(dst, FileName+"-wal"), wal[:cut], 0o600); err != nil {
			t.Fatal(err)
		}
		copies = append(copies, dst)
	}
	for _, dir := range copies {
		jc, err := Open(Options{Dir: dir})
		if err != nil {
			t.Fatalf("%s: %v", filepath.Base(dir), err)
		}
		if err := jc.IntegrityCheck(ctx); err != nil {
			t.Fatalf("%s: %v", filepath.Base(dir), err)
		}
		pending, err := jc.Pending(ctx)
		if err != nil {
			t.Fatalf("%s: %v", filepath.Base(dir), err)
		}
		// A prefix: the orders present are numbered 0..n-1 with no hole.
		for i, o := range pending {
			if want := int64(100 + i); o.Amount.Minor != want {
				t.Fatalf("%s: order %d has %d, want %d (a hole in the journal)", filepath.Base(dir), i, o.Amount.Minor, want)
			}
		}
		t.Logf("%s: %d orders survive", filepath.Base(dir), len(pending))
		jc.Close()
	}
}

func itoa(i int) string { return payment.Amount{Minor: int64(i), Currency: jpy}.String() }

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if errors.Is(err, os.ErrNotExist) {
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
}

func TestDayTotalsPaidMinusRefunded(t *testing.T) {
	j := open(t, t.TempDir())
	ctx := context.Background()
	day := time.Date(2026, 11, 20, 10, 0, 0, 0, payment.HongKong)
	record := func(otn string, minor int64, cur payment.Currency, pt payment.PayType, at time.Time, st payment.State) {
		req := payment.CreateRequest{OutTradeNo: otn, Amount: payment.Amount{Minor: minor, Currency: cur}, PayType: pt, Expiry: 5 * time.Minute, TxTime: at}
		if err := j.Begin(ctx, req); err != nil {
			t.Fatal(err)
		}
		j.Observer()(payment.Event{Kind: payment.EventKind(st.String()), Snapshot: payment.Snapshot{OutTradeNo: otn, SysSN: "S" + otn, State: st}})
	}
	record("A1", 1234, hkd, alipay, day, payment.StatePaid)
	record("A2", 66, hkd, alipay, day.Add(time.Hour), payment.StatePaid)
	record("A3", 999, hkd, alipay, day.Add(2*time.Hour), payment.StateExpired)
	record("W1", 500, hkd, wechat, day, payment.StatePaid)
	record("J1", 1500, jpy, alipay, day, payment.StatePaid)
	// 23:59:59 UTC+8 is still the 20th; 00:00:00 the 21st.
	record("LATE", 100, hkd, alipay, time.Date(2026, 11, 20, 23, 59, 59, 0, payment.HongKong), payment.StatePaid)
	record("NEXT", 100, hkd, alipay, time.Date(2026, 11, 21, 0, 0, 0, 0, payment.HongKong), payment.StatePaid)
	refund := func(orig string, minor int64, at time.Time) {
		o, _ := j.Order(ctx, orig)
		if _, err := j.db.Exec(`INSERT INTO refunds (out_trade_no, orig_out_trade_no, orig_syssn, txamt, currency, tx_time, day, state, updated)
			VALUES (?,?,?,?,?,?,?,?,?)`, "RF"+orig+itoa(int(minor)), orig, o.SysSN, minor, o.Amount.Currency.Code, at.UnixNano(), at.In(payment.HongKong).Format(payment.DayLayout), "refunded", at.UnixNano()); err != nil {
			t.Fatal(err)
		}
	}
	refund("A1", 234, day.Add(3*time.Hour))
	refund("J1", 1500, day.Add(3*time.Hour))
	refund("W1", 100, day.AddDate(0, 0, 1)) // counts on the 21st

	d, err := j.Day(ctx, "2026-11-20")
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Orders) != 6 || len(d.Refunds) != 2 {
		t.Fatalf("%d orders, %d refunds", len(d.Orders), len(d.Refunds))
	}
	got := map[string]string{}
	for _, tot := range d.Totals {
		got[tot.Currency.Code+" "+tot.PayType.Wallet] = tot.String()
	}
	want := map[string]string{
		"HKD alipayhk": "Alipay HK HKD: 3 paid 14.00, refunded 2.34, net 11.66",
		"HKD wechat":   "WeChat Pay HKD: 1 paid 5.00, refunded 0.00, net 5.00",
		"JPY alipayhk": "Alipay HK JPY: 1 paid 1500, refunded 1500, net 0",
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: %q, want %q", k, got[k], w)
		}
	}
	next, err := j.Day(ctx, "2026-11-21")
	// A refund of an earlier day's sale makes that wallet's net negative.
	if err != nil || len(next.Orders) != 1 || len(next.Totals) != 2 || next.Totals[0].String() != "WeChat Pay HKD: 0 paid 0.00, refunded 1.00, net -1.00" {
		t.Fatalf("21st: %+v, %v", next.Totals, err)
	}
	if _, err := j.Day(ctx, "20/11/2026"); err == nil {
		t.Fatal("a malformed date was accepted")
	}
}
