package qfpay_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"qrkiosk/payment"
	"qrkiosk/payment/qfpay"
)

func TestRespcd(t *testing.T) {
	// Seed 003's 52 codes, and 1161 from QFPay's 2017 table.
	if len(qfpay.Codes()) != 53 {
		t.Errorf("respcd table has %d codes, want seed 003's 52 and 1161", len(qfpay.Codes()))
	}
	for code, class := range map[payment.Code]qfpay.Class{
		"0000": qfpay.ClassSuccess, "1143": qfpay.ClassPending, "1145": qfpay.ClassPending, "1161": qfpay.ClassPending,
		"1108": qfpay.ClassFailure, "1181": qfpay.ClassFailure, "9999": qfpay.ClassFailure,
	} {
		if got := qfpay.ClassOf(code); got != class {
			t.Errorf("%s class %v, want %v", code, got, class)
		}
	}
	if !qfpay.Uncertain("1298") {
		t.Error("1298 says the customer may have paid: it must be confirmed by query")
	}
}

// What a QFPay record means for the sale: its code and cancel flag, read
// by the client, never by the core.
func TestOutcome(t *testing.T) {
	for _, c := range []struct {
		code   payment.Code
		cancel int
		want   payment.Outcome
	}{
		{qfpay.CodeSuccess, 0, payment.OutcomePaid},
		{qfpay.CodeUserPaying, 0, payment.OutcomePending},
		{qfpay.CodeProcessing, 0, payment.OutcomePending},
		{qfpay.CodeUnknownResult, 0, payment.OutcomePending},
		{qfpay.CodeOrderExpired, 0, payment.OutcomeExpired},
		{qfpay.CodeOrderClosed, 0, payment.OutcomeClosed},
		{qfpay.CodeSuccess, qfpay.CancelFlagCPMReversed, payment.OutcomeClosed},
		{qfpay.CodeUserPaying, qfpay.CancelFlagMPMCancelled, payment.OutcomeClosed},
		{qfpay.CodeSuccess, qfpay.CancelFlagRefunded, payment.OutcomePaid}, // refunds after it do not undo the sale
		{qfpay.CodeInsufficientBalance, 0, payment.OutcomeFailed},
		{"", 0, payment.OutcomeFailed}, // no code: not a success
	} {
		if got := qfpay.Outcome(c.code, c.cancel); got != c.want {
			t.Errorf("respcd %q cancel %d: outcome %s, want %s", c.code, c.cancel, got, c.want)
		}
	}
}

// A refusal and a record carry the cashier's words for their code, from
// QFPay's table; a wrong scanned code says what to do.
func TestAnswersCarryTheirWords(t *testing.T) {
	g := newGateway(t, func(n int, path string, form url.Values, w http.ResponseWriter) {
		fmt.Fprint(w, `{"respcd":"1201","resperr":"余额不足"}`)
	})
	_, err := client(t, g).CreateMPM(context.Background(), sale(t))
	var ge *payment.Error
	if !errors.As(err, &ge) || ge.Code != qfpay.CodeInsufficientBalance || !strings.Contains(ge.Reason(), "Insufficient balance") || ge.Message != "余额不足" {
		t.Fatalf("refusal %#v", err)
	}
	if d := qfpay.Describe(qfpay.CodeBadPaymentCode); !strings.Contains(d, "refresh the code, then scan it again") {
		t.Fatalf("a wrong payment code is described %q", d)
	}
	if qfpay.Describe("9999") != "" || qfpay.Describe(qfpay.CodeRefundDenied) != qfpay.Text(qfpay.CodeRefundDenied) {
		t.Fatal("Describe: the table's text, or nothing")
	}
}
