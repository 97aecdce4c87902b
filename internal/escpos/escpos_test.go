package escpos_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"qrkiosk/internal/escpos"
	"qrkiosk/internal/escpos/escpostest"
)

// slip is a w×h two-colour image with a pseudo-random pattern.
func slip(w, h int, seed uint64) *image.Paletted {
	img := image.NewPaletted(image.Rect(0, 0, w, h), escpostest.Paper)
	r := rand.New(rand.NewPCG(seed, 1))
	for i := range img.Pix {
		img.Pix[i] = uint8(r.IntN(2))
	}
	return img
}

// open opens a printer that waits long for status answers: on a loaded
// machine the fake may take more than the default half second to answer.
func open(t *testing.T, addr string) *escpos.Printer {
	t.Helper()
	p, err := escpos.Open(addr, escpos.Options{StatusTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestJobIsResetBandsFeedAndCut(t *testing.T) {
	img := slip(escpos.Width80mm, 600, 1)
	doc, err := escpostest.Decode(escpos.Job(img, 0))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"ESC @", "GS v 0", "GS v 0", "GS v 0", "ESC d", "GS V"}
	if got := doc.Names(); !slices.Equal(got, want) {
		t.Fatalf("commands %v, want %v", got, want)
	}
	if rows := []int{doc.Commands[1].Arg, doc.Commands[2].Arg, doc.Commands[3].Arg}; !slices.Equal(rows, []int{255, 255, 90}) {
		t.Errorf("band heights %v, want 255 255 90 (at most %d rows each)", rows, escpos.MaxBandRows)
	}
	if cut := doc.Commands[5].Arg; cut != 1 {
		t.Errorf("GS V %d, want 1 (partial cut)", cut)
	}
	if !bytes.Equal(doc.Raster.Pix, img.Pix) {
		t.Error("the printed raster differs from the image")
	}
}

func TestRasterPadsOddWidthsAndReadsAnyImage(t *testing.T) {
	// A grey image with transparency: dark grey prints, light grey and
	// transparent do not; the width is padded to whole bytes with paper.
	img := image.NewNRGBA(image.Rect(10, 20, 13, 22))
	img.Set(10, 20, color.NRGBA{0x40, 0x40, 0x40, 0xff})
	img.Set(11, 20, color.NRGBA{0xc0, 0xc0, 0xc0, 0xff})
	img.Set(12, 20, color.NRGBA{0, 0, 0, 0})
	img.Set(12, 21, color.NRGBA{0, 0, 0, 0xff})
	doc, err := escpostest.Decode(escpos.AppendRaster(nil, img, 0))
	if err != nil {
		t.Fatal(err)
	}
	if b := doc.Raster.Bounds(); b.Dx() != 8 || b.Dy() != 2 {
		t.Fatalf("raster %v, want 8×2", b)
	}
	want := []uint8{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0}
	if !slices.Equal(doc.Raster.Pix, want) {
		t.Errorf("dots %v, want %v", doc.Raster.Pix, want)
	}
}

func TestPrintToNetworkPrinter(t *testing.T) {
	fake := escpostest.Start(t)
	p := open(t, fake.Addr())
	img := slip(escpos.Width58mm, 300, 2)
	if err := p.Print(ctxFor(t), img); err != nil {
		t.Fatal(err)
	}
	doc, err := escpostest.Decode(fake.Next(t, 5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"DLE EOT", "DLE EOT", "DLE EOT", "ESC @", "GS v 0", "GS v 0", "ESC d", "GS V"}
	if got := doc.Names(); !slices.Equal(got, want) {
		t.Fatalf("commands %v, want %v", got, want)
	}
	if !bytes.Equal(doc.Raster.Pix, img.Pix) {
		t.Error("the printed raster differs from the image")
	}
}

// TestPrinterSaysWhy: a printer that reports a problem gets no job, and the
// cashier is told what to fix; one that never answers is printed to.
func TestPrinterSaysWhy(t *testing.T) {
	for _, tc := range []struct {
		state   escpostest.State
		want    error
		printed bool
		status  escpos.Status
	}{
		{escpostest.Online, nil, true, escpos.Status{Known: true, Online: true}},
		{escpostest.PaperNearEnd, nil, true, escpos.Status{Known: true, Online: true, PaperNearEnd: true}},
		{escpostest.PaperOut, escpos.ErrOutOfPaper, false, escpos.Status{Known: true, PaperOut: true, PaperNearEnd: true}},
		{escpostest.CoverOpen, escpos.ErrCoverOpen, false, escpos.Status{Known: true, CoverOpen: true}},
		{escpostest.Silent, nil, true, escpos.Status{}},
	} {
		fake := escpostest.Start(t)
		fake.Set(t, tc.state)
		p := open(t, fake.Addr())
		if tc.state == escpostest.Silent {
			p, _ = escpos.Open(fake.Addr(), escpos.Options{StatusTimeout: 200 * time.Millisecond})
		}
		st, err := p.Status(ctxFor(t))
		if err != nil || st != tc.status {
			t.Errorf("state %v: status %+v, %v; want %+v", tc.state, st, err, tc.status)
		}
		fake.Next(t, 5*time.Second)

		err = p.Print(ctxFor(t), slip(escpos.Width58mm, 40, 3))
		if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
			t.Errorf("state %v: print: %v, want %v", tc.state, err, tc.want)
		}
		var pe *escpos.Error
		if tc.want != nil && (!errors.As(err, &pe) || pe.Addr != fake.Addr()) {
			t.Errorf("state %v: %v does not name the printer's address", tc.state, err)
		}
		doc, err := escpostest.Decode(fake.Next(t, 5*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		if printed := doc.Raster != nil; printed != tc.printed {
			t.Errorf("state %v: printed %v, want %v (%v)", tc.state, printed, tc.printed, doc.Names())
		}
	}
}

// TestPrinterOff: a switched-off printer (closed port) is "printer offline"
// from the refused connection, not after waiting out the deadline; it
// prints again once switched on.
func TestPrinterOff(t *testing.T) {
	fake := escpostest.Start(t)
	p := open(t, fake.Addr())
	fake.Set(t, escpostest.Off)
	for _, op := range []func() error{
		func() error { return p.Print(ctxFor(t), slip(8, 8, 4)) },
		func() error { _, err := p.Status(ctxFor(t)); return err },
	} {
		err := op()
		if !errors.Is(err, escpos.ErrOffline) {
			t.Fatalf("%v, want printer offline", err)
		}
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("%v: want the refused connection as its cause", err)
		}
	}
	fake.Set(t, escpostest.Online)
	if err := p.Print(ctxFor(t), slip(8, 8, 4)); err != nil {
		t.Fatalf("after switching on: %v", err)
	}
}

func TestConcurrentPrintsDoNotMix(t *testing.T) {
	fake := escpostest.Start(t)
	p := open(t, fake.Addr())
	imgs := []*image.Paletted{slip(escpos.Width80mm, 400, 5), slip(escpos.Width80mm, 400, 6), slip(escpos.Width80mm, 400, 7)}
	var wg sync.WaitGroup
	for _, img := range imgs {
		wg.Go(func() {
			if err := p.Print(ctxFor(t), img); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for range imgs {
		doc, err := escpostest.Decode(fake.Next(t, 5*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(imgs, func(img *image.Paletted) bool { return bytes.Equal(img.Pix, doc.Raster.Pix) }) {
			t.Error("a job's raster is none of the images sent: jobs were interleaved")
		}
	}
}

func TestCallerCancels(t *testing.T) {
	fake := escpostest.Start(t)
	fake.Set(t, escpostest.Silent)
	p, err := escpos.Open(fake.Addr(), escpos.Options{StatusTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	if err := p.Print(ctx, slip(8, 8, 8)); !errors.Is(err, context.Canceled) {
		t.Fatalf("%v, want context.Canceled", err)
	}
}

func TestUSBPrinterNotConnected(t *testing.T) {
	p := open(t, filepath.Join(t.TempDir(), "lp0"))
	err := p.Print(ctxFor(t), slip(8, 8, 9))
	if !errors.Is(err, escpos.ErrNotConnected) || err.Error() == "" {
		t.Fatalf("%v, want printer not connected", err)
	}
	if _, err := p.Status(ctxFor(t)); !errors.Is(err, escpos.ErrNotConnected) {
		t.Fatalf("status: %v, want printer not connected", err)
	}
}

// fifo stands in for a device file: a named pipe, which like usblp can be
// opened without blocking, polled and given deadlines.
func fifo(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "lp0")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	return path
}

func TestPrintToDeviceFile(t *testing.T) {
	path := fifo(t)
	p := open(t, path)
	// No one has the other end: the printer is not there.
	if err := p.Print(ctxFor(t), slip(8, 8, 10)); !errors.Is(err, escpos.ErrNotConnected) {
		t.Fatalf("FIFO without a reader: %v, want printer not connected", err)
	}

	r, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan []byte)
	go func() {
		// Until a writer opens the FIFO, a read says end of file.
		var all []byte
		buf := make([]byte, 4096)
		for {
			n, err := r.Read(buf)
			all = append(all, buf[:n]...)
			if err != nil && len(all) > 0 {
				break
			}
			if err != nil {
				time.Sleep(10 * time.Millisecond)
			}
		}
		got <- all
	}()
	img := slip(escpos.Width80mm, 500, 11)
	if err := p.Print(ctxFor(t), img); err != nil {
		t.Fatal(err)
	}
	all := <-got
	r.Close()
	doc, err := escpostest.Decode(all)
	if err != nil {
		t.Fatal(err)
	}
	// No status query goes to a device that cannot answer.
	if names := doc.Names(); names[0] != "ESC @" || !bytes.Equal(doc.Raster.Pix, img.Pix) {
		t.Errorf("device got %v and a different raster", names)
	}
}

// TestStalledPrinterDoesNotHang: a printer that stops taking data (the
// reader never reads, the pipe fills) ends the print at the deadline.
func TestStalledPrinterDoesNotHang(t *testing.T) {
	path := fifo(t)
	r, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	p := open(t, path)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err = p.Print(ctx, slip(escpos.Width80mm, 3000, 12)) // 216 KB, more than a pipe holds
	if !errors.Is(err, escpos.ErrOffline) {
		t.Fatalf("%v, want printer offline", err)
	}
}

func TestAddresses(t *testing.T) {
	for _, ok := range []string{"tcp://192.168.1.50:9100", "tcp://printer.local", "TCP://10.0.0.7:9101", "tcp://[fe80::1]:9100", "/dev/usb/lp0", "/dev/lp0"} {
		if _, err := escpos.Open(ok, escpos.Options{}); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "192.168.1.50:9100", "tcp://", "tcp://:9100", "tcp://host:0", "tcp://host:99999", "tcp://host:91o0", "tcp://host:9100/x", "tcp://u@host", "usb/lp0", "/dev/usb/../lp0", "http://host:9100"} {
		if _, err := escpos.Open(bad, escpos.Options{}); err == nil {
			t.Errorf("%q: accepted", bad)
		}
	}
}

// TestUSBPrinter: a USB printer's device file is opened read-write, so its
// status is read as over the network, and a job goes whole.
func TestUSBPrinter(t *testing.T) {
	fake := escpostest.StartUSB(t)
	p := open(t, fake.Addr())
	st, err := p.Status(ctxFor(t))
	if err != nil || st != (escpos.Status{Known: true, Online: true}) {
		t.Fatalf("status %+v, %v; want known and online", st, err)
	}
	img := slip(escpos.Width58mm, 600, 13)
	if err := p.Print(ctxFor(t), img); err != nil {
		t.Fatal(err)
	}
	doc, err := escpostest.Decode(fake.Next(t, 5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"DLE EOT", "DLE EOT", "DLE EOT", "DLE EOT", "DLE EOT", "DLE EOT", "ESC @", "GS v 0", "GS v 0", "GS v 0", "ESC d", "GS V"}
	if got := doc.Names(); !slices.Equal(got, want) || !bytes.Equal(doc.Raster.Pix, img.Pix) {
		t.Fatalf("the printer got %v and the raster is the image: %v", got, bytes.Equal(doc.Raster.Pix, img.Pix))
	}

	fake.Set(t, escpostest.PaperOut)
	if err := p.Print(ctxFor(t), img); !errors.Is(err, escpos.ErrOutOfPaper) {
		t.Fatalf("paper out: %v, want out of paper", err)
	}
	if n := fake.Pending(); n != 0 {
		t.Errorf("%d jobs printed without paper", n)
	}
}

// TestUSBPrinterStaleAnswer: a byte an earlier session left in the USB
// printer's read buffer (an answer that came late) is not taken for the
// answer to this session's first question.
func TestUSBPrinterStaleAnswer(t *testing.T) {
	fake := escpostest.StartUSB(t)
	p := open(t, fake.Addr())
	fake.Set(t, escpostest.PaperOut)
	fake.Unsolicited(t, []byte{0x16}) // "online", from before the paper ran out
	if err := p.Print(ctxFor(t), slip(8, 8, 14)); !errors.Is(err, escpos.ErrOutOfPaper) {
		t.Fatalf("%v, want out of paper", err)
	}
}

// A device path that names a regular file (config.toml, a journal) or a
// directory is refused before anything is written: a print job would
// destroy the file.
func TestRegularFileIsNotAPrinter(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "config.toml")
	const was = "gateway = \"qfpay\"\n"
	if err := os.WriteFile(file, []byte(was), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{file, dir} {
		p := open(t, path)
		if err := p.Print(ctxFor(t), slip(8, 8, 10)); !errors.Is(err, escpos.ErrNotADevice) {
			t.Errorf("printing to %s: %v, want %v", path, err, escpos.ErrNotADevice)
		}
	}
	if b, _ := os.ReadFile(file); string(b) != was {
		t.Fatalf("the file now holds %d bytes: %q…", len(b), b[:min(len(b), 20)])
	}
}
