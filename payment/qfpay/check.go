package qfpay

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"qrkiosk/payment"
)

// EnvironmentNames are QFPay's environments (spec: "Environments").
func EnvironmentNames() []string {
	names := make([]string, 0, len(environments))
	for n := range environments {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// EnvironmentURL is an environment's base URL, "" for an unknown name.
func EnvironmentURL(name string) string { return environments[strings.ToLower(name)] }

// CheckCredentials asks QFPay, once, for an order that does not exist (a
// query moves no money) and reads its answer: taken (0000, or an answer
// meaning "no such order"), the signature refused (1108: the key is not
// the app code's — or the app code is not known in this environment:
// QFPay gives both the same answer), the merchant id refused (1104 with
// only out_trade_no and mchid sent; 1203 and the store codes), the
// device refused (1105–1107), or no answer.
func (c *Client) CheckCredentials(ctx context.Context) payment.CredentialCheck {
	once := *c
	once.maxAttempts = 1 // one call: what the gateway says of it, not of a retry
	_, err := once.Query(ctx, QueryParams{OutTradeNos: []string{payment.NewOutTradeNo("QC", time.Now())}})
	var ge *payment.Error
	switch {
	case err == nil:
		return payment.CredentialCheck{Verdict: payment.CredentialsAccepted}
	case !errors.As(err, &ge):
		return payment.CredentialCheck{Verdict: payment.CredentialsUnreachable, Err: err}
	}
	cc := payment.CredentialCheck{Code: ge.Code, Message: ge.Message}
	if cc.Message == "" {
		cc.Message = ge.Text
	}
	switch {
	case notFound(ge.Code):
		cc.Verdict = payment.CredentialsAccepted
	case ge.Code == CodeSignatureError:
		cc.Verdict = payment.CredentialsSignatureRefused
	case ge.Code == CodeParamError && (c.mchID != "" || strings.Contains(strings.ToLower(ge.Message), "mchid")):
		// The query carried out_trade_no, which is well formed, and
		// mchid: the parameter refused is the merchant id (or its
		// absence, when QFPay issued one).
		cc.Verdict, cc.Field = payment.CredentialsWrongMerchant, "mchid"
	case slices.Contains([]payment.Code{"1203", "1241", "1242", "1243", "1251"}, ge.Code):
		cc.Verdict, cc.Field = payment.CredentialsWrongMerchant, "mchid"
	case slices.Contains([]payment.Code{"1105", "1106", "1107"}, ge.Code):
		cc.Verdict, cc.Field = payment.CredentialsRefused, "udid"
	default:
		cc.Verdict = payment.CredentialsRefused
	}
	return cc
}
