package qfpaysim

import (
	"slices"
	"strconv"
)

// QFPay's gateway is written in Python and writes JSON with json.dumps'
// defaults: ", " and ": " separators, and everything outside printable
// ASCII escaped as \uXXXX (lower-case hex, surrogate pairs above U+FFFF).
// Notifications are signed over exactly these bytes, so a verifier that
// re-serialises the JSON (Go's encoder writes `{"k":"v"}`) fails against
// the real gateway; the simulator writes the same bytes so that it fails
// here too.

// field is one member of a JSON object written in a fixed order.
type field struct {
	k string
	v any
}

// object is a JSON object whose members keep their order.
type object []field

// pyJSON encodes v the way Python's json.dumps(v) does. v is built of
// string, int64, nil, object, map[string]string, map[string]any (keys
// sorted), and slices of those. Integers are for the few answers where
// QFPay writes a number (a CPM payment's txamt).
func pyJSON(v any) []byte {
	return appendPy(nil, v)
}

func appendPy(b []byte, v any) []byte {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...)
	case string:
		return appendPyString(b, v)
	case int64:
		return strconv.AppendInt(b, v, 10)
	case object:
		b = append(b, '{')
		for i, f := range v {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = appendPyString(b, f.k)
			b = append(b, ": "...)
			b = appendPy(b, f.v)
		}
		return append(b, '}')
	case map[string]string:
		return appendPy(b, sortedObject(v))
	case map[string]any:
		return appendPy(b, sortedObject(v))
	case []object:
		return appendPyList(b, v)
	case []map[string]string:
		return appendPyList(b, v)
	case []string:
		return appendPyList(b, v)
	}
	panic("qfpaysim: pyJSON cannot encode this type")
}

func sortedObject[V any](m map[string]V) object {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	o := make(object, len(keys))
	for i, k := range keys {
		o[i] = field{k, m[k]}
	}
	return o
}

func appendPyList[E any](b []byte, list []E) []byte {
	b = append(b, '[')
	for i, e := range list {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = appendPy(b, e)
	}
	return append(b, ']')
}

const hexDigits = "0123456789abcdef"

func appendU(b []byte, r rune) []byte {
	return append(b, '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
}

// appendPyString writes s as json.dumps(s) with ensure_ascii=True does.
// Invalid UTF-8 (which the simulator never accepts) is written as U+FFFD.
func appendPyString(b []byte, s string) []byte {
	b = append(b, '"')
	for _, r := range s {
		switch {
		case r == '"':
			b = append(b, '\\', '"')
		case r == '\\':
			b = append(b, '\\', '\\')
		case r == '\n':
			b = append(b, '\\', 'n')
		case r == '\r':
			b = append(b, '\\', 'r')
		case r == '\t':
			b = append(b, '\\', 't')
		case r == '\b':
			b = append(b, '\\', 'b')
		case r == '\f':
			b = append(b, '\\', 'f')
		case r >= ' ' && r <= '~':
			b = append(b, byte(r))
		case r > 0xffff:
			r -= 0x10000
			b = appendU(b, 0xd800+(r>>10))
			b = appendU(b, 0xdc00+(r&0x3ff))
		default:
			b = appendU(b, r)
		}
	}
	return append(b, '"')
}
