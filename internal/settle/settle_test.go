package settle

import (
	"context"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"qrkiosk/internal/journal"
	"qrkiosk/payment"
	"qrkiosk/payment/paymenttest"
	"qrkiosk/payment/qfpay"
	"qrkiosk/sim/qfpaysim"
)

const (
	testApp = "JOURNALTESTAPP000000000000000001"
	testKey = "JOURNALTESTKEY000000000000000001"
)

var (
	hkd, _    = payment.LookupCurrency("HKD")
	alipay, _ = payment.LookupPayType("alipayhk")
	wechat, _ = payment.LookupPayType("wechat")
	payme, _  = payment.LookupPayType("payme")
	fps, _    = payment.LookupPayType("fps")
)

func open(t *testing.T, dir string) *journal.Journal {
	t.Helper()
	j, err := journal.Open(journal.Options{Dir: dir, UDID: "test-kiosk", Gateway: qfpay.Name})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	return j
}

// gateway is an in-process qfpay-sim and the project's client for it.
type gateway struct {
	sim    *qfpaysim.Sim
	client *qfpay.Client
}

func newGateway(t *testing.T) *gateway {
	t.Helper()
	sim := qfpaysim.New(qfpaysim.Config{AppCode: testApp, Key: testKey})
	srv := httptest.NewServer(sim)
	sim.SetBaseURL(srv.URL)
	t.Cleanup(func() { srv.Close(); sim.Close() })
	c, err := qfpay.NewClient(testApp, testKey, qfpay.WithBaseURL(srv.URL), qfpay.WithRetry(2, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	return &gateway{sim: sim, client: c}
}

func (g *gateway) order(t *testing.T, otn string) qfpaysim.Order {
	t.Helper()
	for _, o := range g.sim.Orders() {
		if o.OutTradeNo == otn {
			return o
		}
	}
	t.Fatalf("the gateway has no order %s", otn)
	return qfpaysim.Order{}
}

func request(otn string, minor int64, pt payment.PayType, at time.Time) payment.CreateRequest {
	return payment.CreateRequest{OutTradeNo: otn, Amount: payment.Amount{Minor: minor, Currency: hkd}, PayType: pt, Expiry: 5 * time.Minute, TxTime: at}
}

func fastMachine(gw payment.Gateway) payment.MachineConfig {
	return payment.MachineConfig{Gateway: gw, PollFast: 20 * time.Millisecond, PollSlow: 20 * time.Millisecond, SettleRetry: 20 * time.Millisecond, CallTimeout: 5 * time.Second}
}

func waitDone(t *testing.T, o *payment.Order) payment.Snapshot {
	t.Helper()
	select {
	case <-o.Done():
	case <-time.After(10 * time.Second):
		t.Fatalf("order %s not final: %+v", o.Snapshot().OutTradeNo, o.Snapshot())
	}
	return o.Snapshot()
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	paymenttest.Eventually(t, what, 10*time.Second, cond)
}

// pay pays an order at the simulated gateway once its QR shows, and
// returns it once final.
func (g *gateway) pay(t *testing.T, o *payment.Order) payment.Snapshot {
	t.Helper()
	waitFor(t, "created", func() bool { return o.Snapshot().SysSN != "" })
	if err := g.sim.Pay(o.Snapshot().SysSN); err != nil {
		t.Fatal(err)
	}
	return waitDone(t, o)
}

func TestOrderJournaledBeforeCreateAndEveryAnswerAfter(t *testing.T) {
	g := newGateway(t)
	j := open(t, t.TempDir())
	ctx := context.Background()
	var atCreate journal.Order
	probe := &probeGateway{Gateway: g.client, beforeCreate: func(otn string) {
		var err error
		if atCreate, err = j.Order(ctx, otn); err != nil {
			t.Errorf("the order is not in the journal when its create is sent: %v", err)
		}
	}}
	o, err := Start(ctx, j, fastMachine(probe), request("QK-J1", 1234, wechat, time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	if s := g.pay(t, o); s.State != payment.StatePaid {
		t.Fatalf("state %v", s.State)
	}
	if atCreate.State != payment.StateCreating || atCreate.Amount.Minor != 1234 || atCreate.UDID != "test-kiosk" {
		t.Fatalf("order at create time: %+v", atCreate)
	}
	rec, err := j.Order(ctx, "QK-J1")
	if err != nil || rec.State != payment.StatePaid || rec.SysSN != o.Snapshot().SysSN || rec.QRCode == "" {
		t.Fatalf("journal: %+v, %v", rec, err)
	}
	evs, err := j.Events(ctx, "QK-J1")
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, e := range evs {
		kinds = append(kinds, e.Source+":"+e.Kind)
		if strings.Contains(e.Detail, testKey) {
			t.Fatalf("the key is in the journal: %+v", e)
		}
	}
	all := strings.Join(kinds, " ")
	for _, want := range []string{"gateway:create", "machine:created", "gateway:query", "machine:paid"} {
		if !strings.Contains(all, want) {
			t.Errorf("events %s: no %s", all, want)
		}
	}
	raw, _ := os.ReadFile(j.Path())
	if strings.Contains(string(raw), testKey) {
		t.Fatal("the key is in the database file")
	}
}

type probeGateway struct {
	payment.Gateway
	beforeCreate func(otn string)
}

func (p *probeGateway) CreateMPM(ctx context.Context, req payment.CreateRequest) (*payment.Created, error) {
	p.beforeCreate(req.OutTradeNo)
	return p.Gateway.CreateMPM(ctx, req)
}
