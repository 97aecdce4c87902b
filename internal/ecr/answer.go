package ecr

import (
	"encoding/json"
	"errors"
)

// Code is an answer's respcd, as QFPay's ECR docs list them.
type Code string

const (
	CodeOK           Code = "6000" // request accepted (Odoo: carry on)
	CodeCancelled    Code = "6001" // cancelled at the terminal (Odoo: no error shown)
	CodeRequestError Code = "6002" // the request could not be carried out
	CodeDenied       Code = "4003" // request denied: the POS-KEY does not match
	CodeWrongMethod  Code = "4004" // not a POST
	CodeOther        Code = "4005" // any other error
	CodeBadParams    Code = "4006" // incorrect parameters
	CodeDecryption   Code = "5001" // decryption failed
)

// meanings are the docs' words for each code, sent as respmsg.
var meanings = map[Code]string{
	CodeOK:           "Request successful",
	CodeCancelled:    "Request cancelled",
	CodeRequestError: "Request error",
	CodeDenied:       "Request denied",
	CodeWrongMethod:  "Incorrect method (use POST)",
	CodeOther:        "Other errors",
	CodeBadParams:    "Incorrect parameters",
	CodeDecryption:   "Decryption failed",
}

// Answer is the JSON a terminal answers every request with (HTTP 200).
// Odoo treats 6000 as accepted, 6001 as cancelled without a message, and
// shows any other code with resperr (or respmsg) to the cashier. Data, when
// present, is a JSON document carried as a string, which the POS parses.
type Answer struct {
	Respcd  Code   `json:"respcd"`
	Respmsg string `json:"respmsg"`
	Resperr string `json:"resperr"`
	Data    string `json:"data,omitempty"`
}

// Accepted answers 6000, with data (TradeData, RefundData, ...) encoded as
// the answer's data string; nil data sends none.
func Accepted(data any) (Answer, error) {
	a := Answer{Respcd: CodeOK, Respmsg: meanings[CodeOK]}
	if data != nil {
		b, err := json.Marshal(data)
		if err != nil {
			return Answer{}, err
		}
		a.Data = string(b)
	}
	return a, nil
}

// Refused answers code with why, which the cashier reads.
func Refused(code Code, why string) Answer {
	return Answer{Respcd: code, Respmsg: meanings[code], Resperr: why}
}

// Cancelled answers 6001: the payment or refund was cancelled at the kiosk
// (or by the POS's cancel_request); the POS shows no error.
func Cancelled(why string) Answer { return Refused(CodeCancelled, why) }

// AnswerFor is the answer to a request Decode (or CheckEndpoint) refused.
// Bad padding and an undecryptable plaintext get the same words, so the
// answers tell a prober nothing about the padding.
func AnswerFor(err error) Answer {
	var re *RequestError
	switch {
	case errors.Is(err, ErrNotBase64), errors.Is(err, ErrNotEncrypted):
		return Refused(CodeDecryption, err.Error())
	case errors.Is(err, ErrBadPadding), errors.Is(err, ErrCannotDecrypt):
		return Refused(CodeDecryption, "cannot decrypt the request: check that the POS uses this kiosk's POS-KEY")
	case errors.Is(err, ErrBadDigest):
		return Refused(CodeDenied, "the request is not signed with this kiosk's POS-KEY")
	case errors.Is(err, ErrKeySetup), errors.Is(err, ErrTooLarge):
		return Refused(CodeOther, err.Error())
	case errors.As(err, &re):
		return Refused(CodeBadParams, err.Error())
	default:
		return Refused(CodeOther, "the kiosk could not take the request")
	}
}

// JSON is the answer's body.
func (a Answer) JSON() []byte {
	b, _ := json.Marshal(a) // strings only: cannot fail
	return b
}

// TradeData is a payment's result as the docs list it for a 1001 answer's
// data. Amounts are the gateway's txamt: minor units.
type TradeData struct {
	Respcd     string `json:"respcd"` // the gateway's: "0000" paid
	SysDtm     string `json:"sysdtm,omitempty"`
	PayDtm     string `json:"paydtm,omitempty"`
	Busicd     string `json:"busicd,omitempty"` // pay_type
	TxAmt      string `json:"txamt"`
	TxCurrCd   string `json:"txcurrcd"`
	ChnlSN     string `json:"chnlsn,omitempty"`
	SysSN      string `json:"syssn"`
	OutTradeNo string `json:"out_trade_no"`
	UDID       string `json:"udid,omitempty"`
}

// RefundData is a refund's result as the docs list it for a 1002 answer.
type RefundData struct {
	Respcd      string `json:"respcd"`
	SysDtm      string `json:"sysdtm,omitempty"`
	TxDtm       string `json:"txdtm,omitempty"`
	TxCurrCd    string `json:"txcurrcd"`
	OrigSysSN   string `json:"orig_syssn"`
	SysSN       string `json:"syssn"`
	OutTradeNo  string `json:"out_trade_no"`
	TxAmt       string `json:"txamt"`
	OriginTxAmt string `json:"originTxamt,omitempty"`
}
