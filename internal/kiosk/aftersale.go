package kiosk

import "qrkiosk/payment"

// afterSale is the receipts' observer of every order the kiosk starts:
// a sale paid while its customer is at the counter gets its receipt. It
// runs on the order machine's goroutine and only hands the work on.
func (k *Kiosk) afterSale(ev payment.Event) {
	if ev.Kind != payment.EventPaid {
		return
	}
	k.printer.onPaid(ev.Snapshot)
	k.sendEReceipt(ev.Snapshot)
}
