package receipt

import (
	"go/ast"
	"go/parser"
	"go/token"
	"image"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestTextsHaveGlyphs reads every string in the package's code (the labels,
// the test slip's samples) and checks the bundled fonts have each
// character: a missing one would print as a box. If this fails after a text
// changed, run assets/fontdata/subset-sc.sh.
func TestTextsHaveGlyphs(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	seen := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err != nil {
				t.Fatal(err)
			}
			seen++
			missing, err := MissingGlyphs(s)
			if err != nil {
				t.Fatal(err)
			}
			if len(missing) > 0 {
				t.Errorf("%s: %q: the fonts have no glyph for %q", fset.Position(lit.Pos()), s, string(missing))
			}
			return true
		})
	}
	// The check itself: the labels were read, and a character outside both
	// fonts is found.
	if seen < 50 {
		t.Fatalf("read only %d strings", seen)
	}
	if m, _ := MissingGlyphs("鑫 HK$ −"); !slices.Equal(m, []rune{'鑫'}) {
		t.Fatalf("MissingGlyphs(鑫 HK$ −) = %q", string(m))
	}
}

// TestSimplifiedMerchantNames: a mainland merchant's name in simplified
// Chinese prints whole (KioskSans alone has only traditional hanzi).
func TestSimplifiedMerchantNames(t *testing.T) {
	for _, name := range []string{"星巴克咖啡 深圳湾万象城店", "广州酒家 东风路总店", "华润万家 罗湖店", "谢记云吞面"} {
		if m, err := MissingGlyphs(name); err != nil || len(m) > 0 {
			t.Errorf("%s: missing %q %v", name, string(m), err)
		}
	}
}

// TestMissingGlyphIsABox: a character neither font has is drawn as a box,
// not dropped, and takes its room on the line.
func TestMissingGlyphIsABox(t *testing.T) {
	f, err := newFace(24, false)
	if err != nil {
		t.Fatal(err)
	}
	img := image.NewPaletted(image.Rect(0, 0, 40, 40), Palette)
	f.draw(img, 5, 30, "鑫", ink)
	dots := 0
	for _, p := range img.Pix {
		dots += int(p)
	}
	if dots < 40 {
		t.Errorf("鑫 left %d dots, want a visible box", dots)
	}
	if f.width("A鑫B") <= f.width("AB") {
		t.Error("a missing character takes no room")
	}
}

func TestWrap(t *testing.T) {
	f, err := newFace(24, false)
	if err != nil {
		t.Fatal(err)
	}
	w := f.width("Transaction no.")
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"Transaction no. 交易編號", []string{"Transaction no.", "交易編號"}},
		{"  lead and  trail  ", []string{"lead and trail"}},
		{"", []string{""}},
		{"交易編號交易編號交易編號", []string{"交易編號交易", "編號交易編號"}},
	} {
		if got := f.wrap(tc.in, w); !slices.Equal(got, tc.want) {
			t.Errorf("wrap(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	// Languages stay whole when they fit a line alone.
	if got := f.pack([]string{"Keep this", "退款時請出示此單", "退款时请出示此单"}, f.width("退款時請出示此單 退")); !slices.Equal(got, []string{"Keep this", "退款時請出示此單", "退款时请出示此单"}) {
		t.Errorf("pack = %q", got)
	}
}

// FuzzWrap: any text at any width comes out as lines that fit (but for a
// single character wider than the line), with every visible character kept
// in order.
func FuzzWrap(f *testing.F) {
	f.Add("Lucky Star Café 福星茶餐廳", 120)
	f.Add("20261207154800020001", 30)
	f.Add("a  \t\nb\u200b鑫", 1)
	face, err := newFace(22, false)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string, w int) {
		if !utf8.ValidString(s) || len(s) > 400 {
			return
		}
		w = 1 + abs(w)%600
		lines := face.wrap(s, w)
		var joined strings.Builder
		for _, l := range lines {
			if face.width(l) > w && utf8.RuneCountInString(l) > 1 {
				t.Fatalf("line %q is %d wide, more than %d", l, face.width(l), w)
			}
			joined.WriteString(l)
		}
		visible := func(s string) string { return strings.ReplaceAll(clean(s), " ", "") }
		if visible(joined.String()) != visible(s) {
			t.Fatalf("wrap(%q) lost or moved characters: %q", s, lines)
		}
	})
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
