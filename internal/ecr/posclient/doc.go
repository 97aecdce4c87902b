// Package posclient is a stand-in for a shop's POS driving a QFPay ECR
// terminal exactly as Odoo's pos_qfpay does: it encodes requests in Odoo's
// format, sends them over HTTPS, reads the answers, and checks the
// notifications the terminal's side posts to the POS's webhook. It shares
// no code with the kiosk's decoder (package ecr), so each proves the other.
package posclient
