package cli

import (
	"bytes"
	"context"
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"qrkiosk/journal"
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
	at := time.Date(2026, 11, 20, 9, 30, 0, 0, journal.HongKong)
	for i, st := range []payment.State{payment.StatePaid, payment.StateExpired, payment.StatePaid} {
		otn := "QK-H" + string(rune('1'+i))
		if err := j.Begin(context.Background(), payment.CreateRequest{OutTradeNo: otn, Amount: payment.Amount{Minor: 1005, Currency: hkd}, PayType: wechat, Expiry: 5 * time.Minute, TxTime: at}); err != nil {
			t.Fatal(err)
		}
		j.Observer()(payment.Event{Kind: st.String(), Snapshot: payment.Snapshot{OutTradeNo: otn, SysSN: "S" + otn, State: st}})
	}
	j.Close()

	var out, errb bytes.Buffer
	env := Env{Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}
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
