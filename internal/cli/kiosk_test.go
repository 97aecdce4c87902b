package cli

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"qrkiosk/internal/journal"
	"qrkiosk/internal/kiosk"
	"qrkiosk/payment"
)

func TestSplitDataFlag(t *testing.T) {
	for _, c := range []struct {
		in   []string
		dir  string
		rest string
		bad  bool
	}{
		{[]string{"history"}, "", "history", false},
		{[]string{"--data", "/d", "history", "--json"}, "/d", "history --json", false},
		{[]string{"charge", "--amount", "5", "--data=/e"}, "/e", "charge --amount 5", false},
		{[]string{"history", "--data"}, "", "", true},
		{[]string{"--data="}, "", "", true},
	} {
		dir, rest, err := splitDataFlag(c.in)
		if (err != nil) != c.bad || dir != c.dir || strings.Join(rest, " ") != c.rest {
			t.Errorf("splitDataFlag(%q) = %q, %q, %v", c.in, dir, rest, err)
		}
	}
}

func TestHistoryWithoutGateway(t *testing.T) {
	dir := t.TempDir()
	j, err := journal.Open(journal.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	hkd, _ := payment.LookupCurrency("HKD")
	wechat, _ := payment.LookupPayType("wechat")
	at := time.Date(2026, 11, 20, 9, 30, 0, 0, payment.HongKong)
	for i, st := range []payment.State{payment.StatePaid, payment.StateExpired, payment.StatePaid} {
		otn := "QK-H" + string(rune('1'+i))
		if err := j.Begin(context.Background(), payment.CreateRequest{OutTradeNo: otn, Amount: payment.Amount{Minor: 1005, Currency: hkd}, PayType: wechat, Expiry: 5 * time.Minute, TxTime: at}); err != nil {
			t.Fatal(err)
		}
		j.Observer()(payment.Event{Kind: payment.EventKind(st.String()), Snapshot: payment.Snapshot{OutTradeNo: otn, SysSN: "S" + otn, State: st}})
	}
	j.Close()

	var out, errb bytes.Buffer
	env := Env{Stdout: &out, Stderr: &errb, Getenv: noConfig(t)}
	if code := History(context.Background(), env, []string{"--date", "2026-11-20", "--csv"}, dir); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(errb.String(), "no gateway configured") {
		t.Fatalf("stderr %q: want a note that nothing was recovered", errb.String())
	}
	rows, err := csv.NewReader(&out).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	last := rows[len(rows)-1]
	if len(rows) != 5 || last[0] != "total" || last[8] != "2" || last[9] != "20.10" || last[12] != "20.10" {
		t.Fatalf("csv %q", rows)
	}
	out.Reset()
	if code := History(context.Background(), env, []string{"--date", "2026-11-20"}, dir); code != 0 || !strings.Contains(out.String(), "20.10") {
		t.Fatalf("text: exit %d\n%s", code, out.String())
	}
	for _, bad := range [][]string{{"--date", "2026-13-01"}, {"--json", "--csv"}, {"extra"}} {
		if code := History(context.Background(), env, bad, dir); code != ExitUsage {
			t.Errorf("history %q: exit %d, want 64", bad, code)
		}
	}
}

// noConfig is an environment with nothing set and an empty config file, so
// no setting of the machine running the test leaks in.
func noConfig(t *testing.T, vars ...string) func(string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(p, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	m := map[string]string{"QRKIOSK_CONFIG": p}
	for i := 0; i+1 < len(vars); i += 2 {
		m[vars[i]] = vars[i+1]
	}
	return func(k string) string { return m[k] }
}

// The window opens when no subcommand is given, whatever flags come; a
// subcommand runs wherever --data is.
func TestWindowOrSubcommand(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		window bool
	}{
		{nil, true},
		{[]string{"--layout", "single"}, true},
		{[]string{"--data", "/tmp/d"}, true},
		{[]string{"--data=/tmp/d", "--demo"}, true},
		{[]string{"--data", "/tmp/d", "--kiosk"}, true},
		{[]string{"--data", "/tmp/d", "history", "--date", "x"}, false},
		{[]string{"-data=/tmp/d", "refund"}, false},
		{[]string{"history", "--data", "/tmp/d", "--date", "x"}, false},
		{[]string{"config", "nope"}, false},
		{[]string{"--help"}, false},
	} {
		opened := false
		window := func(context.Context, *kiosk.Kiosk, kiosk.WindowOptions) int { opened = true; return 0 }
		var out bytes.Buffer
		// No display: the window path stops before it opens anything.
		env := Env{Stdout: &out, Stderr: &out, Getenv: noConfig(t)}
		code := Main(context.Background(), env, tc.args, window)
		if got := code == ExitNoDisplay; got != tc.window || opened {
			t.Errorf("%q: exit %d, window path %v, want %v\n%s", tc.args, code, got, tc.window, out.String())
		}
	}
}

// The demo's sales are kept apart (DATA/demo): history --demo shows them,
// and plain history, with no gateway configured, says where they are.
func TestHistoryOfTheDemo(t *testing.T) {
	dir := t.TempDir()
	j, err := journal.Open(journal.Options{Dir: filepath.Join(dir, "demo")})
	if err != nil {
		t.Fatal(err)
	}
	hkd, _ := payment.LookupCurrency("HKD")
	cpm, _ := payment.LookupCPMPayType(payment.AllInOneCPM)
	at := time.Now()
	if err := j.Begin(context.Background(), payment.CreateRequest{OutTradeNo: "QK-D1", Amount: payment.Amount{Minor: 880, Currency: hkd}, PayType: cpm, TxTime: at}); err != nil {
		t.Fatal(err)
	}
	j.Observer()(payment.Event{Kind: "paid", Snapshot: payment.Snapshot{OutTradeNo: "QK-D1", SysSN: "S1", State: payment.StatePaid}})
	j.Close()

	var out, errb bytes.Buffer
	env := Env{Stdout: &out, Stderr: &errb, Getenv: noConfig(t)}
	if code := History(context.Background(), env, nil, dir); code != 0 || strings.Contains(out.String(), "QK-D1") || !strings.Contains(errb.String(), "history --demo") {
		t.Fatalf("plain history: exit %d\n%s\n%s", code, out.String(), errb.String())
	}
	out.Reset()
	errb.Reset()
	if code := History(context.Background(), env, []string{"--demo"}, dir); code != 0 || !strings.Contains(out.String(), "QK-D1") || !strings.Contains(out.String(), "allinone-cpm") || !strings.Contains(out.String(), "HKD 8.80  paid") {
		t.Fatalf("history --demo: exit %d\n%s\n%s", code, out.String(), errb.String())
	}
	if code := History(context.Background(), env, []string{"--demo"}, t.TempDir()); code != ExitFailed || !strings.Contains(errb.String(), "no demo sales") {
		t.Fatalf("history --demo without demo sales: exit %d, %s", code, errb.String())
	}
}
