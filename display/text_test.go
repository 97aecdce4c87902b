package display

import (
	"encoding/binary"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"
	"testing"

	"fyne.io/fyne/v2/theme"

	"qrkiosk/assets"
	"qrkiosk/display/view"
	"qrkiosk/payment"
)

// allTexts is every customer text: each payment.Names literal in
// view/text.go (read from the source, so a text added there is checked
// without being listed here) and the wallet names.
func allTexts(t *testing.T) []payment.Names {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "view/text.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []payment.Names
	ast.Inspect(f, func(n ast.Node) bool {
		lit, ok := n.(*ast.CompositeLit)
		if !ok {
			return true
		}
		if sel, ok := lit.Type.(*ast.SelectorExpr); !ok || sel.Sel.Name != "Names" {
			return true
		}
		var names payment.Names
		for _, e := range lit.Elts {
			kv := e.(*ast.KeyValueExpr)
			v, err := strconv.Unquote(kv.Value.(*ast.BasicLit).Value)
			if err != nil {
				t.Fatal(err)
			}
			switch kv.Key.(*ast.Ident).Name {
			case "En":
				names.En = v
			case "ZhHant":
				names.ZhHant = v
			case "ZhHans":
				names.ZhHans = v
			}
		}
		out = append(out, names)
		return false
	})
	if len(out) < 20 {
		t.Fatalf("found %d texts in view/text.go", len(out))
	}
	for _, p := range append(payment.MPMPayTypes(), payment.CPMPayTypes()...) {
		out = append(out, p.Name)
	}
	return out
}

func TestTextsAreTrilingual(t *testing.T) {
	for _, n := range allTexts(t) {
		if n.En == "" || n.ZhHant == "" || n.ZhHans == "" {
			t.Errorf("%+v: every customer text needs English, Traditional and Simplified Chinese", n)
		}
	}
}

// TestTextsHaveGlyphs checks that the font each text is drawn with has every
// one of its characters. A missing glyph would come from whatever CJK font
// the machine has (or be a box where it has none): if this fails after a
// text changed, run assets/subset.sh.
func TestTextsHaveGlyphs(t *testing.T) {
	fonts := map[string]map[rune]bool{}
	for _, r := range []interface {
		Name() string
		Content() []byte
	}{assets.Font(), theme.DefaultTextFont(), theme.DefaultTextBoldFont()} {
		cmap, err := parseCmap(r.Content())
		if err != nil {
			t.Fatalf("%s: %v", r.Name(), err)
		}
		fonts[r.Name()] = cmap
	}
	// The parser itself: Noto Sans has no hanzi; the bundled font has them.
	if fonts[theme.DefaultTextFont().Name()]['中'] || !fonts[assets.Font().Name()]['福'] || !fonts[theme.DefaultTextFont().Name()]['A'] {
		t.Fatal("cmap parser reads the fonts wrong")
	}
	texts := []string{"HK$1,234,567.89", "US$0.50", "¥1,500", "€12.00", "฿99.00", "00:00", "Lucky Star Café 福星茶餐廳"}
	for _, n := range allTexts(t) {
		texts = append(texts, view.Lines(n, view.DefaultOrder)...)
		texts = append(texts, view.Inline(n, view.DefaultOrder))
	}
	for _, s := range texts {
		for _, bold := range []bool{false, true} {
			f := fontFor(s, bold)
			for _, r := range s {
				if !fonts[f.Name()][r] {
					t.Errorf("%q (bold %v): %s has no glyph for %q", s, bold, f.Name(), r)
				}
			}
		}
	}
}

// parseCmap reads the Unicode characters a TrueType font maps (cmap
// formats 4 and 12), enough to check coverage without a font library.
func parseCmap(font []byte) (map[rune]bool, error) {
	be := binary.BigEndian
	numTables := int(be.Uint16(font[4:]))
	var cmap []byte
	for i := 0; i < numTables; i++ {
		rec := font[12+16*i:]
		if string(rec[:4]) == "cmap" {
			off, n := be.Uint32(rec[8:]), be.Uint32(rec[12:])
			cmap = font[off : off+n]
		}
	}
	if cmap == nil {
		return nil, fmt.Errorf("no cmap table")
	}
	out := map[rune]bool{}
	for i := 0; i < int(be.Uint16(cmap[2:])); i++ {
		sub := cmap[be.Uint32(cmap[4+8*i+4:]):]
		switch be.Uint16(sub) {
		case 4:
			segs := int(be.Uint16(sub[6:])) / 2
			ends, starts := sub[14:], sub[16+2*segs:]
			deltas, ranges := sub[16+4*segs:], sub[16+6*segs:]
			for s := 0; s < segs; s++ {
				end, start := rune(be.Uint16(ends[2*s:])), rune(be.Uint16(starts[2*s:]))
				delta, ro := be.Uint16(deltas[2*s:]), int(be.Uint16(ranges[2*s:]))
				for c := start; c <= end && c != 0xFFFF; c++ {
					g := uint16(c) + delta
					if ro != 0 {
						g = be.Uint16(ranges[2*s+ro+2*int(c-start):])
						if g != 0 {
							g += delta
						}
					}
					if g != 0 {
						out[c] = true
					}
				}
			}
		case 12:
			for j := 0; j < int(be.Uint32(sub[12:])); j++ {
				g := sub[16+12*j:]
				for c := be.Uint32(g); c <= be.Uint32(g[4:]); c++ {
					out[rune(c)] = true
				}
			}
		}
	}
	return out, nil
}
