package cli

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"qrkiosk/internal/escpos/escpostest"
	"qrkiosk/internal/journal"
	"qrkiosk/payment"
	"qrkiosk/sim/qfpaysim"
)

// simKiosk is a config file for a kiosk on a QFPay simulator, and the
// simulator.
func simKiosk(t *testing.T, extra string) (*qfpaysim.Sim, func(string) string) {
	t.Helper()
	sim := qfpaysim.New(qfpaysim.Config{AppCode: "SUMAPPCODE", Key: "SUMKEY"})
	srv := httptest.NewServer(sim)
	t.Cleanup(func() { srv.Close(); sim.Close() })
	sim.SetBaseURL(srv.URL)
	cfg := filepath.Join(t.TempDir(), "config.toml")
	body := extra + "\n[qfpay]\nbase_url = \"" + srv.URL + "\"\nappcode = \"SUMAPPCODE\"\nkey = \"SUMKEY\"\n"
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return sim, func(k string) string {
		if k == "QRKIOSK_CONFIG" {
			return cfg
		}
		return ""
	}
}

// chargePaid charges amount through `qrkiosk charge`, the customer paying.
func chargePaid(t *testing.T, sim *qfpaysim.Sim, getenv func(string) string, data, amount string) {
	t.Helper()
	before := len(sim.Orders())
	go func() {
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			if o := sim.Orders(); len(o) > before {
				sim.Pay(o[len(o)-1].SysSN)
				return
			}
		}
	}()
	var out, errb bytes.Buffer
	if code := Main(context.Background(), Env{Stdout: &out, Stderr: &errb, Getenv: getenv}, []string{"--data", data, "charge", "--amount", amount}, nil); code != ExitPaid {
		t.Fatalf("charge exit %d\n%s", code, errb.String())
	}
}

func history(t *testing.T, getenv func(string) string, data string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(context.Background(), Env{Stdout: &out, Stderr: &errb, Getenv: getenv}, append([]string{"--data", data, "history"}, args...), nil)
	return code, out.String(), errb.String()
}

// The end of day on the terminal: the day's sales per wallet, checked
// against the gateway (exit 0 when they agree, 1 naming the differences),
// as CSV or JSON, and on paper with --print.
func TestHistorySummary(t *testing.T) {
	fake := escpostest.Start(t)
	sim, getenv := simKiosk(t, "merchant_name = \"Tea\"\n[printer]\naddress = \""+fake.Addr()+"\"\n")
	data := t.TempDir()
	chargePaid(t, sim, getenv, data, "12.50")
	chargePaid(t, sim, getenv, data, "7.50")

	code, out, errb := history(t, getenv, data, "--summary")
	if code != 0 || !strings.Contains(out, "alipayhk") || !strings.Contains(out, "20.00") || !strings.Contains(out, "the journal and the gateway agree") {
		t.Fatalf("text: exit %d\n%s\n%s", code, out, errb)
	}
	code, out, _ = history(t, getenv, data, "--summary", "--csv")
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if code != 0 || err != nil || len(rows) != 4 {
		t.Fatalf("csv: exit %d %v\n%s", code, err, out)
	}
	if w := rows[1]; w[0] != "wallet" || w[4] != "alipayhk" || w[6] != "2" || w[7] != "20.00" || w[10] != "20.00" {
		t.Errorf("wallet row %q", w)
	}
	if c := rows[3]; c[0] != "check" || c[11] != "the journal and the gateway agree" {
		t.Errorf("check row %q", c)
	}

	code, _, errb = history(t, getenv, data, "--summary", "--print")
	if code != 0 || !strings.Contains(errb, "summary slip printed") {
		t.Fatalf("--print: exit %d: %s", code, errb)
	}
	doc, err := escpostest.Decode(fake.Next(t, 10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	escpostest.Keep(t, "cli-summary-80.png", doc.Raster)
	if words := escpostest.OCR(t, doc.Raster); !strings.Contains(words, "Net") || !strings.Contains(words, "HK$20.00") {
		t.Errorf("the summary slip:\n%s", words)
	}

	// A sale the journal has paid and the gateway never saw.
	j, err := journal.Open(journal.Options{Dir: data, Gateway: "qfpay"})
	if err != nil {
		t.Fatal(err)
	}
	hkd, _ := payment.LookupCurrency("HKD")
	pt, _ := payment.LookupPayType("alipayhk")
	if err := j.Begin(context.Background(), payment.CreateRequest{OutTradeNo: "QK-GHOST", Amount: payment.Amount{Minor: 100, Currency: hkd}, PayType: pt, Expiry: 5 * time.Minute, TxTime: time.Now()}); err != nil {
		t.Fatal(err)
	}
	j.Observer()(payment.Event{Kind: payment.EventPaid, Snapshot: payment.Snapshot{OutTradeNo: "QK-GHOST", SysSN: "S-GHOST", State: payment.StatePaid}})
	j.Close()
	code, out, _ = history(t, getenv, data, "--summary", "--json")
	var p SummaryPeriod
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatal(err)
	}
	if code != ExitFailed || !p.Check.Checked || p.Check.Differences != 1 || p.Totals[0].NetMinor != 2100 || !strings.Contains(p.Check.Note, "qrkiosk reconcile") {
		t.Fatalf("a difference: exit %d %+v", code, p)
	}
}

// A period of days adds them up; without a gateway the summary says it
// was not checked.
func TestHistorySummaryOfAPeriodWithoutGateway(t *testing.T) {
	dir := t.TempDir()
	j, err := journal.Open(journal.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	hkd, _ := payment.LookupCurrency("HKD")
	wechat, _ := payment.LookupPayType("wechat")
	for i, day := range []int{19, 20, 22} {
		otn := "QK-P" + string(rune('1'+i))
		at := time.Date(2026, 11, day, 9, 30, 0, 0, payment.HongKong)
		if err := j.Begin(context.Background(), payment.CreateRequest{OutTradeNo: otn, Amount: payment.Amount{Minor: 1000, Currency: hkd}, PayType: wechat, Expiry: 5 * time.Minute, TxTime: at}); err != nil {
			t.Fatal(err)
		}
		j.Observer()(payment.Event{Kind: payment.EventPaid, Snapshot: payment.Snapshot{OutTradeNo: otn, SysSN: "S" + otn, State: payment.StatePaid}})
	}
	j.Close()
	getenv := noConfig(t)
	code, out, errb := history(t, getenv, dir, "--summary", "--from", "2026-11-20", "--to", "2026-11-22", "--csv")
	rows, _ := csv.NewReader(strings.NewReader(out)).ReadAll()
	if code != 0 || len(rows) != 4 || rows[1][6] != "2" || rows[1][7] != "20.00" || !strings.Contains(rows[3][11], "not checked") {
		t.Fatalf("exit %d %q\n%s", code, rows, errb)
	}
	for _, bad := range [][]string{
		{"--from", "2026-11-20"},
		{"--summary", "--date", "2026-11-20", "--from", "2026-11-20"},
		{"--summary", "--to", "2026-11-22"},
		{"--summary", "--from", "2026-11-31"},
		{"--summary", "--from", "2026-11-22", "--to", "2026-11-20"},
		{"--summary", "--from", "2026-01-01", "--to", "2026-12-31"},
		{"--summary", "--print", "--demo"},
	} {
		if code, _, errb := history(t, getenv, dir, bad...); code != ExitUsage || errb == "" {
			t.Errorf("history %q: exit %d %q, want 64 saying why", bad, code, errb)
		}
	}
}

// `qrkiosk charge` with auto printing ends once its slip is printed, even
// on a printer that takes its time (one that never answers a status
// query costs half a second before each slip).
func TestChargePrintsItsReceiptBeforeExiting(t *testing.T) {
	fake := escpostest.Start(t)
	fake.Set(t, escpostest.Silent)
	sim, getenv := simKiosk(t, "[printer]\naddress = \""+fake.Addr()+"\"\nauto = true\n")
	chargePaid(t, sim, getenv, t.TempDir(), "3.50")
	doc, err := escpostest.Decode(fake.Next(t, 5*time.Second))
	if err != nil || doc.Raster == nil {
		t.Fatalf("the printer got %v (%v): the slip was cut off when charge ended", doc, err)
	}
}

// history --summary --print on a journal read without the kiosk (a
// read-only data directory) is refused with what to do, instead of
// reaching for a printer it does not have.
func TestSummaryPrintNeedsTheKiosk(t *testing.T) {
	j, err := journal.Open(journal.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	var out, errb bytes.Buffer
	code := showSummary(context.Background(), Env{Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}, j, nil, "", "", asText, true)
	if code != ExitUsage || !strings.Contains(errb.String(), "--print needs the kiosk's printer") || out.Len() != 0 {
		t.Fatalf("exit %d, stderr %q, stdout %q", code, errb.String(), out.String())
	}
}
