// Command screen is the kiosk's Fyne customer screen alone, in one
// full-screen window: the welcome, or with -countdown an order's QR
// counting down half an hour. internal/webdisplay's BenchmarkDisplayCPU
// runs it beside the browser display to compare the two.
package main

import (
	"flag"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/theme"

	"qrkiosk/display"
	"qrkiosk/payment"
)

func main() {
	countdown := flag.Bool("countdown", false, "show an order's QR counting down, not the welcome")
	flag.Parse()
	a := app.NewWithID("hk.qrkiosk.bench.screen")
	a.Settings().SetTheme(display.Theme(theme.DefaultTheme()))
	w := a.NewWindow("Customer screen")
	pt, _ := payment.LookupPayType("alipayhk")
	s := display.NewScreen(display.ScreenConfig{MerchantName: "Lucky Star Café 福星茶餐廳"})
	w.SetPadded(false)
	w.SetContent(s.Content())
	s.SetCanvas(w.Canvas())
	w.SetFullScreen(true)
	if *countdown {
		go func() {
			time.Sleep(time.Second) // the window up first, as a sale comes
			now := time.Now()
			fyne.Do(func() {
				s.Show(payment.Snapshot{
					OutTradeNo: "QK20261126001795704705855773", QRCode: "http://127.0.0.1:8080/sim/pay/20261126001795704705855773",
					Amount:  payment.Amount{Minor: 1234, Currency: payment.Currency{Code: "HKD", Exponent: 2, Symbol: "HK$"}},
					PayType: pt, State: payment.StateAwaitingPayment, Created: now, Deadline: now.Add(30 * time.Minute),
				})
			})
		}()
	}
	w.ShowAndRun()
}
