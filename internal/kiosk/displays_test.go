package kiosk

import (
	"strings"
	"testing"

	"qrkiosk/display/view"
)

// The kiosk's displays show its own settings: the merchant, the wallets,
// the demo's banner and the configured language order.
func TestOpenDisplays(t *testing.T) {
	k, err := Open(Options{DataDir: t.TempDir(), Getenv: env(t, "merchant_name = \"Lucky Star\"\npay_types = [\"wechat\", \"fps\"]\nlanguages = \"zh-Hans,en,zh-Hant\"\n"),
		DemoIfUnconfigured: true, DemoHost: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(k.Close)
	d, err := k.OpenDisplays(nil)
	if err != nil {
		t.Fatal(err)
	}
	v := d.Current()
	if v.Page != view.PageIdle || v.Merchant != "Lucky Star" || len(v.Wallets) != 2 || !strings.Contains(v.Banner, "DEMO") || !strings.HasPrefix(v.Welcome, "欢迎光临") {
		t.Errorf("the displays' welcome: %+v", v)
	}
	if d.Needed() {
		t.Error("no display is paired, none is pairing: the LAN server is needed for nothing")
	}
	d.NewCode()
	if !d.Needed() {
		t.Error("a code is showing: the LAN server must run for the tablet to pair")
	}
}
