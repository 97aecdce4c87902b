package relay

import (
	"context"
	"fmt"
	"testing"
	"time"

	"qrkiosk/relay/wire"

	"qrkiosk/relay/store"
)

func subsRefused(t *testing.T, s *Server, reason string) float64 {
	t.Helper()
	return metric(t, s, "qrkiosk_relay_subscriptions_refused_total", reason)
}

// Every refusal of a subscription to an out_trade_no reads the same,
// whatever the reason, so that no answer tells whether an order exists
// at this or another merchant; the reason is in the log and the metric.
func TestSubscriptionRefusalsRevealNothing(t *testing.T) {
	tr, logs := twoMerchants(t, func(c *Config) {
		c.MaxSubscriptions = 3
		c.Claims = store.ClaimLimits{PerDevice: 3}
	})
	secretA, _ := issue(t, tr, DefaultMerchant, "KIOSK-A")
	secretB, _ := issue(t, tr, DefaultMerchant, "KIOSK-B")
	postTo(t, tr, "/notify/qfpay/shop-b", notifBody("payment", "S-X", "O-SHOP-B", ""), keyB)
	postTo(t, tr, "/notify/qfpay", notifBody("payment", "S-N", "O-NAMED-B", "KIOSK-B"), testKey)
	b := mustDial(t, tr, secretB, "KIOSK-B")
	b.subscribe("O-CLAIMED-B", "")

	a := mustDial(t, tr, secretA, "KIOSK-A")
	cases := []struct{ otn, reason string }{
		{"O-CLAIMED-B", reasonForeignOrder}, // a same-merchant kiosk claimed it first
		{"O-NAMED-B", reasonForeignOrder},   // a notification names another device
		{"O-SHOP-B", reasonForeignOrder},    // another merchant's order (A's claim 1 of 3, in its own merchant)
		{"O-NOWHERE", ""},                   // nobody's: A claims it (2 of 3)
		{"O-NOWHERE-2", ""},                 // 3 of 3
		{"O-OVER", reasonDeviceClaimLimit},  // past the device's claims
	}
	for _, c := range cases {
		if c.reason == "" {
			a.subscribe(c.otn, "")
			continue
		}
		if m := a.sendExpectError(t, c.otn, ""); m.Error != subscriptionRefused || m.OutTradeNo != c.otn {
			t.Errorf("%s (%s): %+v, want %q", c.otn, c.reason, m, subscriptionRefused)
		}
		logs.waitLog(t, "subscription refused", "reason="+c.reason, "out_trade_no="+c.otn)
	}
	a.subscribe("", "KIOSK-A") // 3 of 3 subscriptions
	if m := a.sendExpectError(t, "O-NOWHERE-3", ""); m.Error != subscriptionRefused {
		t.Errorf("past the subscriptions: %+v", m)
	}
	if subsRefused(t, tr.s, reasonForeignOrder) != 3 || subsRefused(t, tr.s, reasonDeviceClaimLimit) != 1 ||
		subsRefused(t, tr.s, reasonTooManySubs) != 1 {
		t.Error("the metric does not count each reason")
	}
	// A udid subscription's refusal concerns the token's own device: it
	// says why.
	if m := a.sendExpectError(t, "", "KIOSK-B"); m.Error == subscriptionRefused || m.UDID != "KIOSK-B" {
		t.Errorf("another device's udid: %+v", m)
	}
}

// A kiosk token flooding subscriptions to made-up orders is stopped at
// its claim limit: the claims stored stay bounded, and its own orders
// still work.
func TestClaimFloodIsRefused(t *testing.T) {
	tr, _ := twoMerchants(t, func(c *Config) { c.Claims = store.ClaimLimits{PerDevice: 5} })
	secret, _ := issue(t, tr, DefaultMerchant, "KIOSK-A")
	k := mustDial(t, tr, secret, "KIOSK-A")
	refused := 0
	for i := range 50 {
		otn := fmt.Sprint("O-FLOOD-", i)
		k.send(wire.TypeSubscribe, otn, "")
		m, err := k.next(5 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if m.Type == wire.TypeError {
			refused++
		}
		k.send(wire.TypeUnsubscribe, otn, "")
	}
	if refused != 45 || subsRefused(t, tr.s, reasonDeviceClaimLimit) != 45 {
		t.Fatalf("%d of 50 refused (metric %v), want 45", refused, subsRefused(t, tr.s, reasonDeviceClaimLimit))
	}
	if o, _ := tr.s.st.Claim(context.Background(), DefaultMerchant, "O-FLOOD-5", "KIOSK-Z", tr.s.cfg.Claims); o != "KIOSK-Z" {
		t.Fatalf("a refused subscription's claim was stored (owner %s)", o)
	}
	if r := k.subscribe("O-FLOOD-0", ""); len(r) != 0 {
		t.Fatalf("own order again: %+v", r)
	}
}
