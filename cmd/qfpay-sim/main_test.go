package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"qrkiosk/payment/qfpay"
)

// startSim runs the command in-process and returns its base URL; the
// server stops (and run must return 0) when the test ends.
func startSim(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out, outW := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"--listen", "127.0.0.1:0", "--app-code", "APP", "--key", "KEY"}, args...), outW, io.Discard)
		outW.Close()
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("run returned %d after shutdown", code)
		}
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "listening on http://127.0.0.1:") {
		t.Fatalf("first line %q, %v", line, err)
	}
	go io.Copy(io.Discard, out)
	return strings.TrimSpace(strings.TrimPrefix(line, "listening on "))
}

func TestClockOffsetFlag(t *testing.T) {
	base := startSim(t, "--clock-offset", "720h")
	resp, err := http.Get(base + "/sim/clock")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var clock struct{ Now, Offset string }
	if err := json.NewDecoder(resp.Body).Decode(&clock); err != nil {
		t.Fatal(err)
	}
	now, err := time.Parse(time.RFC3339, clock.Now)
	if err != nil || clock.Offset != "720h0m0s" {
		t.Fatalf("clock %+v, %v", clock, err)
	}
	if d := now.Sub(time.Now()) - 720*time.Hour; d < -time.Minute || d > time.Minute {
		t.Fatalf("gateway time %s is not 30 days ahead", clock.Now)
	}
}

func TestRateLimitFlag(t *testing.T) {
	base := startSim(t, "--rate-limit", "2")
	p := url.Values{"out_trade_no": {"X"}}
	var statuses []int
	for range 3 {
		req, _ := http.NewRequest(http.MethodPost, base+"/trade/v1/query", strings.NewReader(p.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set(qfpay.HeaderAppCode, "APP")
		req.Header.Set(qfpay.HeaderSign, qfpay.Sign(p, "KEY", qfpay.SignMD5))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		statuses = append(statuses, resp.StatusCode)
	}
	if statuses[0] != 200 || statuses[1] != 200 || statuses[2] != http.StatusTooManyRequests {
		t.Fatalf("HTTP %v, want 200 200 429", statuses)
	}
}

func TestFlagValidation(t *testing.T) {
	for _, args := range [][]string{
		{"--refund-processing", "-1s"},
		{"--cancel-processing", "-1s"},
		{"--rate-limit", "-1"},
		{"--query-1161", "1.5"},
		{"--cpm-confirm-after", "-1s"},
		{"--clock-offset", "a month"},
	} {
		var stderr strings.Builder
		if code := run(context.Background(), args, io.Discard, &stderr); code != 2 {
			t.Fatalf("%v: exit %d, want 2", args, code)
		}
		if !strings.Contains(stderr.String(), strings.TrimPrefix(args[0], "--")) {
			t.Fatalf("%v: stderr %q does not name the flag", args, stderr.String())
		}
	}
}

// signedPost sends a trade/v1 request signed with the test key and decodes
// its JSON answer.
func signedPost(t *testing.T, base, path string, p url.Values) map[string]any {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+path, strings.NewReader(p.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(qfpay.HeaderAppCode, "APP")
	req.Header.Set(qfpay.HeaderSign, qfpay.Sign(p, "KEY", qfpay.SignMD5))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

func chargeCode(t *testing.T, base, out, payType, code string) map[string]any {
	t.Helper()
	return signedPost(t, base, "/trade/v1/payment", url.Values{
		"txamt": {"880"}, "txcurrcd": {"HKD"}, "pay_type": {payType}, "out_trade_no": {out},
		"txdtm": {time.Now().Format("2006-01-02 15:04:05")}, "auth_code": {code},
	})
}

func rowRespcd(t *testing.T, base, out string) any {
	t.Helper()
	a := signedPost(t, base, "/trade/v1/query", url.Values{"out_trade_no": {out}})
	data, _ := a["data"].([]any)
	if len(data) != 1 {
		t.Fatalf("query %s: %v", out, a)
	}
	return data[0].(map[string]any)["respcd"]
}

func TestCPMConfirmAfterFlag(t *testing.T) {
	// By default the customer confirms 3 s later on the gateway clock.
	base := startSim(t)
	if a := chargeCode(t, base, "F-1", "800008", "280438849930815813"); a["respcd"] != "1145" || a["pay_type"] != "800008" {
		t.Fatalf("default: %v", a)
	}
	resp, err := http.PostForm(base+"/sim/clock", url.Values{"advance": {"3s"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := rowRespcd(t, base, "F-1"); got != "0000" {
		t.Fatalf("3 s later: respcd %v", got)
	}

	base = startSim(t, "--cpm-confirm-after", "0", "--allinone-names-wallet")
	if a := chargeCode(t, base, "F-2", "800008", "280438849930815813"); a["respcd"] != "0000" || a["pay_type"] != "800108" {
		t.Fatalf("--cpm-confirm-after 0 --allinone-names-wallet: %v", a)
	}

	base = startSim(t, "--cpm-confirm-after", "1h")
	chargeCode(t, base, "F-3", "800208", "134857901234588557")
	resp, err = http.PostForm(base+"/sim/clock", url.Values{"advance": {"59m"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := rowRespcd(t, base, "F-3"); got != "1145" {
		t.Fatalf("59 minutes into an hour: respcd %v", got)
	}
}
