package journal

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A journal closed cleanly reads as it is, with no lock and no write; one
// copied while its kiosk ran (its last writes still in the -wal file) is
// refused with what to do, instead of showing a stale day.
func TestOpenReadOnly(t *testing.T) {
	dir := t.TempDir()
	j, err := Open(Options{Dir: dir, UDID: "test-kiosk", Gateway: "test"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := j.Begin(ctx, request("QK-RO-1", 100, alipay, time.Now())); err != nil {
		t.Fatal(err)
	}
	live := t.TempDir()
	for _, f := range []string{FileName, FileName + "-wal"} {
		copyFile(t, filepath.Join(dir, f), filepath.Join(live, f))
	}
	if _, err := os.Stat(filepath.Join(live, FileName+"-wal")); err != nil {
		t.Fatalf("the live journal has no write-ahead log to copy: %v", err)
	}
	_, err = OpenReadOnly(Options{Dir: live})
	var ioe *IOError
	if !errors.As(err, &ioe) || !strings.Contains(err.Error(), FileName+"-wal") {
		t.Fatalf("a journal copied while in use: %v, want an I/O error naming its -wal file", err)
	}

	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	ro, err := OpenReadOnly(Options{Dir: dir})
	if err != nil {
		t.Fatalf("a journal closed cleanly: %v", err)
	}
	defer ro.Close()
	if o, err := ro.Order(ctx, "QK-RO-1"); err != nil || o.Amount.Minor != 100 {
		t.Fatalf("read %+v, %v", o, err)
	}
}
