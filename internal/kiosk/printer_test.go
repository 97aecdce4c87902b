package kiosk

import (
	"context"
	"errors"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"qrkiosk/internal/escpos"
	"qrkiosk/internal/escpos/escpostest"
	"qrkiosk/internal/journal"
	"qrkiosk/payment"
)

// openDemoPrinting is a demo kiosk printing on the fake printer.
func openDemoPrinting(t *testing.T, fake *escpostest.Printer, vars ...string) *Kiosk {
	t.Helper()
	vars = append([]string{"QRKIOSK_PRINTER", fake.Addr(), "QRKIOSK_MERCHANT_NAME", "Lucky Star Café 福星茶餐廳"}, vars...)
	k, err := Open(Options{DataDir: t.TempDir(), Getenv: env(t, "expiry_minutes = 5\n", vars...), DemoIfUnconfigured: true, DemoHost: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(k.Close)
	return k
}

// results collects what the printer reports.
func results(k *Kiosk) <-chan PrintResult {
	ch := make(chan PrintResult, 16)
	stop := k.Printer().Watch(func(r PrintResult) { ch <- r })
	k.closers = append(k.closers, stop)
	return ch
}

func nextResult(t *testing.T, ch <-chan PrintResult) PrintResult {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(30 * time.Second):
		t.Fatal("the printer reported nothing")
		return PrintResult{}
	}
}

// paidSale rings minor up on the demo and pays it as the customer would.
func paidSale(t *testing.T, k *Kiosk, minor int64) payment.Snapshot {
	t.Helper()
	cur, _ := payment.LookupCurrency("HKD")
	pt, _ := payment.LookupPayType("alipayhk")
	created := make(chan payment.Snapshot, 1)
	o, err := k.Start(payment.CreateRequest{OutTradeNo: payment.NewOutTradeNo("QK", time.Now()), Amount: payment.Amount{Minor: minor, Currency: cur},
		PayType: pt, Expiry: 5 * time.Minute, TxTime: time.Now()}, func(e payment.Event) {
		if e.Kind == payment.EventCreated {
			created <- e.Snapshot
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case s := <-created:
		if err := k.Demo.Pay(s); err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no QR")
	}
	select {
	case <-o.Closed():
	case <-time.After(15 * time.Second):
		t.Fatalf("state %s, machine still running", o.Snapshot().State)
	}
	s := o.Snapshot()
	if s.State != payment.StatePaid {
		t.Fatalf("sale ended %s", s.State)
	}
	return s
}

// paper decodes one job the fake printer received into the slip printed.
func paper(t *testing.T, fake *escpostest.Printer, name string) image.Image {
	t.Helper()
	doc, err := escpostest.Decode(fake.Next(t, 30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if doc.Raster == nil {
		t.Fatalf("the printer received no image: %v", doc.Names())
	}
	escpostest.Keep(t, name, doc.Raster)
	return doc.Raster
}

// With auto on, a paid sale prints its receipt by itself: the paper shows
// the amount, and its QR gives the syssn the cashier scans for a refund.
func TestPaidSalePrintsItsReceipt(t *testing.T) {
	fake := escpostest.Start(t)
	k := openDemoPrinting(t, fake, "QRKIOSK_PRINTER_AUTO", "true", "QRKIOSK_PRINTER_WIDTH_MM", "58")
	res := results(k)
	s := paidSale(t, k, 123450)
	img := paper(t, fake, "kiosk-paid-58.png")
	if r := nextResult(t, res); r.Err != nil || r.Job != JobSale || r.OutTradeNo != s.OutTradeNo {
		t.Fatalf("result %+v", r)
	}
	if w := img.Bounds().Dx(); w != escpos.Width58mm {
		t.Errorf("slip %d dots wide, want 58 mm paper's %d", w, escpos.Width58mm)
	}
	if got, err := escpostest.ScanQR(img); err != nil || got != s.SysSN {
		t.Errorf("QR %q (%v), want the syssn %q", got, err, s.SysSN)
	}
	words := escpostest.OCR(t, img)
	for _, want := range []string{"HK$1,234.50", "PAID", s.SysSN} {
		if !strings.Contains(words, want) {
			t.Errorf("the slip does not say %q; OCR read:\n%s", want, words)
		}
	}
	// Printed again from Today & refunds, it says it is a copy.
	if err := k.Printer().PrintSale(context.Background(), s.OutTradeNo); err != nil {
		t.Fatal(err)
	}
	if words := escpostest.OCR(t, paper(t, fake, "kiosk-paid-copy-58.png")); !strings.Contains(words, "COPY") {
		t.Errorf("a reprint does not say COPY:\n%s", words)
	}
}

// Without auto nothing prints by itself; the cashier's Print receipt
// prints the original.
func TestReceiptPrintsWhenAsked(t *testing.T) {
	fake := escpostest.Start(t)
	k := openDemoPrinting(t, fake)
	s := paidSale(t, k, 880)
	time.Sleep(300 * time.Millisecond)
	if n := fake.Pending(); n != 0 {
		t.Fatalf("%d slips printed without auto", n)
	}
	if err := k.Printer().PrintSale(context.Background(), s.OutTradeNo); err != nil {
		t.Fatal(err)
	}
	img := paper(t, fake, "kiosk-asked-80.png")
	if img.Bounds().Dx() != escpos.Width80mm {
		t.Errorf("80 mm by default: %d dots", img.Bounds().Dx())
	}
	if words := escpostest.OCR(t, img); !strings.Contains(words, "HK$8.80") || strings.Contains(words, "COPY") {
		t.Errorf("the first print is the original with the amount; OCR read:\n%s", words)
	}
}

// A printer that is off, or out of paper, changes nothing about the sale:
// it is paid and journaled, the cashier is told what is wrong, and the
// receipt prints once the printer is back.
func TestPrinterTroubleLeavesTheSalePaid(t *testing.T) {
	fake := escpostest.Start(t)
	k := openDemoPrinting(t, fake, "QRKIOSK_PRINTER_AUTO", "true")
	res := results(k)
	for _, tc := range []struct {
		state escpostest.State
		want  error
	}{{escpostest.Off, escpos.ErrOffline}, {escpostest.PaperOut, escpos.ErrOutOfPaper}, {escpostest.CoverOpen, escpos.ErrCoverOpen}} {
		t.Run(tc.state.String(), func(t *testing.T) {
			fake.Set(t, tc.state)
			s := paidSale(t, k, 4200)
			r := nextResult(t, res)
			if !errors.Is(r.Err, tc.want) || r.OutTradeNo != s.OutTradeNo {
				t.Fatalf("result %+v, want %v", r, tc.want)
			}
			if o, err := k.Journal.Order(context.Background(), s.OutTradeNo); err != nil || o.State != payment.StatePaid {
				t.Fatalf("journal: %+v %v", o.State, err)
			}
			fake.Set(t, escpostest.Online)
			if tc.state != escpostest.Off {
				fake.Next(t, 5*time.Second) // the status query of the refused job
			}
			if err := k.Printer().PrintSale(context.Background(), s.OutTradeNo); err != nil {
				t.Fatal(err)
			}
			if got, err := escpostest.ScanQR(paper(t, fake, "kiosk-reprint.png")); err != nil || got != s.SysSN {
				t.Errorf("reprint QR %q %v", got, err)
			}
			nextResult(t, res)
		})
	}
}

// A refund prints its own slip; the end-of-day summary adds the day up
// and says it matches the gateway.
func TestRefundAndSummarySlips(t *testing.T) {
	fake := escpostest.Start(t)
	k := openDemoPrinting(t, fake)
	ctx := context.Background()
	s := paidSale(t, k, 5000)
	paidSale(t, k, 1250)
	r, err := k.Refund(ctx, s.OutTradeNo, 2000)
	if err != nil || r.State != journal.RefundDone {
		t.Fatalf("refund %+v %v", r, err)
	}
	if err := k.Printer().PrintRefund(ctx, r.OutTradeNo); err != nil {
		t.Fatal(err)
	}
	refund := paper(t, fake, "kiosk-refund-80.png")
	if got, err := escpostest.ScanQR(refund); err != nil || got != s.SysSN {
		t.Errorf("a refund slip's QR is the sale's syssn: %q %v", got, err)
	}
	if words := escpostest.OCR(t, refund); !strings.Contains(words, "HK$20.00") || !strings.Contains(words, "Refund") {
		t.Errorf("refund slip OCR:\n%s", words)
	}
	if err := k.Printer().PrintSale(ctx, s.OutTradeNo); err != nil {
		t.Fatal(err)
	}
	if words := escpostest.OCR(t, paper(t, fake, "kiosk-partly-80.png")); !strings.Contains(words, "PARTLYREFUNDED") {
		t.Errorf("the sale's slip after a partial refund:\n%s", words)
	}
	if err := k.Printer().PrintSummary(ctx, "", ""); err != nil {
		t.Fatal(err)
	}
	words := escpostest.OCR(t, paper(t, fake, "kiosk-summary-80.png"))
	for _, want := range []string{"HK$62.50", "-HK$20.00", "HK$42.50", "allmatch"} {
		if !strings.Contains(words, want) {
			t.Errorf("the summary does not say %q; OCR read:\n%s", want, words)
		}
	}
}

// What cannot have a receipt is refused before the printer is touched.
func TestNoReceiptWithoutAPaidSale(t *testing.T) {
	fake := escpostest.Start(t)
	k := openDemoPrinting(t, fake)
	ctx := context.Background()
	if err := k.Printer().PrintSale(ctx, "QK-NOSUCH"); !errors.Is(err, journal.ErrNotFound) {
		t.Errorf("unknown sale: %v", err)
	}
	if err := k.Printer().PrintSummary(ctx, "2026-02-30", ""); err == nil || !strings.Contains(err.Error(), "from") {
		t.Errorf("bad date: %v", err)
	}
	if n := fake.Pending(); n != 0 {
		t.Errorf("%d jobs reached the printer", n)
	}
	k2 := openDemo(t)
	if err := k2.Printer().PrintSale(ctx, "QK-1"); !errors.Is(err, ErrNoPrinter) || k2.Printer().Configured() {
		t.Errorf("no printer configured: %v", err)
	}
}

// The merchant's logo (config's logo, as on the idle screen) tops the
// slip.
func TestSlipCarriesTheLogo(t *testing.T) {
	logo := filepath.Join(t.TempDir(), "logo.png")
	img := image.NewGray(image.Rect(0, 0, 300, 120)) // black: every dot prints
	f, err := os.Create(logo)
	if err != nil {
		t.Fatal(err)
	}
	png.Encode(f, img)
	f.Close()
	heights := map[bool]int{}
	for _, withLogo := range []bool{false, true} {
		fake := escpostest.Start(t)
		var vars []string
		if withLogo {
			vars = []string{"QRKIOSK_LOGO", logo}
		}
		k := openDemoPrinting(t, fake, vars...)
		s := paidSale(t, k, 880)
		if err := k.Printer().PrintSale(context.Background(), s.OutTradeNo); err != nil {
			t.Fatal(err)
		}
		paper := paper(t, fake, "kiosk-logo.png")
		heights[withLogo] = paper.Bounds().Dy()
		if withLogo {
			// The logo's black block, scaled into the slip's top.
			dark := 0
			for x := 0; x < paper.Bounds().Dx(); x++ {
				if r, _, _, _ := paper.At(x, 40).RGBA(); r < 0x8000 {
					dark++
				}
			}
			if dark < 200 {
				t.Errorf("row 40 of the slip has %d dots: no logo at the top", dark)
			}
		}
	}
	if heights[true] <= heights[false]+100 {
		t.Errorf("slip %d dots with the logo, %d without", heights[true], heights[false])
	}
}

// hangingLister is a gateway whose day listing never answers.
type hangingLister struct{ payment.Gateway }

func (hangingLister) ListTransactions(ctx context.Context, start, end time.Time) ([]payment.Transaction, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// A gateway that does not answer the summary's check costs the check its
// own wait, then the slip prints, saying it was not checked: the wait is
// not taken from the printer's time (it was, and a healthy printer was
// reported offline with nothing printed).
func TestSummaryPrintsWhenTheGatewayHangs(t *testing.T) {
	defer func(p, s time.Duration) { PrintTimeout, SummaryWait = p, s }(PrintTimeout, SummaryWait)
	PrintTimeout, SummaryWait = 2*time.Second, 3*time.Second
	fake := escpostest.Start(t)
	k := openDemoPrinting(t, fake)
	k.Gateway = hangingLister{k.Gateway}
	if err := k.Printer().PrintSummary(context.Background(), "", ""); err != nil {
		t.Fatalf("the summary did not print: %v", err)
	}
	if _, err := escpostest.Decode(fake.Next(t, time.Second)); err != nil {
		t.Fatalf("the printer got: %v", err)
	}
}
