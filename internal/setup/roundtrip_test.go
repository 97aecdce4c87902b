package setup

import (
	"errors"
	"image"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"qrkiosk/internal/config"
	"qrkiosk/payment"
)

// jsChange is the change setup.js sends for a page opened and saved
// untouched: every field as Values shows it, the secrets left empty, the
// wallets ticked as the page ticks them.
func jsChange(f config.File) Change {
	vals := Values(f)
	gw := vals["gateway"]
	out := map[string]string{}
	for _, fd := range Fields() {
		if fd.When != "" {
			k, v, _ := strings.Cut(fd.When, "=")
			if vals[k] != v {
				continue
			}
		}
		v := vals[fd.Key]
		switch fd.Kind {
		case KindSecret, KindPIN:
			v = ""
		case KindWallets:
			var order []string
			if v != "" {
				order = strings.Split(v, ",")
			}
			ticked := slices.Clone(order)
			var known []string
			for _, c := range fd.Wallets[gw] {
				known = append(known, c.Value)
			}
			var o2 []string
			for _, w := range order {
				if slices.Contains(known, w) {
					o2 = append(o2, w)
				}
			}
			for _, w := range known {
				if !slices.Contains(order, w) {
					o2 = append(o2, w)
				}
			}
			if !slices.ContainsFunc(ticked, func(w string) bool { return slices.Contains(known, w) }) {
				ticked = known
			}
			var sel []string
			for _, w := range o2 {
				if slices.Contains(ticked, w) {
					sel = append(sel, w)
				}
			}
			v = strings.Join(sel, ",")
		}
		out[fd.Key] = v
	}
	return Change{Values: out}
}

// roundTrip saves text through the page untouched and checks that the kiosk
// reads the saved file as it read text.
func roundTrip(t *testing.T, text string) {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, "config.toml")
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	lf, _ := os.Create(filepath.Join(dir, "shop.png"))
	png.Encode(lf, img)
	lf.Close()
	os.WriteFile(p, []byte(text), 0o600)
	env := func(string) string { return "" }
	before, err := config.Load(p, env)
	if err != nil {
		t.Fatalf("hand-written file refused: %v", err)
	}
	f, err := config.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	ch := jsChange(f)
	t.Logf("change: %v", ch.Values)
	f2, err := apply(f, ch, fakeHash)
	if err != nil {
		t.Fatalf("apply of the untouched page refused: %v", err)
	}
	if _, err := Save(p, f2, nil, env); err != nil {
		t.Fatalf("save: %v", err)
	}
	after, err := config.Load(p, env)
	if err != nil {
		t.Fatalf("kiosk refuses saved file: %v", err)
	}
	before.Warnings, after.Warnings = nil, nil
	bp, ap := before.PayTypes, after.PayTypes
	before, _ = before.WithGateway(before.Gateway)
	after, _ = after.WithGateway(after.Gateway)
	before.PayTypes, after.PayTypes = nil, nil
	var bc, ac []string
	for _, p := range bp {
		bc = append(bc, p.Wallet)
	}
	for _, p := range ap {
		ac = append(ac, p.Wallet)
	}
	if !slices.Equal(bc, ac) {
		t.Errorf("wallets offered changed: before %v after %v", bc, ac)
	}
	if !reflect.DeepEqual(before, after) {
		b, _ := os.ReadFile(p)
		t.Errorf("meaning changed:\nbefore %+v\nafter  %+v\nfile:\n%s", before, after, b)
	}
}

const base = `gateway = "qfpay"
merchant_name = "陳記"
currency = "HKD"
PAYTYPES
expiry_minutes = 15
udid = "counter-1"
pin = "2468"
layout = "single"
relay_url = "wss://relay.example.com/ws"
relay_token = "TOKENabcdefghijklmnop123456"
sound = false
logo = "shop.png"
languages = "zh-Hant,en,zh-Hans"

[printer]
address = "tcp://127.0.0.1:9100"
width_mm = 58
auto = true

[qfpay]
env = "test"
appcode = "SIMAPPCODE0000000000000000000001"
key = "SIMKEY00000000000000000000000001"
mchid = "MCH123"
sign_type = "SHA256"

[scanforpay]
partner_no = "P123"
store_no = "S456"
key = "SFPKEY000000000000000000000001"
terminal_no = "T1"

[ecr]
listen = "0.0.0.0:9001"
pos_key = "0123456789abcdef0123456789abcdef"
notify_url = "https://odoo.example.com/qfpay/notify"
notify_key = "NOTIFYKEY0000000000000000000001"
encryption = false
`

// A page opened and saved untouched keeps what the file meant, whatever
// way the file wrote it: wallets by code or in any case, the gateway in
// capitals, a shop name longer than the page would take typed. (Codes
// enabled every wallet; "WeChat" was dropped; "QFPay" refused every save;
// the long name refused the save.) Keys kept from before stay.
func TestUnchangedPageKeepsTheFile(t *testing.T) {
	for name, pt := range map[string]string{
		"wallets":   `pay_types = ["wechat", "payme"]`,
		"none":      ``,
		"codes":     `pay_types = ["` + payment.AllPayTypes().MPM()[1].Code + `"]`,
		"mixedcase": `pay_types = ["WeChat", "payme"]`,
	} {
		t.Run(name, func(t *testing.T) { roundTrip(t, strings.Replace(base, "PAYTYPES", pt, 1)) })
	}
	t.Run("upper-gateway", func(t *testing.T) {
		roundTrip(t, strings.Replace(strings.Replace(base, "PAYTYPES", `pay_types = ["wechat"]`, 1), `gateway = "qfpay"`, `gateway = "QFPay"`, 1))
	})
	t.Run("long-name", func(t *testing.T) {
		roundTrip(t, strings.Replace(strings.Replace(base, "PAYTYPES", ``, 1), `merchant_name = "陳記"`, `merchant_name = "The Very Long Named Cha Chaan Teng of Sham Shui Po"`, 1))
	})
}

// A key or token kept from before (its field left empty) goes only where
// it was set: change the address it is sent to and it must be typed
// again, or a Test would hand it to whatever address the page was given.
func TestKeptKeyGoesOnlyWhereItWasSet(t *testing.T) {
	got := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case got <- r.Header.Get("Authorization"):
		default:
		}
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer srv.Close()
	p := filepath.Join(t.TempDir(), "config.toml")
	os.WriteFile(p, []byte("relay_url = \"wss://relay.example.com/ws\"\nrelay_token = \"STOREDSECRETTOKEN123\"\n[qfpay]\nappcode = \"APP\"\nkey = \"STOREDKEY\"\n"), 0o600)
	f, err := config.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	elsewhere := "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws"
	for _, tc := range []struct {
		values  map[string]string
		refused string
	}{
		{map[string]string{"relay_url": elsewhere, "relay_token": ""}, "relay_token"},
		{map[string]string{"qfpay.base_url": srv.URL}, "qfpay.key"},
		{map[string]string{"qfpay.env": "sandbox", "qfpay.key": ""}, "qfpay.key"},
	} {
		_, err := apply(f, Change{Values: tc.values}, fakeHash)
		var fe FieldErrors
		if !errors.As(err, &fe) || len(fe) != 1 || fe[0].Key != tc.refused || !strings.Contains(fe[0].Rule, "type it again") {
			t.Errorf("%v: %v, want %s to be typed again", tc.values, err, tc.refused)
		}
	}
	select {
	case h := <-got:
		t.Fatalf("the stored token reached another address: %q", h)
	default:
	}
	// Typed again, or the address unchanged: taken.
	if g, err := apply(f, Change{Values: map[string]string{"relay_url": elsewhere, "relay_token": "NEWTOKEN"}}, fakeHash); err != nil || g.RelayToken != "NEWTOKEN" {
		t.Errorf("a new relay with its token typed: %v", err)
	}
	if g, err := apply(f, Change{Values: map[string]string{"merchant_name": "陳記", "relay_token": ""}}, fakeHash); err != nil || g.RelayToken != "STOREDSECRETTOKEN123" || g.QFPay.Key != "STOREDKEY" {
		t.Errorf("another setting changed, the keys kept: %v", err)
	}
}
