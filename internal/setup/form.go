package setup

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"qrkiosk/internal/config"
	"qrkiosk/internal/pin"
	"qrkiosk/payment"
)

// Change is what the owner typed: values by field key (a secret or a PIN
// left empty keeps what is set) and the secrets to remove.
type Change struct {
	Values map[string]string `json:"values"`
	Clear  []string          `json:"clear,omitempty"`
}

// FieldError is a value refused: the setting, by its key, and the rule.
type FieldError struct {
	Key  string `json:"key"`
	Rule string `json:"rule"`
}

// FieldErrors are every value refused at once.
type FieldErrors []FieldError

func (e FieldErrors) Error() string {
	parts := make([]string, len(e))
	for i, fe := range e {
		parts[i] = fe.Key + ": " + fe.Rule
	}
	return strings.Join(parts, "\n")
}

// defaults are what the kiosk uses for a setting the file leaves out, as
// the page shows it.
var defaults = map[string]string{
	"gateway":          config.GatewayQFPay,
	"qfpay.env":        "production",
	"currency":         "HKD",
	"expiry_minutes":   "30",
	"sound":            "true",
	"printer.width_mm": "80",
	"printer.auto":     "false",
}

// Values are the file's settings as the page shows them: every field but
// the write-only ones, as text (wallets comma-separated in order), and
// what the kiosk uses where the file says nothing.
func Values(f config.File) map[string]string {
	v := reflect.ValueOf(f)
	out := map[string]string{}
	for _, fd := range Fields() {
		if fd.Kind == KindSecret || fd.Kind == KindPIN {
			continue
		}
		fv, _ := fileField(v, fd.Key)
		s := text(fv)
		if s == "" {
			s = defaults[fd.Key]
		}
		out[fd.Key] = s
	}
	// As the kiosk reads them: the gateway in lower case, the wallets by
	// the names the page offers (a file may name them by code or in any
	// case), so that saving the page unchanged keeps what the file meant.
	out["gateway"] = strings.ToLower(out["gateway"])
	out["pay_types"] = walletNames(out["gateway"], out["pay_types"])
	if out["pay_types"] == "" {
		var all []string
		fd, _ := field("pay_types")
		for _, c := range fd.Wallets[out["gateway"]] {
			all = append(all, c.Value)
		}
		out["pay_types"] = strings.Join(all, ",")
	}
	return out
}

// walletNames are the pay types listed (comma-separated, by wallet or
// code) as the wallets of gateway the page offers, in order, each once;
// an entry the page does not offer is kept as written, for the save's
// check to name.
func walletNames(gateway, listed string) string {
	fd, _ := field("pay_types")
	offered := choiceValues(fd.Wallets[gateway])
	var out []string
	for _, w := range strings.Split(listed, ",") {
		w = strings.TrimSpace(w)
		if w == "" {
			continue
		}
		name := w
		if p, err := payment.LookupPayType(w); err == nil && slices.Contains(offered, p.Wallet) {
			name = p.Wallet
		} else if i := slices.IndexFunc(offered, func(o string) bool { return strings.EqualFold(o, w) }); i >= 0 {
			name = offered[i]
		}
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	return strings.Join(out, ",")
}

// SecretsSet says which write-only settings the file has a value for.
func SecretsSet(f config.File) map[string]bool {
	v := reflect.ValueOf(f)
	out := map[string]bool{}
	for _, fd := range Fields() {
		if fd.Kind == KindSecret || fd.Kind == KindPIN {
			fv, _ := fileField(v, fd.Key)
			out[fd.Key] = !fv.IsZero()
		}
	}
	return out
}

// text is a File field's value as the page shows it.
func text(v reflect.Value) string {
	switch v.Kind() {
	case reflect.String:
		return v.String()
	case reflect.Int:
		if v.Int() == 0 {
			return ""
		}
		return strconv.FormatInt(v.Int(), 10)
	case reflect.Pointer:
		if v.IsNil() {
			return ""
		}
		return text(v.Elem())
	case reflect.Bool:
		return strconv.FormatBool(v.Bool())
	case reflect.Slice:
		parts := make([]string, v.Len())
		for i := range parts {
			parts[i] = v.Index(i).String()
		}
		return strings.Join(parts, ",")
	}
	return ""
}

// Apply returns f with the change made (a new manager PIN hashed), or
// every value refused, each with its rule; f itself is not changed. What
// the values mean together (both credentials or neither, a relay URL with
// its token) is config check's, which Save runs next.
func Apply(f config.File, ch Change) (config.File, error) {
	return apply(f, ch, pin.Hash)
}

func apply(f config.File, ch Change, hashPIN func(string) (string, error)) (config.File, error) {
	was := Values(f)
	f = clone(f)
	v := reflect.ValueOf(&f).Elem()
	var errs FieldErrors
	gateway := strings.ToLower(strings.TrimSpace(ch.Values["gateway"]))
	if gateway == "" {
		gateway = was["gateway"]
	}
	typed := map[string]bool{} // the secrets typed in this change
	keys := make([]string, 0, len(ch.Values))
	for k := range ch.Values {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, key := range keys {
		fd, ok := field(key)
		if !ok {
			errs = append(errs, FieldError{key, "is not a setting of this kiosk"})
			continue
		}
		if old, shown := was[key]; shown && strings.TrimSpace(ch.Values[key]) == old {
			// As the page showed it: the file keeps what it has, even
			// where the page's rule is stricter than the kiosk's.
			continue
		}
		val, keep, rule := check(fd, ch.Values[key], gateway)
		if rule != "" {
			errs = append(errs, FieldError{key, rule})
			continue
		}
		if keep {
			continue
		}
		if fd.Kind == KindSecret {
			typed[key] = true
		}
		if fd.Kind == KindPIN && !fd.Plain {
			h, err := hashPIN(val)
			if err != nil {
				errs = append(errs, FieldError{key, err.Error()})
				continue
			}
			val = h
		}
		fv, _ := fileField(v, key)
		set(fv, val)
	}
	for _, key := range ch.Clear {
		if key == "logo" {
			f.Logo = ""
			continue
		}
		fd, ok := field(key)
		if !ok || fd.Kind != KindSecret {
			errs = append(errs, FieldError{key, "only a key, a token or the logo can be cleared"})
			continue
		}
		fv, _ := fileField(v, key)
		fv.SetZero()
	}
	now := Values(f)
	for _, secret := range slices.Sorted(maps.Keys(sentTo)) {
		where := sentTo[secret]
		fv, _ := fileField(v, secret)
		if typed[secret] || fv.IsZero() {
			continue
		}
		for _, dest := range where {
			if now[dest] != was[dest] {
				errs = append(errs, FieldError{secret, "type it again: " + dest + " changed, and a key kept from before goes only where it was set"})
				break
			}
		}
	}
	if len(errs) > 0 {
		return config.File{}, errs
	}
	return f, nil
}

// sentTo are the settings that say where a write-only key or token goes
// (a Test sends it there): one of them changed, a key kept from before
// must be typed again, or the page would hand the stored key to any
// address typed into it.
var sentTo = map[string][]string{
	"relay_token":    {"relay_url"},
	"qfpay.key":      {"qfpay.env", "qfpay.base_url"},
	"scanforpay.key": {"scanforpay.base_url"},
}

// check reads one typed value against its field's rule: the value to set,
// keep (a write-only setting left empty), or the rule it breaks.
func check(fd Field, typed, gateway string) (val string, keep bool, rule string) {
	val = strings.TrimSpace(typed)
	if !utf8.ValidString(val) || strings.ContainsFunc(val, unicode.IsControl) {
		return "", false, "must be plain text on one line"
	}
	if fd.Max > 0 && fd.Kind != KindNumber && utf8.RuneCountInString(val) > fd.Max {
		return "", false, fmt.Sprintf("must be at most %d characters", fd.Max)
	}
	switch fd.Kind {
	case KindSecret:
		return val, val == "", ""
	case KindPIN:
		if val == "" {
			return "", true, ""
		}
		if len(val) < 4 || len(val) > 12 || strings.Trim(val, "0123456789") != "" {
			return "", false, "must be 4 to 12 digits"
		}
	case KindURL:
		if strings.ContainsRune(val, ' ') {
			return "", false, "must be an address without spaces"
		}
	case KindChoice, KindBool:
		if val == "" && (fd.Optional || fd.Kind == KindBool) {
			return "", false, ""
		}
		i := slices.IndexFunc(fd.Choices, func(c Choice) bool { return strings.EqualFold(c.Value, val) })
		if i < 0 {
			return "", false, "must be one of " + strings.Join(choiceValues(fd.Choices), ", ")
		}
		val = fd.Choices[i].Value
	case KindNumber:
		if val == "" {
			return "", false, ""
		}
		n, err := strconv.Atoi(val)
		if err != nil || n < fd.Min || n > fd.Max {
			return "", false, fmt.Sprintf("must be a whole number from %d to %d", fd.Min, fd.Max)
		}
	case KindWallets:
		var picked []string
		offered := choiceValues(fd.Wallets[gateway])
		for _, w := range strings.Split(val, ",") {
			w = strings.TrimSpace(w)
			switch {
			case w == "":
			case !slices.Contains(offered, w):
				return "", false, fmt.Sprintf("%q is not a wallet of %s; choose from %s", w, gateway, strings.Join(offered, ", "))
			case !slices.Contains(picked, w):
				picked = append(picked, w)
			}
		}
		if len(picked) == 0 {
			return "", false, "choose at least one wallet"
		}
		val = strings.Join(picked, ",")
	}
	return val, false, ""
}

func choiceValues(cs []Choice) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Value
	}
	return out
}

// set puts a checked value in a File field of any kind File uses.
func set(fv reflect.Value, val string) {
	switch fv.Kind() {
	case reflect.String:
		fv.SetString(val)
	case reflect.Int:
		n, _ := strconv.Atoi(val)
		fv.SetInt(int64(n))
	case reflect.Pointer: // *bool: "" is the default
		if val == "" {
			fv.SetZero()
			return
		}
		b := val == "true"
		fv.Set(reflect.ValueOf(&b))
	case reflect.Slice:
		fv.Set(reflect.ValueOf(strings.Split(val, ",")))
	}
}

// clone copies f deeply enough that Apply leaves the caller's File alone.
func clone(f config.File) config.File {
	f.PayTypes = slices.Clone(f.PayTypes)
	return f
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
