package ecr

import (
	"encoding/json"
	"errors"
	"testing"
)

// TestAnswerDataIsAString: Odoo JSON.parses an answer's data, so it must be
// a JSON document inside a string, and absent when there is none.
func TestAnswerDataIsAString(t *testing.T) {
	a, err := Accepted(TradeData{Respcd: "0000", TxAmt: "1234", TxCurrCd: "HKD", SysSN: "20250826155400087645770447", OutTradeNo: tradeNo})
	if err != nil {
		t.Fatal(err)
	}
	var wire map[string]any
	if err := json.Unmarshal(a.JSON(), &wire); err != nil {
		t.Fatal(err)
	}
	data, ok := wire["data"].(string)
	if !ok || wire["respcd"] != "6000" {
		t.Fatalf("answer %s: data is not a string or respcd is not 6000", a.JSON())
	}
	var trade map[string]string
	if err := json.Unmarshal([]byte(data), &trade); err != nil || trade["syssn"] != "20250826155400087645770447" || trade["txamt"] != "1234" {
		t.Fatalf("data %s: %v", data, err)
	}

	a, err = Accepted(nil)
	if err != nil {
		t.Fatal(err)
	}
	wire = nil
	if err := json.Unmarshal(a.JSON(), &wire); err != nil {
		t.Fatal(err)
	}
	if _, has := wire["data"]; has {
		t.Fatalf("answer without data carries one: %s", a.JSON())
	}
}

// TestAnswerForOtherErrors: an error that is no refusal (a bug, a closed
// journal) is answered 4005 without its text, which may say anything.
func TestAnswerForOtherErrors(t *testing.T) {
	a := AnswerFor(errors.New("journal: disk I/O error at /var/lib/qrkiosk"))
	if a.Respcd != CodeOther || a.Resperr != "the kiosk could not take the request" {
		t.Fatalf("answer %+v", a)
	}
	if c := Cancelled("cancelled by the cashier"); c.Respcd != "6001" || c.Resperr != "cancelled by the cashier" {
		t.Fatalf("cancelled %+v", c)
	}
}
