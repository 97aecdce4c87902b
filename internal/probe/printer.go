package probe

import (
	"context"
	"errors"
	"fmt"
	"image"
	"time"

	"qrkiosk/internal/escpos"
	"qrkiosk/internal/receipt"
)

// PrinterSettings are the receipt printer's settings under test.
type PrinterSettings struct {
	Address  string // escpos.Open's address: tcp://host[:port] or a device path
	Width    int    // printable dots: 384 (58 mm) or 576 (80 mm)
	Merchant string
	Logo     image.Image
}

// Printer prints the test slip: a frame on the edges of the printable
// width, both scripts and a QR code, so the owner sees at once whether
// receipts will print right.
func Printer(ctx context.Context, p PrinterSettings, o Options) Result {
	r := Result{Part: PartPrinter, Field: "printer"}
	if p.Address == "" {
		r.OK, r.Field, r.Text = true, "", "No receipt printer."
		return r
	}
	img, err := receipt.RenderTest(receipt.TestSlip{Merchant: p.Merchant, Printer: p.Address, Time: time.Now()}, receipt.Options{Width: p.Width, Logo: p.Logo, Zone: time.Local})
	if err != nil {
		r.Text = fmt.Sprintf("The test slip cannot be drawn: %v.", err)
		return r
	}
	pr, err := escpos.Open(p.Address, escpos.Options{})
	if err != nil {
		r.Text = fmt.Sprintf("The printer address %q is not one the kiosk can use: %v.", p.Address, err)
		return r
	}
	ctx, cancel := context.WithTimeout(ctx, 3*o.timeout())
	defer cancel()
	err = pr.Print(ctx, img)
	var perr *escpos.Error
	switch {
	case err == nil:
		r.OK, r.Field = true, ""
		r.Text = fmt.Sprintf("Printed a test slip on %s: check that the frame's four sides are on the paper.", p.Address)
	case errors.As(err, &perr):
		r.Text = fmt.Sprintf("The printer at %s did not print the test slip: %v.", p.Address, perr.Err)
		if perr.Cause != nil {
			r.Text = fmt.Sprintf("The printer at %s did not print the test slip: %v (%v).", p.Address, perr.Err, perr.Cause)
		}
	default:
		r.Text = fmt.Sprintf("The printer at %s did not print the test slip: %v.", p.Address, err)
	}
	return r
}
