package config

import (
	"bytes"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Encode writes f as config.toml in one documented layout: a header, the
// top-level settings, then one table per section, each setting that is set
// under a line saying what it is. Settings left at their zero value are
// left out (the kiosk's defaults apply). A person's own comments are not
// kept: the previous file is (Save keeps it as config.toml.bak).
//
// It walks File's fields by their toml tags, so a section added to File
// is written without changes here.
func Encode(f File) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(fileHeader)
	if err := encodeTable(&b, "", reflect.ValueOf(f)); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

const fileHeader = `# qrkiosk settings, written by qrkiosk (the setup page or qrkiosk setup).
# The previous version is kept beside this file as config.toml.bak.
# Check: qrkiosk config check; test each part: qrkiosk config test.
# Every setting, and the environment variable that overrides it: README.md.

`

// keyDocs say what each setting is, by its dotted key: the line written
// above it.
var keyDocs = map[string]string{
	"gateway":                "the gateway that charges: qfpay or scanforpay",
	"merchant_name":          "the shop's name on the customer screen",
	"currency":               "ISO 4217 code of the prices",
	"pay_types":              "the wallets offered, in the order the cashier sees them",
	"expiry_minutes":         "how long a QR can be paid (5-120 minutes)",
	"udid":                   "this kiosk's device id, shown in the gateway's portal",
	"pin":                    "the PIN that leaves the full-screen kiosk",
	"manager_pin_hash":       "the manager PIN (refunds, settings), as a salted hash; never the PIN",
	"layout":                 "dual (cashier + customer window) or single (one full-screen window)",
	"relay_url":              "the notify relay's websocket (wss://…/ws)",
	"relay_token":            "this kiosk's token at the relay",
	"sound":                  "the chime on Paid and the tone on a problem",
	"logo":                   "the logo on the customer's idle screen (PNG or JPEG; relative to this file)",
	"qfpay":                  "QFPay: the credentials QFPay issued",
	"qfpay.env":              "sandbox, test or production",
	"qfpay.base_url":         "a QFPay-compatible gateway (wins over env)",
	"qfpay.appcode":          "the app code",
	"qfpay.key":              "the client key",
	"qfpay.mchid":            "the merchant id, only if QFPay issued one",
	"qfpay.sign_type":        "MD5 or SHA256",
	"scanforpay":             "ScanForPay: read only with gateway = \"scanforpay\"",
	"scanforpay.base_url":    "the gateway (default https://pay.scanforpay.com)",
	"scanforpay.partner_no":  "the partner number",
	"scanforpay.store_no":    "the store number",
	"scanforpay.key":         "the sign key",
	"scanforpay.terminal_no": "this kiosk's terminal number (at most 20 characters)",
	"scanforpay.notify_url":  "the relay's public https://…/notify/scanforpay",
}

// encodeTable writes the settings of table v (prefix: its dotted name, ""
// for the top level): its plain settings first, as TOML requires, then
// its sub-tables that hold anything.
func encodeTable(b *bytes.Buffer, prefix string, v reflect.Value) error {
	t := v.Type()
	var tables []int
	for i := range t.NumField() {
		fv, name := v.Field(i), tomlName(t.Field(i))
		if name == "" {
			continue
		}
		if fv.Kind() == reflect.Struct {
			tables = append(tables, i)
			continue
		}
		if fv.IsZero() {
			continue
		}
		key := dotted(prefix, name)
		val, err := encodeValue(fv)
		if err != nil {
			return fmt.Errorf("config: %s: %w", key, err)
		}
		if doc := keyDocs[key]; doc != "" {
			fmt.Fprintf(b, "# %s\n", doc)
		}
		fmt.Fprintf(b, "%s = %s\n", name, val)
	}
	for _, i := range tables {
		fv := v.Field(i)
		if fv.IsZero() {
			continue
		}
		key := dotted(prefix, tomlName(t.Field(i)))
		b.WriteString("\n")
		if doc := keyDocs[key]; doc != "" {
			fmt.Fprintf(b, "# %s\n", doc)
		}
		fmt.Fprintf(b, "[%s]\n", key)
		if err := encodeTable(b, key, fv); err != nil {
			return err
		}
	}
	return nil
}

// tomlName is a field's key: its toml tag, "" for a field without one.
func tomlName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
	if name == "-" || !f.IsExported() {
		return ""
	}
	return name
}

func dotted(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

// encodeValue is a setting's value in TOML: a string, an integer, a
// boolean or an array of strings, the kinds File uses.
func encodeValue(v reflect.Value) (string, error) {
	switch v.Kind() {
	case reflect.Pointer:
		return encodeValue(v.Elem())
	case reflect.String:
		return tomlString(v.String())
	case reflect.Bool:
		return strconv.FormatBool(v.Bool()), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(v.Int(), 10), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.FormatUint(v.Uint(), 10), nil
	case reflect.Slice:
		parts := make([]string, v.Len())
		for i := range parts {
			s, err := encodeValue(v.Index(i))
			if err != nil {
				return "", err
			}
			parts[i] = s
		}
		return "[" + strings.Join(parts, ", ") + "]", nil
	}
	return "", fmt.Errorf("a %s cannot be written", v.Type())
}

// tomlString is s as a TOML basic string: quotes, backslashes and control
// characters escaped, the rest as it is. TOML files are UTF-8, so a string
// that is not cannot be written.
func tomlString(s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", fmt.Errorf("%q is not UTF-8 text", s)
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\b':
			b.WriteString(`\b`)
		case '\t':
			b.WriteString(`\t`)
		case '\n':
			b.WriteString(`\n`)
		case '\f':
			b.WriteString(`\f`)
		case '\r':
			b.WriteString(`\r`)
		default:
			if r < 0x20 || r == 0x7f {
				fmt.Fprintf(&b, `\u%04X`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String(), nil
}
