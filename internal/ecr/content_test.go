package ecr

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// TestParseContent reads the texts Python's f-string makes, and holds to
// the quote rule for the one thing it cannot make unambiguous.
func TestParseContent(t *testing.T) {
	cases := []struct {
		in   string
		want []Field
		rest string
		bad  string // a refusal's text
	}{
		{in: "{}", want: nil},
		{in: "{amt=10,amt2=10.5,amt3=10.0,e=1e-05}", want: []Field{{"amt", "10", false}, {"amt2", "10.5", false}, {"amt3", "10.0", false}, {"e", "1e-05", false}}},
		{in: "{a='',b='x y',c='{=}'}, digest:'X'}", want: []Field{{"a", "", true}, {"b", "x y", true}, {"c", "{=}", true}}, rest: ", digest:'X'}"},
		{in: "{a='中文'}", want: []Field{{"a", "中文", true}}},
		// A quote followed by ',' ends the value: Python's text for
		// a="x',b='y" is read as two fields, as any reader must.
		{in: "{a='x',b='y'}", want: []Field{{"a", "x", true}, {"b", "y", true}}},
		{in: "{a='it's'}", bad: "a holds a single quote"},
		{in: "{a='x''}", bad: "a holds a single quote"},
		{in: "{a='x}", bad: "a has no closing quote"},
		{in: "{a=}", bad: "a has no value"},
		{in: "{a=1", bad: "no closing '}'"},
		{in: "{a=1;b=2}", bad: "a must be followed by ',' or '}'"},
		{in: "{a=1,}", bad: "letters, digits and '_'"},
		{in: "{ a=1}", bad: "letters, digits and '_'"},
		{in: "{a =1}", bad: "a must be followed by '='"},
		{in: "{a=1,a=2}", bad: "a is given twice"},
		{in: "{a=[1, 2]}", bad: "a has no value"},
		{in: "{a=True}", bad: `a "True" is not a number`},
		{in: "{a=007}", bad: "not a number"},
		{in: "{a=1.}", bad: "not a number"},
		{in: "{a=1e}", bad: "not a number"},
		{in: "{a=--1}", bad: "not a number"},
		{in: "{a=-0.5E+3}", want: []Field{{"a", "-0.5E+3", false}}},
		{in: "content", bad: "must start with '{'"},
	}
	for _, c := range cases {
		fields, rest, err := parseContent(c.in)
		if c.bad != "" {
			if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), c.bad) {
				t.Errorf("parseContent(%q) = %v, %v; want a refusal saying %q", c.in, fields, err, c.bad)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(fields, c.want) || rest != c.rest {
			t.Errorf("parseContent(%q) = %v, %q, %v; want %v, %q", c.in, fields, rest, err, c.want, c.rest)
		}
	}
}

// FuzzParseContent: the parser takes only the text Python would write for
// what it read, so reading is never a guess.
func FuzzParseContent(f *testing.F) {
	for _, s := range []string{
		"{}", "{amt=12.34,channel='wx',func_type=1001,out_trade_no='" + tradeNo + "'}",
		"{a='x',b='y'}, digest:'00'}", "{a='it's'}", "{a=1e-05,b=''}", "{a='中文',b=-1}",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fields, rest, err := parseContent(s)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("refusal %v is not ErrMalformed", err)
			}
			return
		}
		if got := formatContent(fields) + rest; got != s {
			t.Fatalf("read %q as %v, which writes back as %q", s, fields, got)
		}
	})
}
