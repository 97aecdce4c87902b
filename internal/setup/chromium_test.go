package setup

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"qrkiosk/internal/chromiumtest"
	"qrkiosk/internal/config"
)

// phonePage is the owner's phone: a real Chromium at a phone's size that
// trusts the kiosk's CA.
func phonePage(t *testing.T, k *kiosk) *chromiumtest.Page {
	t.Helper()
	b := chromiumtest.Start(t, chromiumtest.Options{TrustCAs: []string{k.caPath}})
	p := b.NewPage()
	if err := p.SetViewport(chromiumtest.Viewport{Width: 390, Height: 844, Scale: 3, Mobile: true}); err != nil {
		t.Fatal(err)
	}
	return p
}

// waitJS waits until the expression is true in the page.
func waitJS(t *testing.T, p *chromiumtest.Page, what, expr string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var ok bool
		if err := p.Eval("Boolean("+expr+")", &ok); err == nil && ok {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s: not seen in 30 s\nconsole: %q", what, p.Console())
}

// shoot saves the page as it looks: into $SETUP_SCREENSHOTS (README's
// pictures) when set, else into the test's own directory.
func shoot(t *testing.T, p *chromiumtest.Page, name string) {
	t.Helper()
	png, err := p.Screenshot()
	if err != nil {
		t.Fatal(err)
	}
	dir := os.Getenv("SETUP_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// typeInto sets a field as typing does: its value, then the input event.
func typeInto(id, value string) string {
	return fmt.Sprintf(`(() => { const e = document.getElementById(%q); e.value = %q; e.dispatchEvent(new Event('input', {bubbles: true})); return true })()`, id, value)
}

// The owner's path in a real browser at phone size: the code typed into
// the form, the page built from the kiosk's settings with no script or
// style refused by the page's CSP, a wrong key reported as a wrong key
// in one sentence under the gateway, the key fixed, saved, and the kiosk
// told — the cookie unreadable to the page's script throughout.
func TestPhoneInChromium(t *testing.T) {
	k := startKiosk(t, "")
	code, _ := k.s.Open()
	p := phonePage(t, k)
	if err := p.Navigate(k.url + "/setup/"); err != nil {
		t.Fatal(err)
	}
	waitJS(t, p, "the code form", `document.getElementById('code')`)
	shoot(t, p, "setup-code.png")

	if err := p.Eval(typeInto("code", wrongCode(code))+` && (document.forms[0].submit(), true)`, nil); err != nil {
		t.Fatal(err)
	}
	waitJS(t, p, "the wrong code said", `document.querySelector('.message') && document.querySelector('.message').textContent.includes('Wrong code: 4 tries left')`)
	if err := p.Eval(typeInto("code", code[:3]+" "+code[3:])+` && (document.forms[0].submit(), true)`, nil); err != nil {
		t.Fatal(err)
	}
	waitJS(t, p, "the settings page", `document.getElementById('test-gateway')`)
	shoot(t, p, "setup-page.png")
	if os.Getenv("SETUP_FULL") != "" {
		p.SetViewport(chromiumtest.Viewport{Width: 390, Height: 4200, Scale: 1, Mobile: true})
		shoot(t, p, "setup-full.png")
		p.SetViewport(chromiumtest.Viewport{Width: 390, Height: 844, Scale: 3, Mobile: true})
	}
	var text string
	p.Eval(`document.body.innerText`, &text)
	for _, bad := range []string{"null", "undefined", "[object"} {
		if strings.Contains(text, bad) {
			t.Errorf("the page shows %q:\n%s", bad, text)
		}
	}
	var cookies string
	p.Eval(`document.cookie`, &cookies)
	if strings.Contains(cookies, cookieName) {
		t.Error("the session cookie is readable by the page's script")
	}

	// The stand-in's address, the app code and a key with a typo.
	for id, v := range map[string]string{"in-qfpay.base_url": k.sim, "in-qfpay.appcode": simApp, "in-qfpay.key": simKey[:len(simKey)-1] + "2", "in-merchant_name": "陳記茶餐廳"} {
		if err := p.Eval(typeInto(id, v), nil); err != nil {
			t.Fatal(err)
		}
	}
	p.Eval(`document.getElementById('test-gateway').click()`, nil)
	waitJS(t, p, "the gateway's verdict", `!document.getElementById('result-gateway').hidden`)
	var verdict string
	p.Eval(`document.getElementById('result-gateway').textContent`, &verdict)
	if verdict != "✗ The QFPay key does not match the app code: the gateway refused the signature (1108)." {
		t.Fatalf("the page says %q", verdict)
	}
	var marked bool
	p.Eval(`document.getElementById('field-qfpay.key').classList.contains('bad')`, &marked)
	if !marked {
		t.Error("the key's field is not marked")
	}
	p.Eval(`document.getElementById('field-qfpay.appcode').scrollIntoView()`, nil)
	shoot(t, p, "setup-wrong-key.png")

	p.Eval(typeInto("in-qfpay.key", simKey), nil)
	p.Eval(`document.getElementById('test-gateway').click()`, nil)
	waitJS(t, p, "the gateway accepted", `document.getElementById('result-gateway').classList.contains('good')`)
	p.Eval(`document.getElementById('save').click()`, nil)
	waitJS(t, p, "saved", `document.getElementById('saved')`)
	shoot(t, p, "setup-saved.png")

	c, err := config.Load(k.path, func(string) string { return "" })
	if err != nil || c.Demo() || c.QFPay.Key != simKey || c.MerchantName != "陳記茶餐廳" {
		t.Fatalf("saved %+v, %v", c, err)
	}
	if kinds := k.eventKinds(); !slices.Equal(kinds, []EventKind{EventUnlocked, EventSaved}) {
		t.Errorf("the kiosk was told %v", kinds)
	}
	// Only the network's errors: the favicon the kiosk does not serve,
	// the wrong code's 403. No script error, nothing the CSP refused.
	for _, line := range p.Console() {
		if strings.Contains(line, "Content Security Policy") || (strings.HasPrefix(line, "error") && !strings.HasPrefix(line, "error (network):")) {
			t.Errorf("console: %s", line)
		}
	}
}
