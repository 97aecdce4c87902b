package relay

import (
	"context"
	"reflect"
	"testing"
)

// A zero Config field takes its value from Defaults, every one of them:
// a default added there and forgotten in withDefaults would leave a limit
// at 0 (off, or a busy loop).
func TestZeroConfigTakesEveryDefault(t *testing.T) {
	s, err := NewServer(Config{Key: testKey, Store: sqliteAt(t, t.TempDir())})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(context.Background())
	want, got := reflect.ValueOf(Defaults()), reflect.ValueOf(s.cfg)
	for i := range want.NumField() {
		if want.Field(i).IsZero() {
			continue
		}
		if name := want.Type().Field(i).Name; !reflect.DeepEqual(got.Field(i).Interface(), want.Field(i).Interface()) {
			t.Errorf("%s: %v, want the default %v", name, got.Field(i), want.Field(i))
		}
	}
}
