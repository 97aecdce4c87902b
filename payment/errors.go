package payment

import "fmt"

// FieldError reports input that breaks a rule. It names the field and the
// rule so the cashier (or a script) can fix exactly that, and it is returned
// before anything is sent to a gateway.
type FieldError struct {
	Field string // "amount", "expired_time", "goods_name", ...
	Value string // the offending input, for context; never a secret
	Rule  string // the rule that was broken, in plain words
}

func (e *FieldError) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("%s: %s", e.Field, e.Rule)
	}
	return fmt.Sprintf("%s %q: %s", e.Field, e.Value, e.Rule)
}

func fieldErr(field, value, rule string) error {
	return &FieldError{Field: field, Value: value, Rule: rule}
}
