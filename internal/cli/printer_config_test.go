package cli

import "testing"

// config check names the printer it would print on, and a bad printer
// setting by its variable and key (exit 64: the kiosk would not start).
func TestConfigCheckPrinter(t *testing.T) {
	runConfigChecks(t, []checkCase{
		{"no printer", nil, CheckDemo, []string{"printer: none"}},
		{"a network printer", []string{"QRKIOSK_PRINTER", "tcp://192.168.1.50:9100", "QRKIOSK_PRINTER_WIDTH_MM", "58"}, CheckDemo,
			[]string{"printer: tcp://192.168.1.50:9100, 58 mm paper, prints when the cashier taps Print receipt"}},
		{"auto", []string{"QRKIOSK_PRINTER", "/dev/usb/lp0", "QRKIOSK_PRINTER_AUTO", "true"}, CheckDemo,
			[]string{"printer: /dev/usb/lp0, 80 mm paper, prints every paid sale, by itself"}},
		{"a bad address", []string{"QRKIOSK_PRINTER", "printer.local:9100"}, CheckInvalid,
			[]string{"QRKIOSK_PRINTER/[printer] address", "must start with tcp://"}},
		{"a bad width", []string{"QRKIOSK_PRINTER", "/dev/usb/lp0", "QRKIOSK_PRINTER_WIDTH_MM", "57"}, CheckInvalid,
			[]string{`QRKIOSK_PRINTER_WIDTH_MM/[printer] width_mm "57": must be 58 or 80`}},
	})
}
