package ecr

import (
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strings"
)

// readJSONForm reads the docs' form {"content":{...},"digest":"..."}. The
// content may also be given as a JSON string holding Odoo's content text,
// which is then signed as that text. A content object is signed as the
// docs say: its fields sorted by name, written {k='text',k=number}, each
// number exactly as written in the JSON.
func readJSONForm(plain, key string) ([]Field, error) {
	dec := json.NewDecoder(strings.NewReader(plain))
	dec.UseNumber()
	malformed := refuse(ErrMalformed, `the request must be {"content":{...},"digest":"..."}`)
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, malformed
	}
	var (
		fields               []Field
		text, digest         string
		haveText, haveFields bool
		haveDigest           bool
	)
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, malformed
		}
		switch t {
		case "content":
			if haveText || haveFields {
				return nil, refuseField(ErrMalformed, "content", "", "is given twice")
			}
			t, err := dec.Token()
			switch {
			case err != nil:
				return nil, malformed
			case t == json.Delim('{'):
				if fields, err = readJSONContent(dec); err != nil {
					return nil, err
				}
				haveFields = true
			default:
				s, ok := t.(string)
				if !ok {
					return nil, refuseField(ErrMalformed, "content", "", "must be an object or Odoo's content text")
				}
				text, haveText = s, true
			}
		case "digest":
			s, ok := "", false
			if t, err := dec.Token(); err == nil {
				s, ok = t.(string)
			}
			if !ok || haveDigest {
				return nil, refuseField(ErrMalformed, "digest", "", "must be given once, as a string")
			}
			digest, haveDigest = s, true
		default:
			return nil, malformed
		}
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('}') {
		return nil, malformed
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, refuse(ErrMalformed, "nothing may follow the request")
	}
	if !haveDigest || !(haveText || haveFields) {
		return nil, refuse(ErrMalformed, "the request needs both content and digest")
	}
	if haveText {
		if err := checkDigest(text, digest, key); err != nil {
			return nil, err
		}
		fields, rest, err := parseContent(text)
		if err != nil {
			return nil, err
		}
		if rest != "" {
			return nil, refuse(ErrMalformed, "the content must be one {...}")
		}
		return fields, nil
	}
	sorted := slices.Clone(fields)
	slices.SortFunc(sorted, func(a, b Field) int { return strings.Compare(a.Key, b.Key) })
	if err := checkDigest(formatContent(sorted), digest, key); err != nil {
		return nil, err
	}
	return fields, nil
}

// readJSONContent reads the content object's fields after its '{': strings
// and numbers, and null as an empty string (as Odoo writes a None). Names
// and values follow parseContent's rules, so the signed text is
// unambiguous.
func readJSONContent(dec *json.Decoder) ([]Field, error) {
	var fields []Field
	seen := map[string]bool{}
	for dec.More() {
		t, err := dec.Token()
		key, _ := t.(string)
		if err != nil || key == "" || strings.IndexFunc(key, func(r rune) bool { return r > 0x7f || !isKeyByte(byte(r)) }) >= 0 {
			return nil, refuse(ErrMalformed, "content field names are letters, digits and '_'")
		}
		if seen[key] {
			return nil, refuseField(ErrMalformed, key, "", "is given twice")
		}
		if len(fields) == maxFields {
			return nil, refuse(ErrMalformed, "content has too many fields")
		}
		seen[key] = true
		f := Field{Key: key}
		switch v, err := dec.Token(); {
		case err != nil:
			return nil, refuse(ErrMalformed, "the content is not valid JSON")
		case v == nil:
			f.Quoted = true
		default:
			switch v := v.(type) {
			case string:
				if strings.Contains(v, "'") {
					return nil, refuseField(ErrMalformed, key, "", "holds a single quote, which this format cannot carry")
				}
				f.Value, f.Quoted = v, true
			case json.Number:
				f.Value = v.String()
			default:
				return nil, refuseField(ErrMalformed, key, "", "must be a string or a number")
			}
		}
		fields = append(fields, f)
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('}') {
		return nil, refuse(ErrMalformed, "the content is not valid JSON")
	}
	return fields, nil
}
