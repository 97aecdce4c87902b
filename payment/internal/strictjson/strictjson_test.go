package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	for _, c := range []struct {
		in  string
		dup string // the key named as given twice; "" = accepted
		bad bool   // not JSON
	}{
		{in: `{"response":{"header":{},"body":{"status":1}},"signature":"ab"}`},
		{in: `[{"a":1},{"a":2}]`}, // the same key in two objects is fine
		{in: `{"a":{"a":{"a":1}}}`},
		{in: `{"a":1,"b":[1,{"b":2}],"c":{"b":3}}`},
		{in: `"plain"`},
		{in: ` 12 `},
		{in: `{"n":123456789012345678901234567890}`},
		{in: `{"response":{},"response":{}}`, dup: `"response"`},
		{in: `{"response":{"body":{"status":0,"status":1}}}`, dup: `"status"`},
		{in: `[1,[2,{"x":1,"y":2,"x":3}]]`, dup: `"x"`},
		{in: `{"a":[{"k":1}],"b":{"c":{"d":{"k":1,"k":2}}}}`, dup: `"k"`},
		{in: `{"status":0,"\u0073tatus":1}`, dup: `"status"`},
		{in: `{"response":{},"Response":{}}`, dup: `"Response"`},
		{in: `{"signature":"a","ſignature":"b"}`, dup: `"ſignature"`}, // long s folds to s, as encoding/json matches it
		{in: "{\"k\":1,\"\u212a\":2}", dup: "\"\u212a\""},             // the Kelvin sign folds to k
		{in: `{"` + strings.Repeat("x", 100) + `":1,"` + strings.Repeat("x", 100) + `":2}`, dup: `"` + strings.Repeat("x", 40) + `…"`},
		{in: ``, bad: true},
		{in: `{"a":1`, bad: true},
		{in: `{"a":1}{"a":1}`, bad: true},
		{in: `{"a":1} x`, bad: true},
		{in: `{"a" 1}`, bad: true},
		{in: `{1:2}`, bad: true},
	} {
		err := Check([]byte(c.in))
		switch {
		case c.dup != "":
			if !errors.Is(err, ErrDuplicateKey) || !strings.HasSuffix(err.Error(), ": "+c.dup) {
				t.Errorf("Check(%.60s) = %v; want the duplicate %s", c.in, err, c.dup)
			}
		case c.bad:
			if err == nil || errors.Is(err, ErrDuplicateKey) {
				t.Errorf("Check(%.60s) = %v; want not JSON", c.in, err)
			}
		case err != nil:
			t.Errorf("Check(%.60s) = %v; want nil", c.in, err)
		}
	}
}

// hasDuplicate is an independent reading: each object is split into its
// members (key, then the raw value), every pair of keys compared with
// strings.EqualFold, and each value read the same way in turn.
func hasDuplicate(t *testing.T, raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) > 0 && raw[0] == '[':
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			t.Fatalf("valid JSON %q does not split: %v", raw, err)
		}
		for _, it := range items {
			if hasDuplicate(t, it) {
				return true
			}
		}
	case len(raw) > 0 && raw[0] == '{':
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.Token() // {
		var keys []string
		var values []json.RawMessage
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				t.Fatalf("valid JSON %q: %v", raw, err)
			}
			var v json.RawMessage
			if err := dec.Decode(&v); err != nil {
				t.Fatalf("valid JSON %q: %v", raw, err)
			}
			keys, values = append(keys, k.(string)), append(values, v)
		}
		for i := range keys {
			for j := range i {
				if strings.EqualFold(keys[i], keys[j]) {
					return true
				}
			}
		}
		for _, v := range values {
			if hasDuplicate(t, v) {
				return true
			}
		}
	}
	return false
}

func FuzzCheck(f *testing.F) {
	for _, s := range []string{
		`{"response":{"header":{"version":"1.0"},"body":{"code":1,"status":1}},"signature":"ab"}`,
		`{"response":{},"response":{}}`, `{"a":[{"b":1,"B":2}]}`, `{"ſ":1,"s":2}`, `[1,"x",null,true,{}]`,
		`{"a":{"b":{}},"c":[]}`, `{"\u0061":1,"a":2}`, `1e400`, `{"a":1}}`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		err := Check(b)
		if !json.Valid(b) {
			if err == nil {
				t.Fatalf("Check(%q) accepted invalid JSON", b)
			}
			return
		}
		dup := hasDuplicate(t, b)
		switch {
		case dup && err == nil:
			t.Fatalf("Check(%q) accepted a duplicated key", b)
		case !dup && err != nil:
			t.Fatalf("Check(%q) = %v; the reference finds no duplicate", b, err)
		case dup && !errors.Is(err, ErrDuplicateKey):
			t.Fatalf("Check(%q) = %v; want ErrDuplicateKey", b, err)
		}
	})
}
