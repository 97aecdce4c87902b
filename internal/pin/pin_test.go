package pin

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestPIN(t *testing.T) {
	real, err := Hash("2468")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(real, "pbkdf2-sha256$600000$") {
		t.Fatalf("stored form %q", real)
	}
	if err := Verify(real, "2468"); err != nil {
		t.Fatal(err)
	}
	// The rest with few iterations: the slow part is the KDF, checked above.
	h1, err := HashIter("2468", 1000)
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := HashIter("2468", 1000)
	if h1 == h2 || strings.Contains(h1, "2468") {
		t.Fatalf("hashes %q %q: want salted and not holding the PIN", h1, h2)
	}
	if err := Verify(h1, "2468"); err != nil {
		t.Fatal(err)
	}
	if err := Verify(h1, "2469"); !errors.Is(err, ErrWrong) {
		t.Fatalf("wrong PIN: %v", err)
	}
	for _, bad := range []string{"", "123", "12a4"} {
		if _, err := HashIter(bad, 1000); err == nil {
			t.Errorf("Hash(%q) accepted", bad)
		}
	}
	for _, bad := range []string{"", "md5$1$AA$AA", "pbkdf2-sha256$x$AA$AA", "pbkdf2-sha256$10$!!$AA"} {
		if err := Verify(bad, "2468"); err == nil || errors.Is(err, ErrWrong) {
			t.Errorf("Verify(%q): %v, want a format error", bad, err)
		}
	}
}

func TestWellFormed(t *testing.T) {
	h, err := HashIter("2468", 1000)
	if err != nil || !WellFormed(h) {
		t.Fatalf("a hash is not well formed: %q, %v", h, err)
	}
	for _, bad := range []string{"", "2468", "pbkdf2-sha256$x$AA$AA", "pbkdf2-sha256$10$$AA", "md5$1$AA$AA"} {
		if WellFormed(bad) {
			t.Errorf("WellFormed(%q)", bad)
		}
	}
}

func TestPINGuardLockoutsGrowAndReset(t *testing.T) {
	now := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	g := NewGuard(func() time.Time { return now })
	fail := func(n int) time.Duration {
		var d time.Duration
		for range n {
			d = g.Record(false)
		}
		return d
	}
	if d := fail(MaxTries - 1); d != 0 || g.Wait() != 0 {
		t.Fatalf("locked after %d wrong: %v", MaxTries-1, d)
	}
	for _, want := range []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute} {
		if d := fail(1); d != want || g.Wait() != want {
			t.Fatalf("lockout %v, wait %v; want %v", d, g.Wait(), want)
		}
		now = now.Add(want)
		if g.Wait() != 0 {
			t.Fatal("still locked after the lockout")
		}
		fail(MaxTries - 1)
	}
	fail(1)
	now = now.Add(MaxLockout)
	for range 10 {
		if d := fail(MaxTries); d > MaxLockout {
			t.Fatalf("lockout %v over the cap", d)
		}
	}
	g.Record(true)
	if d := fail(MaxTries); d != time.Minute {
		t.Fatalf("after the right PIN the next lockout is %v, want 1 min", d)
	}
}
