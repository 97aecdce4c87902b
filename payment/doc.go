// Package payment is the gateway-neutral core of a sale: the one state
// machine per order, and what it works on — money in exact minor units,
// the pay-type catalog, the gateway interfaces and the outcomes they
// report.
//
// It speaks outcomes only (paid, pending, failed, closed, expired,
// unknown): each gateway client (qfpay, scanforpay) reads its own codes
// into them, and a gateway's code and words travel with a record as opaque
// data for the cashier, the screens and the journal. It imports no gateway
// and no UI.
package payment
