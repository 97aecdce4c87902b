package ecr

import (
	"strings"
)

// Field is one name and value of a request's content, as it was sent.
type Field struct {
	Key    string
	Value  string // a string's characters, or a number's text exactly as written
	Quoted bool   // written as 'text' (a Python str, a JSON string); false for a bare number
}

// maxFields bounds a content: the richest instruction has nine fields.
const maxFields = 32

// parseContent reads the content text Odoo's qfpay_sign_request writes with
// a Python f-string, `{k1='text',k2=12.5}`, from the start of s, and returns
// its fields in the order sent and what follows the closing brace.
//
// Python writes a str between single quotes without escaping anything, so a
// value holding a quote cannot be told apart from the end of the value. The
// rule here: a value ends at its first quote, and that quote must be
// followed by ',' or '}'; any other quote in a value refuses the request.
// (Odoo's values — a uuid-based out_trade_no, a syssn, a channel name —
// never hold one.) A bare value is a number as Python prints an int or a
// float (10, 10.5, 10.0, 1e-05), which is also a JSON number. No spaces
// anywhere, as Python writes none; keys are letters, digits and '_', each
// at most once.
func parseContent(s string) ([]Field, string, error) {
	if !strings.HasPrefix(s, "{") {
		return nil, "", refuse(ErrMalformed, "content must start with '{'")
	}
	i := 1
	if strings.HasPrefix(s[i:], "}") {
		return nil, s[i+1:], nil
	}
	var fields []Field
	seen := map[string]bool{}
	for {
		k := i
		for i < len(s) && isKeyByte(s[i]) {
			i++
		}
		key := s[k:i]
		if key == "" {
			return nil, "", refuse(ErrMalformed, "content field names are letters, digits and '_'")
		}
		if i >= len(s) || s[i] != '=' {
			return nil, "", refuseField(ErrMalformed, key, "", "must be followed by '='")
		}
		i++
		f := Field{Key: key}
		if i < len(s) && s[i] == '\'' {
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return nil, "", refuseField(ErrMalformed, key, "", "has no closing quote")
			}
			f.Value, f.Quoted = s[i+1:i+1+end], true
			i += end + 2
			if i >= len(s) || (s[i] != ',' && s[i] != '}') {
				return nil, "", refuseField(ErrMalformed, key, "", "holds a single quote, which this format cannot carry")
			}
		} else {
			v := i
			for i < len(s) && isBareByte(s[i]) {
				i++
			}
			if f.Value = s[v:i]; f.Value == "" {
				return nil, "", refuseField(ErrMalformed, key, "", "has no value (text goes in single quotes, numbers bare)")
			}
			if !isNumber(f.Value) {
				return nil, "", refuseField(ErrMalformed, key, f.Value, "is not a number (text goes in single quotes)")
			}
		}
		if seen[key] {
			return nil, "", refuseField(ErrMalformed, key, "", "is given twice")
		}
		if len(fields) == maxFields {
			return nil, "", refuse(ErrMalformed, "content has too many fields")
		}
		seen[key] = true
		fields = append(fields, f)
		if i >= len(s) {
			return nil, "", refuse(ErrMalformed, "content has no closing '}'")
		}
		switch s[i] {
		case '}':
			return fields, s[i+1:], nil
		case ',':
			i++
		default:
			return nil, "", refuseField(ErrMalformed, key, "", "must be followed by ',' or '}'")
		}
	}
}

func isKeyByte(c byte) bool {
	return c == '_' || ('0' <= c && c <= '9') || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
}

// isNumber reports whether s is a JSON number, as Python's int and float
// reprs are (Python's inf and nan never reach it: JavaScript sends those
// as null).
func isNumber(s string) bool {
	i := 0
	digits := func() int {
		n := 0
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i, n = i+1, n+1
		}
		return n
	}
	if i < len(s) && s[i] == '-' {
		i++
	}
	start := i
	if n := digits(); n == 0 || (n > 1 && s[start] == '0') {
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}

func isBareByte(c byte) bool {
	return c == '.' || c == '+' || c == '-' || ('0' <= c && c <= '9') || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
}

// formatContent writes fields as parseContent reads them: the text whose
// MD5 the docs' JSON form is signed with (keys sorted by the caller).
func formatContent(fields []Field) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, f := range fields {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(f.Key)
		b.WriteByte('=')
		if f.Quoted {
			b.WriteByte('\'')
			b.WriteString(f.Value)
			b.WriteByte('\'')
		} else {
			b.WriteString(f.Value)
		}
	}
	b.WriteByte('}')
	return b.String()
}
