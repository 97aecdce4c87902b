package kiosk

import (
	"image"

	"qrkiosk/display/view"
	"qrkiosk/internal/webdisplay"
)

// OpenDisplays opens the kiosk's browser customer displays (webdisplay):
// the displays paired in its data directory, showing what its customer
// screen shows (the welcome with logo). Call it once; they close with the
// kiosk. Their routes are served by the kiosk's LAN server, which must run
// while Needed says so: a display is paired, or a code is showing to pair
// one.
func (k *Kiosk) OpenDisplays(logo image.Image) (*webdisplay.Displays, error) {
	d, err := webdisplay.Open(webdisplay.Config{
		Dir: k.DataDir,
		Screen: view.Config{
			MerchantName: k.Config.MerchantName, Wallets: k.Config.PayTypes,
			Demo: k.Demo != nil, Languages: k.Config.Languages,
		},
		Logo: logo,
		Log:  k.log,
	})
	if err != nil {
		return nil, err
	}
	k.closers = append(k.closers, d.Close)
	return d, nil
}
