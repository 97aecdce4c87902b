package config

import (
	"errors"
	"strings"
	"testing"

	"qrkiosk/internal/escpos"
)

// The [printer] table as a merchant writes it: read into the settings, and
// each bad value refused with the variable and the key named, so that
// `config check` says which field to fix.
func TestPrinterTable(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		env        map[string]string
		want       Printer
		problem    string // "" = none
	}{
		{"no printer", ``, nil, Printer{WidthMM: 80}, ""},
		{"network printer, 58 mm, auto", "[printer]\naddress = \"tcp://192.168.1.50:9100\"\nwidth_mm = 58\nauto = true\n", nil,
			Printer{Address: "tcp://192.168.1.50:9100", WidthMM: 58, Auto: true}, ""},
		{"USB printer, 80 mm by default, auto off by default", "[printer]\naddress = \"/dev/usb/lp0\"\n", nil,
			Printer{Address: "/dev/usb/lp0", WidthMM: 80}, ""},
		{"the environment wins", "[printer]\naddress = \"/dev/usb/lp0\"\nauto = true\n", map[string]string{EnvPrinter: "tcp://10.0.0.9", EnvPrinterAuto: "no"},
			Printer{Address: "tcp://10.0.0.9", WidthMM: 80}, ""},
		{"an address that is neither", "[printer]\naddress = \"192.168.1.50\"\n", nil, Printer{}, `QRKIOSK_PRINTER/[printer] address: printer address "192.168.1.50" must start with tcp://`},
		{"a bad port", "[printer]\naddress = \"tcp://printer:91000\"\n", nil, Printer{}, "QRKIOSK_PRINTER/[printer] address: printer address \"tcp://printer:91000\" has a bad port"},
		{"a regular file, not a device", "[printer]\naddress = \"/etc/hostname\"\n", nil, Printer{}, `QRKIOSK_PRINTER/[printer] address: printer address "/etc/hostname" is a regular file, not a printer's device file`},
		{"a directory, not a device", "[printer]\naddress = \"/etc\"\n", nil, Printer{}, `is a directory, not a printer's device file`},
		{"a relative device path", "[printer]\naddress = \"/dev/usb/../lp0\"\n", nil, Printer{}, "must be a clean absolute path"},
		{"paper of another width", "[printer]\naddress = \"/dev/usb/lp0\"\nwidth_mm = 76\n", nil, Printer{}, `QRKIOSK_PRINTER_WIDTH_MM/[printer] width_mm "76": must be 58 or 80`},
		{"auto neither true nor false", "[printer]\naddress = \"/dev/usb/lp0\"\n", map[string]string{EnvPrinterAuto: "always"}, Printer{}, `QRKIOSK_PRINTER_AUTO/[printer] auto "always": must be true or false`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load(write(t, tc.body), envOf(tc.env))
			var probs Problems
			errors.As(err, &probs)
			if tc.problem == "" {
				wantProblems(t, probs, nil)
				if c.Printer != tc.want {
					t.Errorf("printer %+v, want %+v", c.Printer, tc.want)
				}
				return
			}
			wantProblems(t, probs, []string{tc.problem})
		})
	}
	// A typo in the table is caught like any other unknown key.
	if _, err := Load(write(t, "[printer]\nadress = \"/dev/usb/lp0\"\n"), envOf(nil)); err == nil || !strings.Contains(err.Error(), "printer.adress") {
		t.Errorf("unknown key in [printer]: %v", err)
	}
}

func TestPrinterDots(t *testing.T) {
	if d := (Printer{WidthMM: 58}).Dots(); d != escpos.Width58mm {
		t.Errorf("58 mm: %d dots", d)
	}
	if d := (Printer{WidthMM: 80}).Dots(); d != escpos.Width80mm {
		t.Errorf("80 mm: %d dots", d)
	}
}

// Auto printing without a printer works (nothing prints) but is warned of.
func TestPrinterAutoWithoutAddressWarns(t *testing.T) {
	c, err := Load(write(t, "[printer]\nauto = true\n"), envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], "QRKIOSK_PRINTER/[printer] address is not set") {
		t.Errorf("warnings %q", c.Warnings)
	}
}

// FuzzPrinterSettings: whatever [printer] and the environment hold, the
// settings are refused naming a printer field, or are a printer the
// printer code opens on paper it knows.
func FuzzPrinterSettings(f *testing.F) {
	f.Add("tcp://192.168.1.50:9100", 58, "true", "")
	f.Add("/dev/usb/lp0", 0, "", "80")
	f.Add("tcp://[::1]:0", 76, "maybe", "x")
	f.Fuzz(func(t *testing.T, address string, width int, auto, envWidth string) {
		file := File{Printer: PrinterFile{Address: address, WidthMM: width}}
		env := envOf(map[string]string{EnvPrinterAuto: auto, EnvPrinterWidth: envWidth})
		c, err := fromFile("", file, env)
		if err != nil {
			var probs Problems
			if !errors.As(err, &probs) {
				t.Fatalf("not problems: %v", err)
			}
			for _, p := range probs {
				if strings.HasPrefix(p, "QRKIOSK_PRINTER") && !strings.Contains(p, "[printer] ") {
					t.Fatalf("a printer problem without its key: %q", p)
				}
			}
			return
		}
		p := c.Printer
		if p.WidthMM != 58 && p.WidthMM != 80 {
			t.Fatalf("width %d mm", p.WidthMM)
		}
		if p.Address != "" {
			if _, err := escpos.Open(p.Address, escpos.Options{}); err != nil {
				t.Fatalf("accepted an address the printer code refuses: %v", err)
			}
		}
	})
}
