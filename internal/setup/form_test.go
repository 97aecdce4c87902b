package setup

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"qrkiosk/internal/config"
	"qrkiosk/internal/pin"
)

// fakeHash stands for pin.Hash, whose 600 000 rounds are slow under -race.
func fakeHash(p string) (string, error) { return pin.HashIter(p, 1) }

func shopFile() config.File {
	var f config.File
	f.MerchantName = "陳記"
	f.QFPay.AppCode, f.QFPay.Key, f.QFPay.Env = "APP", "SECRETKEY", "test"
	f.RelayToken = "SECRETTOKEN"
	f.PayTypes = []string{"wechat", "payme"}
	return f
}

// The page sees every setting but the write-only ones, and what the kiosk
// uses where the file says nothing; of the secrets only whether they are set.
func TestValuesNeverHoldSecrets(t *testing.T) {
	v := Values(shopFile())
	for k, val := range v {
		if strings.Contains(val, "SECRET") {
			t.Errorf("%s carries a secret: %q", k, val)
		}
	}
	for k, want := range map[string]string{"merchant_name": "陳記", "qfpay.appcode": "APP", "qfpay.env": "test", "pay_types": "wechat,payme", "currency": "HKD", "expiry_minutes": "30", "sound": "true", "gateway": "qfpay"} {
		if v[k] != want {
			t.Errorf("%s = %q, want %q", k, v[k], want)
		}
	}
	if _, ok := v["qfpay.key"]; ok {
		t.Error("the key is among the values")
	}
	set := SecretsSet(shopFile())
	if !set["qfpay.key"] || !set["relay_token"] || set["scanforpay.key"] || set["manager_pin_hash"] {
		t.Errorf("secrets set: %v", set)
	}
	// No wallets chosen: all the gateway's, in its order.
	var sfp config.File
	sfp.Gateway = config.GatewayScanForPay
	if got := Values(sfp)["pay_types"]; got != "alipay,wechat" {
		t.Errorf("ScanForPay's wallets: %q", got)
	}
}

func TestApply(t *testing.T) {
	f := shopFile()
	got, err := apply(f, Change{Values: map[string]string{
		"qfpay.key": "", "qfpay.appcode": " NEWAPP ", "relay_url": "wss://relay/ws",
		"pay_types": "payme, alipayhk,payme", "expiry_minutes": "12", "currency": "jpy", "sound": "false", "manager_pin_hash": "2468", "pin": "1357",
	}, Clear: []string{"relay_token"}}, fakeHash)
	if err != nil {
		t.Fatal(err)
	}
	if got.QFPay.Key != "SECRETKEY" {
		t.Errorf("an empty key replaced the set one: %q", got.QFPay.Key)
	}
	if got.QFPay.AppCode != "NEWAPP" || got.Currency != "JPY" || got.RelayURL != "wss://relay/ws" || got.RelayToken != "" || got.ExpiryMinutes != 12 || got.Sound == nil || *got.Sound {
		t.Errorf("applied %+v", got)
	}
	if !slices.Equal(got.PayTypes, []string{"payme", "alipayhk"}) {
		t.Errorf("wallets %v, want the order typed, each once", got.PayTypes)
	}
	if got.PIN != "1357" {
		t.Errorf("exit PIN kept as %q, want it as typed", got.PIN)
	}
	if err := pin.Verify(got.ManagerPINHash, "2468"); err != nil {
		t.Errorf("manager PIN stored as %q: %v", got.ManagerPINHash, err)
	}
	if !reflect.DeepEqual(f, shopFile()) {
		t.Error("Apply changed the file it was given")
	}
}

// Every value refused names its setting and the rule, all at once, and
// nothing is applied.
func TestApplyRefusesNamingTheRule(t *testing.T) {
	_, err := apply(shopFile(), Change{Values: map[string]string{
		"expiry_minutes":   "500",
		"qfpay.env":        "staging",
		"manager_pin_hash": "12ab",
		"merchant_name":    "two\nlines",
		"qfpay.mchid":      strings.Repeat("M", 33),
		"pay_types":        "octopus,visa",
		"colour":           "red",
		"sound":            "loud",
	}, Clear: []string{"merchant_name"}}, fakeHash)
	var fe FieldErrors
	if !errors.As(err, &fe) {
		t.Fatalf("err %v", err)
	}
	want := FieldErrors{
		{"colour", "is not a setting of this kiosk"},
		{"expiry_minutes", "must be a whole number from 5 to 120"},
		{"manager_pin_hash", "must be 4 to 12 digits"},
		{"merchant_name", "must be plain text on one line"},
		{"pay_types", `"visa" is not a wallet of qfpay; choose from alipayhk, alipay, wechat, payme, unionpay, fps, octopus`},
		{"qfpay.env", "must be one of production, test, sandbox"},
		{"qfpay.mchid", "must be at most 32 characters"},
		{"sound", "must be one of true, false"},
		{"merchant_name", "only a key, a token or the logo can be cleared"},
	}
	if !reflect.DeepEqual(fe, want) {
		t.Fatalf("refused:\n%v\nwant:\n%v", fe, want)
	}
	_, err = apply(config.File{Gateway: config.GatewayScanForPay}, Change{Values: map[string]string{"pay_types": "payme"}}, fakeHash)
	if err == nil || !strings.Contains(err.Error(), `"payme" is not a wallet of scanforpay; choose from alipay, wechat`) {
		t.Errorf("a QFPay wallet on ScanForPay: %v", err)
	}
}

// What the page shows, sent back unchanged, is the same configuration.
func TestValuesApplyRoundTrip(t *testing.T) {
	f := shopFile()
	back, err := apply(f, Change{Values: Values(f)}, fakeHash)
	if err != nil {
		t.Fatal(err)
	}
	want, _, err1 := config.Check("", f, func(string) string { return "" })
	got, _, err2 := config.Check("", back, func(string) string { return "" })
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("round trip changed the configuration:\n%+v\n%+v", got, want)
	}
}

// FuzzApply: whatever is typed into whichever setting, it is refused
// naming that setting, or the file holds it and can be written.
func FuzzApply(f *testing.F) {
	f.Add("merchant_name", "陳記")
	f.Add("expiry_minutes", "-1")
	f.Add("pay_types", ",,wechat,")
	f.Add("qfpay.key", "\x00")
	f.Add("manager_pin_hash", "0000")
	f.Fuzz(func(t *testing.T, key, value string) {
		got, err := apply(shopFile(), Change{Values: map[string]string{key: value}}, fakeHash)
		if err != nil {
			var fe FieldErrors
			if !errors.As(err, &fe) || len(fe) != 1 || fe[0].Key != key || fe[0].Rule == "" {
				t.Fatalf("refused without naming %q and a rule: %v", key, err)
			}
			return
		}
		if _, err := config.Encode(got); err != nil {
			t.Fatalf("accepted %q=%q but cannot write it: %v", key, value, err)
		}
	})
}
