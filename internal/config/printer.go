package config

import (
	"fmt"
	"strconv"
	"strings"

	"qrkiosk/internal/escpos"
)

// The receipt printer's settings ([printer] in the file).
const (
	// EnvPrinter is the printer's address: tcp://HOST[:PORT] (a network
	// printer, port 9100 by default) or a device file such as /dev/usb/lp0.
	EnvPrinter = "QRKIOSK_PRINTER"
	// EnvPrinterWidth is the paper's width in mm: 58 or 80.
	EnvPrinterWidth = "QRKIOSK_PRINTER_WIDTH_MM"
	// EnvPrinterAuto prints every paid sale by itself (default false: the
	// cashier taps Print receipt).
	EnvPrinterAuto = "QRKIOSK_PRINTER_AUTO"
)

// PrinterFile is the [printer] table as written.
type PrinterFile struct {
	Address string `toml:"address"`
	WidthMM int    `toml:"width_mm"`
	Auto    *bool  `toml:"auto"`
}

// Printer is the checked receipt printer; the zero value is "none".
type Printer struct {
	Address string // "" = no printer
	WidthMM int    // 58 or 80
	Auto    bool
}

// Dots is the printable width of the paper in dots.
func (p Printer) Dots() int {
	if p.WidthMM == 58 {
		return escpos.Width58mm
	}
	return escpos.Width80mm
}

// printerSettings are [printer]'s values under their variables' names.
func printerSettings(f PrinterFile) map[string]string {
	m := map[string]string{EnvPrinter: f.Address}
	if f.WidthMM != 0 {
		m[EnvPrinterWidth] = strconv.Itoa(f.WidthMM)
	}
	if f.Auto != nil {
		m[EnvPrinterAuto] = strconv.FormatBool(*f.Auto)
	}
	return m
}

// readPrinter checks the printer's address as the printer code reads it,
// the paper width and auto; each problem names the variable and the key.
func (c *Config) readPrinter(get func(string) string) []string {
	var probs []string
	p := Printer{Address: get(EnvPrinter), WidthMM: 80}
	if p.Address != "" {
		if err := escpos.CheckAddress(p.Address); err != nil {
			probs = append(probs, fmt.Sprintf("%s/[printer] address: %v", EnvPrinter, err))
		}
	}
	if s := get(EnvPrinterWidth); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || (n != 58 && n != 80) {
			probs = append(probs, fmt.Sprintf("%s/[printer] width_mm %q: must be 58 or 80 (the paper's width in mm)", EnvPrinterWidth, s))
		} else {
			p.WidthMM = n
		}
	}
	switch v := strings.ToLower(get(EnvPrinterAuto)); v {
	case "", "false", "off", "0", "no":
	case "true", "on", "1", "yes":
		p.Auto = true
	default:
		probs = append(probs, fmt.Sprintf("%s/[printer] auto %q: must be true or false", EnvPrinterAuto, v))
	}
	if p.Address == "" && p.Auto {
		c.Warnings = append(c.Warnings, fmt.Sprintf("%s/[printer] address is not set: auto has no printer to print on", EnvPrinter))
	}
	c.Printer = p
	return probs
}
