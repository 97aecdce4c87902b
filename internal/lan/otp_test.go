package lan

import (
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	"qrkiosk/internal/pin"
)

var (
	phone  = netip.MustParseAddr("192.168.1.30")
	tablet = netip.MustParseAddr("192.168.1.31")
)

// events records what the kiosk screen is told.
type events struct {
	mu  sync.Mutex
	got []CodeEvent
}

func (e *events) add(ev CodeEvent) {
	e.mu.Lock()
	e.got = append(e.got, ev)
	e.mu.Unlock()
}

func (e *events) list() []CodeEvent {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]CodeEvent(nil), e.got...)
}

func newCodes() (*Codes, *clock, *events) {
	clk, ev := &clock{now: t0}, &events{}
	return NewCodes(clk.Now, ev.add), clk, ev
}

// wrong is a code that is not code.
func wrong(code string) string {
	return fmt.Sprintf("%06d", (mustAtoi(code)+1)%1_000_000)
}

func mustAtoi(s string) int {
	var n int
	fmt.Sscan(s, &n)
	return n
}

func TestCodeWorksOnce(t *testing.T) {
	c, _, _ := newCodes()
	code, expires := c.New()
	if _, ok := ParseCode(code); !ok {
		t.Fatalf("code %q is not six digits", code)
	}
	if expires != t0.Add(CodeLifetime) {
		t.Errorf("expires %v, want %v", expires, t0.Add(CodeLifetime))
	}
	if err := c.Check(phone, code[:3]+" "+code[3:]); err != nil {
		t.Fatalf("the right code, typed with a space: %v", err)
	}
	if err := c.Check(tablet, code); !errors.Is(err, ErrNoCode) {
		t.Errorf("the code used a second time: %v", err)
	}
}

func TestCodesAreRandom(t *testing.T) {
	c, _, _ := newCodes()
	seen := map[string]bool{}
	for range 50 {
		code, _ := c.New()
		seen[code] = true
	}
	if len(seen) < 45 {
		t.Errorf("%d different codes in 50", len(seen))
	}
}

func TestCodeExpires(t *testing.T) {
	c, clk, _ := newCodes()
	code, _ := c.New()
	clk.Add(CodeLifetime - time.Second)
	if err := c.Check(phone, wrong(code)); err == nil {
		t.Fatal("wrong code accepted")
	}
	if err := c.Check(phone, code); err != nil {
		t.Fatalf("a second before expiry: %v", err)
	}
	code, _ = c.New()
	clk.Add(CodeLifetime)
	if err := c.Check(phone, code); !errors.Is(err, ErrNoCode) {
		t.Errorf("after expiry: %v", err)
	}
}

func TestNewCodeReplacesTheShowingOne(t *testing.T) {
	c, _, _ := newCodes()
	old, _ := c.New()
	code, _ := c.New()
	if old != code {
		if err := c.Check(phone, old); err == nil {
			t.Error("the replaced code still works")
		}
	}
	if err := c.Check(tablet, code); err != nil {
		t.Error(err)
	}
	c.New()
	c.Withdraw()
	if err := c.Check(tablet, code); !errors.Is(err, ErrNoCode) {
		t.Errorf("after Withdraw: %v", err)
	}
}

// Five wrong tries burn the code, whoever makes them; the screen is told.
func TestWrongTriesBurnTheCode(t *testing.T) {
	c, _, ev := newCodes()
	code, _ := c.New()
	for i := 1; i < CodeTries; i++ {
		src := netip.AddrFrom4([4]byte{192, 168, 1, byte(100 + i)})
		var we *WrongCodeError
		if err := c.Check(src, wrong(code)); !errors.As(err, &we) || we.Left != CodeTries-i {
			t.Fatalf("wrong try %d: %v, want %d tries left", i, err, CodeTries-i)
		}
	}
	if err := c.Check(tablet, "not a code"); !errors.Is(err, ErrCodeBurnt) {
		t.Fatalf("the last try: %v", err)
	}
	if err := c.Check(phone, code); !errors.Is(err, ErrNoCode) {
		t.Errorf("the burnt code: %v", err)
	}
	got := ev.list()
	if len(got) != 1 || !got[0].Burnt || got[0].Source != tablet || got[0].Locked != 0 {
		t.Errorf("events %+v, want one burnt code from the tablet", got)
	}
}

// One device's wrong tries lock it out across codes, so it cannot burn
// code after code; other devices are not locked out.
func TestWrongTriesLockTheDevice(t *testing.T) {
	c, clk, ev := newCodes()
	code, _ := c.New()
	for range 3 {
		c.Check(phone, wrong(code))
	}
	code, _ = c.New()
	c.Check(phone, wrong(code))
	var le *LockedError
	if err := c.Check(phone, wrong(code)); !errors.As(err, &le) || le.Wait != pin.Lockout {
		t.Fatalf("fifth wrong try: %v, want locked for %v", err, pin.Lockout)
	}
	if err := c.Check(phone, code); !errors.As(err, &le) {
		t.Errorf("the right code from the locked device: %v", err)
	}
	got := ev.list()
	if len(got) != 1 || got[0].Source != phone || got[0].Locked != pin.Lockout || got[0].Burnt {
		t.Errorf("events %+v, want the phone locked out", got)
	}
	if err := c.Check(tablet, code); err != nil {
		t.Errorf("another device: %v", err)
	}
	clk.Add(pin.Lockout)
	code, _ = c.New()
	if err := c.Check(phone, code); err != nil {
		t.Errorf("after the lockout: %v", err)
	}
}

// Many devices at once: exactly one is let in with the right code, and
// exactly CodeTries wrong tries count before the code is burnt.
func TestCodesUnderConcurrency(t *testing.T) {
	c, _, _ := newCodes()
	code, _ := c.New()
	var wg sync.WaitGroup
	results := make(chan error, 100)
	for i := range 100 {
		wg.Go(func() {
			results <- c.Check(netip.AddrFrom4([4]byte{10, 0, 0, byte(i)}), code)
		})
	}
	wg.Wait()
	close(results)
	accepted := 0
	for err := range results {
		if err == nil {
			accepted++
		} else if !errors.Is(err, ErrNoCode) {
			t.Errorf("unexpected %v", err)
		}
	}
	if accepted != 1 {
		t.Errorf("%d devices let in with one code", accepted)
	}

	code, _ = c.New()
	results = make(chan error, 100)
	for i := range 100 {
		wg.Go(func() {
			results <- c.Check(netip.AddrFrom4([4]byte{10, 0, 1, byte(i)}), wrong(code))
		})
	}
	wg.Wait()
	close(results)
	var wrongs, burnt, none int
	for err := range results {
		var we *WrongCodeError
		switch {
		case errors.As(err, &we):
			wrongs++
		case errors.Is(err, ErrCodeBurnt):
			burnt++
		case errors.Is(err, ErrNoCode):
			none++
		default:
			t.Errorf("unexpected %v", err)
		}
	}
	if wrongs != CodeTries-1 || burnt != 1 || none != 100-CodeTries {
		t.Errorf("%d wrong, %d burnt, %d no code; want %d, 1, %d", wrongs, burnt, none, CodeTries-1, 100-CodeTries)
	}
}

func TestParseCode(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"123456", "123456", true},
		{"123 456", "123456", true},
		{" 123-456 ", "123456", true},
		{"000000", "000000", true},
		{"12345", "", false},
		{"1234567", "", false},
		{"12345a", "", false},
		{"１２３４５６", "", false}, // full-width digits
		{"", "", false},
	} {
		got, ok := ParseCode(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParseCode(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func FuzzParseCode(f *testing.F) {
	for _, s := range []string{"123456", "123 456", "12-34-56", "", "1234567", "abc", "１２３４５６"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		code, ok := ParseCode(s)
		if !ok {
			if code != "" {
				t.Fatalf("%q: refused but gave %q", s, code)
			}
			return
		}
		var digits []byte
		for i := 0; i < len(s); i++ {
			switch {
			case s[i] >= '0' && s[i] <= '9':
				digits = append(digits, s[i])
			case s[i] != ' ' && s[i] != '-':
				t.Fatalf("%q accepted with %q in it", s, s[i])
			}
		}
		if len(code) != CodeDigits || string(digits) != code {
			t.Fatalf("%q read as %q", s, code)
		}
	})
}

// Whatever a device sends, only the showing code's digits (spaces and
// hyphens around them allowed) let it in; a code one digit off, or
// anything else, is a counted wrong try.
func FuzzCheckCode(f *testing.F) {
	for _, s := range []struct {
		before, after string
		change        uint8 // 0: the code as shown; 1-6: that digit changed
	}{{"", "", 0}, {" ", "-", 0}, {"1", "", 0}, {"", "0", 0}, {"", "", 6}, {"", "", 1}, {"x", "", 0}} {
		f.Add(s.before, s.after, s.change)
	}
	f.Fuzz(func(t *testing.T, before, after string, change uint8) {
		c, _, _ := newCodes()
		code, _ := c.New()
		b := []byte(code)
		if i := int(change % (CodeDigits + 1)); i > 0 {
			b[i-1] = '0' + (b[i-1]-'0'+1)%10
		}
		typed := before + string(b) + after
		err := c.Check(phone, typed)
		given, ok := ParseCode(typed)
		if right := ok && given == code; right != (err == nil) {
			t.Fatalf("code %s, typed %q: %v", code, typed, err)
		}
		var we *WrongCodeError
		if err != nil && (!errors.As(err, &we) || we.Left != CodeTries-1) {
			t.Fatalf("typed %q: %v, want a counted wrong try", typed, err)
		}
	})
}
