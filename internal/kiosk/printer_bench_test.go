package kiosk

import (
	"io"
	"net"
	"sort"
	"testing"
	"time"

	"qrkiosk/internal/escpos/escpostest"
	"qrkiosk/payment"
)

// firstByte is a printer on 127.0.0.1 in front of the fake one that
// notes when each connection's first byte arrives: the moment the printer
// hears of the slip.
type firstByte struct {
	addr string
	at   chan time.Time
}

func startFirstByte(b *testing.B, behind *escpostest.Printer) *firstByte {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ln.Close() })
	f := &firstByte{addr: "tcp://" + ln.Addr().String(), at: make(chan time.Time, 64)}
	target := behind.Addr()[len("tcp://"):]
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 1)
				if _, err := io.ReadFull(c, buf); err != nil {
					return
				}
				f.at <- time.Now()
				p, err := net.Dial("tcp", target)
				if err != nil {
					return
				}
				defer p.Close()
				p.Write(buf)
				go io.Copy(c, p) // the printer's status answers
				io.Copy(p, c)
			}()
		}
	}()
	return f
}

// BenchmarkPaidToPrinterFirstByte: with [printer] auto, the time from the
// order machine's Paid (as an observer of the sale sees it) to the first
// byte at the printer: the journal read, the slip drawn at 80 mm, the
// connection. The demo's sale is paid through its simulator and relay.
func BenchmarkPaidToPrinterFirstByte(b *testing.B) {
	fake := escpostest.Start(b)
	front := startFirstByte(b, fake)
	k, err := Open(Options{DataDir: b.TempDir(), Getenv: env(b, "", "QRKIOSK_PRINTER", front.addr, "QRKIOSK_PRINTER_AUTO", "true",
		"QRKIOSK_MERCHANT_NAME", "Lucky Star 福星茶餐廳"), DemoIfUnconfigured: true, DemoHost: "127.0.0.1"})
	if err != nil {
		b.Fatal(err)
	}
	defer k.Close()
	cur, _ := payment.LookupCurrency("HKD")
	pt, _ := payment.LookupPayType("alipayhk")
	var lat []time.Duration
	b.ResetTimer()
	for range b.N {
		paidAt := make(chan time.Time, 1)
		created := make(chan payment.Snapshot, 1)
		_, err := k.Start(payment.CreateRequest{OutTradeNo: payment.NewOutTradeNo("QK", time.Now()), Amount: payment.Amount{Minor: 123450, Currency: cur},
			PayType: pt, Expiry: 5 * time.Minute, TxTime: time.Now()}, func(e payment.Event) {
			switch e.Kind {
			case payment.EventCreated:
				created <- e.Snapshot
			case payment.EventPaid:
				paidAt <- time.Now()
			}
		})
		if err != nil {
			b.Fatal(err)
		}
		if err := k.Demo.Pay(<-created); err != nil {
			b.Fatal(err)
		}
		paid := <-paidAt
		select {
		case got := <-front.at:
			lat = append(lat, got.Sub(paid))
		case <-time.After(30 * time.Second):
			b.Fatal("the printer heard nothing")
		}
		fake.Next(b, 30*time.Second)
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*9/10].Microseconds())/1000, "p90-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
}
