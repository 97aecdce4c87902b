// Package ecr is the wire side of QFPay's ECR protocol, by which a shop's
// POS (Odoo's pos_qfpay) drives a payment terminal over the LAN: it decodes
// and checks the POS's requests, writes the terminal's answers, and builds
// the signed notifications that carry a result to the POS's webhook.
//
// Sources: QFPay's "ECR Integration Technical Specification" and Odoo's
// pos_qfpay (qfpay_sign_request, qfpay.js, payment_qfpay.js, the /qfpay/notify
// controller). Where they differ, what Odoo sends and expects is what works.
package ecr
