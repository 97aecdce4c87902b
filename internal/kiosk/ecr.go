package kiosk

import (
	"net"

	"qrkiosk/internal/config"
	"qrkiosk/sim/qfpaysim"
	"qrkiosk/sim/sfpsim"
)

// DemoPOSKey is the demo's POS-KEY when [ecr] sets none: the demo answers a
// POS (qrkiosk ecr send) out of the box.
const DemoPOSKey = "DEMOPOSKEY0000000000000000000001"

// demoECR turns the POS endpoint on in demo mode: the demo POS-KEY unless
// one is set, on the demo's address when --demo-host names one (the tests:
// 127.0.0.1), and notifications signed with the simulated gateway's key
// unless notify_key is set.
func demoECR(e *config.ECR, gateway, demoHost string) {
	if e.POSKey == "" {
		e.POSKey = DemoPOSKey
	}
	if e.Listen == "" && demoHost != "" {
		_, port, _ := net.SplitHostPort(config.DefaultECRListen)
		e.Listen = net.JoinHostPort(demoHost, port)
	}
	if e.NotifyKeyIsGateway {
		e.NotifyKey = qfpaysim.DemoKey
		if gateway == config.GatewayScanForPay {
			e.NotifyKey = sfpsim.DemoKey
		}
	}
}
