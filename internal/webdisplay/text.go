package webdisplay

import (
	"qrkiosk/display/view"
	"qrkiosk/payment"
)

// txtReconnecting is what a display says while its link to the kiosk is
// lost: its QR is gone until the kiosk speaks again. It is part of the
// page, since the kiosk cannot send it then.
var txtReconnecting = payment.Names{En: "Reconnecting…", ZhHant: "重新連線中⋯", ZhHans: "重新连接中⋯"}

func reconnecting() view.Text {
	return view.TextOf(txtReconnecting, view.DefaultOrder, view.Ink)
}
