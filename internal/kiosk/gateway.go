package kiosk

import (
	"fmt"
	"log/slog"

	"qrkiosk/internal/config"
	"qrkiosk/payment"
	"qrkiosk/payment/qfpay"
	"qrkiosk/payment/scanforpay"
)

// newGateway is the one place that decides which gateway the kiosk
// charges through.
func newGateway(cfg config.Config, log *slog.Logger) (payment.Gateway, error) {
	switch cfg.Gateway {
	case config.GatewayQFPay:
		return cfg.QFPay.NewClient(qfpay.WithLogger(log))
	case config.GatewayScanForPay:
		return cfg.ScanForPay.NewClient(scanforpay.WithLogger(log))
	}
	return nil, fmt.Errorf("gateway %q: not one this kiosk knows", cfg.Gateway)
}
