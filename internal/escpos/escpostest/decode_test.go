package escpostest

import (
	"slices"
	"strings"
	"testing"
)

func TestDecodeRefusesGarbage(t *testing.T) {
	for _, tc := range []struct {
		stream []byte
		want   string
	}{
		{[]byte("\x1b@hello"), "offset 2: unknown bytes 68 65 6c 6c"},
		{[]byte("\x1b@\x1dv0\x00\x02\x00\x02\x00\xff\xff"), "offset 2: escpostest: stream ends inside a command"},
		{[]byte("\x1dv0\x01\x01\x00\x01\x00\xff"), "mode 1"},
		{[]byte("\x1dv0\x00\x00\x00\x01\x00"), "empty image"},
		{[]byte("\x1dv0\x00\xff\x00\x01\x00"), "wider than any receipt printer"},
		{[]byte("\x1dV\x07"), "not a cut mode"},
		{[]byte("\x10\x04\x09"), "n must be 1 to 4"},
		{[]byte("\x1bd"), "ends inside a command"},
	} {
		_, err := Decode(tc.stream)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("% x: %v, want an error with %q", tc.stream, err, tc.want)
		}
	}
}

func TestDecodeStacksBands(t *testing.T) {
	stream := []byte("\x10\x04\x01\x1b@" +
		"\x1dv0\x00\x01\x00\x01\x00\x80" + // one row, a dot at x=0
		"\x1dv0\x00\x02\x00\x02\x00\x00\x01\xff\x00" + // two rows, 16 wide
		"\x1bd\x04\x1dV\x42\x00")
	doc, err := Decode(stream)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := doc.Names(), []string{"DLE EOT", "ESC @", "GS v 0", "GS v 0", "ESC d", "GS V"}; !slices.Equal(got, want) {
		t.Fatalf("%v, want %v", got, want)
	}
	if b := doc.Raster.Bounds(); b.Dx() != 16 || b.Dy() != 3 {
		t.Fatalf("raster %v, want 16×3", b)
	}
	dots := func(y int) string {
		var s strings.Builder
		for x := 0; x < 16; x++ {
			s.WriteByte(".#"[doc.Raster.ColorIndexAt(x, y)])
		}
		return s.String()
	}
	for y, want := range []string{"#...............", "...............#", "########........"} {
		if got := dots(y); got != want {
			t.Errorf("row %d: %s, want %s", y, got, want)
		}
	}
	if _, err := doc.PNG(); err != nil {
		t.Error(err)
	}
}

// FuzzDecode: no stream panics the decoder or makes it allocate without
// bound, and whatever it accepts is made of whole commands.
func FuzzDecode(f *testing.F) {
	f.Add([]byte("\x10\x04\x01\x1b@\x1dv0\x00\x01\x00\x01\x00\x80\x1bd\x04\x1dV\x01"))
	f.Add([]byte("\x1dv0\x30\x02\x00\x02\x00\x00\x01\xff\x00\x1dV\x42\x00"))
	f.Add([]byte("\x1b@garbage"))
	f.Fuzz(func(t *testing.T, stream []byte) {
		doc, err := Decode(stream)
		if err != nil {
			return
		}
		end := 0
		for i, c := range doc.Commands {
			if c.Offset != end {
				t.Fatalf("command %d at %d, previous ended at %d", i, c.Offset, end)
			}
			_, _, n, err := parse(stream[c.Offset:])
			if err != nil {
				t.Fatal(err)
			}
			end = c.Offset + n
		}
		if end != len(stream) {
			t.Fatalf("commands end at %d of %d", end, len(stream))
		}
		if doc.Raster != nil {
			if _, err := doc.PNG(); err != nil {
				t.Fatal(err)
			}
		}
	})
}
