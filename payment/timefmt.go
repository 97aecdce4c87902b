package payment

import "time"

// Time in the merchant's world: one zone and two layouts, used by the
// gateways' wire formats, the journal's days and every printed time.
const (
	// LocalTimeLayout is a wall-clock time in the merchant's zone, as
	// QFPay's txdtm and the journal and history print it.
	LocalTimeLayout = "2006-01-02 15:04:05"
	// DayLayout is a day in the merchant's zone (YYYY-MM-DD).
	DayLayout = "2006-01-02"
)

// HongKong is the merchant's zone by default (UTC+8): Hong Kong time, and
// QFPay's default txzone. A fixed zone needs no tzdata on the kiosk.
var HongKong = time.FixedZone("UTC+8", 8*3600)
