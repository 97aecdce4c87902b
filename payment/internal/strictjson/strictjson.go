// Package strictjson refuses signed JSON that two readers could read
// differently: a key given twice in one object, at any depth. Go's decoder
// keeps the last copy and many others the first, so a signature over such
// text does not say which of the two was meant.
package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
)

// ErrDuplicateKey: an object gives the same key twice.
var ErrDuplicateKey = errors.New("JSON gives a key twice")

// maxShownKey bounds how much of a duplicated key an error repeats: the
// text comes from whoever sent the body and ends up in logs.
const maxShownKey = 40

// Check returns nil if b is exactly one JSON value in which no object has
// a key twice; otherwise an error, wrapping ErrDuplicateKey for a repeated
// key. Keys are the same when Go's decoder takes them for the same field:
// equal once unescaped ("\u0073tatus" is "status"), whatever their case
// ("Status" fills the field "status" too).
func Check(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber() // a number too large for a float64 is still valid JSON
	// One entry per open object or array: an object's keys so far (nil for
	// an array) and whether the next token is a key.
	type open struct {
		keys    map[string]struct{}
		wantKey bool
	}
	var stack []*open
	for {
		tok, err := dec.Token()
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return fmt.Errorf("not JSON: %w", err)
		}
		var top *open
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &open{keys: map[string]struct{}{}, wantKey: true})
		case json.Delim('['):
			stack = append(stack, &open{})
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		default:
			if top != nil && top.keys != nil && top.wantKey {
				k := fold(tok.(string))
				if _, dup := top.keys[k]; dup {
					return fmt.Errorf("%w: %s", ErrDuplicateKey, shown(tok.(string)))
				}
				top.keys[k] = struct{}{}
				top.wantKey = false
				continue
			}
		}
		if len(stack) == 0 {
			// The value is complete: nothing may follow it.
			if _, err := dec.Token(); err != io.EOF {
				return errors.New("not JSON: more after the value")
			}
			return nil
		}
		// A value (scalar, or object or array just closed) was read into
		// the enclosing object: its next token is a key.
		if tok != json.Delim('{') && tok != json.Delim('[') {
			if parent := stack[len(stack)-1]; parent.keys != nil {
				parent.wantKey = true
			}
		}
	}
}

// fold maps a key to one spelling per case-insensitive class, the classes
// strings.EqualFold (and so encoding/json's field matching) uses: each
// rune becomes the smallest rune of its Unicode simple-folding orbit.
func fold(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		b.WriteRune(least)
	}
	return b.String()
}

func shown(k string) string {
	if len(k) > maxShownKey {
		k = strings.ToValidUTF8(k[:maxShownKey], "") + "…"
	}
	return fmt.Sprintf("%q", k)
}
