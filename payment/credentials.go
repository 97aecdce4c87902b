package payment

import "context"

// CredentialVerdict is what a gateway's answer to a call that moves no
// money (a query for an order that does not exist) says of the merchant's
// settings: the setup page and `qrkiosk config test` tell the owner which
// one to fix.
type CredentialVerdict int

const (
	// CredentialsAccepted: the gateway took the call; the settings work.
	CredentialsAccepted CredentialVerdict = iota
	// CredentialsSignatureRefused: the gateway refused the signature: the
	// key is not the account's. Where the gateway gives an account it
	// does not know the same answer (QFPay), the account may be wrong
	// too, or belong to another environment.
	CredentialsSignatureRefused
	// CredentialsUnknownAccount: the gateway does not know the account
	// (a partner number) at all: a typo, or another environment.
	CredentialsUnknownAccount
	// CredentialsWrongMerchant: the key is the account's, but the
	// merchant or store named is not one of its own (or one is required).
	CredentialsWrongMerchant
	// CredentialsRefused: refused for another reason of the gateway's
	// own (a device not allowed, an account disabled).
	CredentialsRefused
	// CredentialsUnreachable: no answer the kiosk could read.
	CredentialsUnreachable
)

// CredentialCheck is a credential check's verdict with the gateway's own
// words for it.
type CredentialCheck struct {
	Verdict CredentialVerdict
	// Field is the setting at fault, by the gateway's name for it
	// ("mchid", "storeNo", "partnerNo", "udid"); "" when the verdict says
	// it all.
	Field string
	// Code and Message are the gateway's answer ("" when there was none).
	Code    Code
	Message string
	// Err is why there was no answer (CredentialsUnreachable).
	Err error
}

// CredentialChecker is a gateway client that can check its settings with
// a call that moves no money.
type CredentialChecker interface {
	CheckCredentials(ctx context.Context) CredentialCheck
}
