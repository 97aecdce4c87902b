package ecr

import (
	"slices"
	"strings"
)

// Channel is a payment's channel and the kiosk's wallets for it.
type Channel struct {
	Name string // as sent: wx, alipay, payme, union, fps, octopus
	// MPMWallets are the QR wallets (payment's wallet keys) that take this
	// channel, the one to prefer first: the kiosk uses the first its
	// gateway and settings enable.
	MPMWallets []string
	// CPMWallet is the scanned-code wallet (payment.LookupCPMPayType's
	// name); "" when the channel has none.
	CPMWallet string
}

// channels maps QFPay's ECR channel list (docs 5.2) onto the kiosk's
// wallets. QFPay maps alipay to 800101/800108 (Alipay for overseas
// merchants); a Hong Kong merchant's Alipay QR is 801501 (alipayhk, the
// kiosk's default on QFPay), so that comes first and 800101 serves a kiosk
// that enables only it. QFPay gives octopus as 803708, a pay type the
// kiosk's gateways do not list; its QR is 803701.
var channels = map[string]Channel{
	"wx":      {Name: "wx", MPMWallets: []string{"wechat"}, CPMWallet: "wechat"},
	"alipay":  {Name: "alipay", MPMWallets: []string{"alipayhk", "alipay"}, CPMWallet: "alipay"},
	"payme":   {Name: "payme", MPMWallets: []string{"payme"}, CPMWallet: "payme"},
	"union":   {Name: "union", MPMWallets: []string{"unionpay"}, CPMWallet: "unionpay"},
	"fps":     {Name: "fps", MPMWallets: []string{"fps"}},
	"octopus": {Name: "octopus", MPMWallets: []string{"octopus"}},
}

// cardChannels are QFPay's card channels: a QR kiosk has no card reader.
var cardChannels = []string{"card_payment", "unionpay_card", "amex_card"}

// channelNames lists the accepted channels for messages.
const channelNames = "wx, alipay, payme, union, fps, octopus"

func lookupChannel(name string) (Channel, error) {
	if c, ok := channels[name]; ok {
		c.MPMWallets = append([]string(nil), c.MPMWallets...)
		return c, nil
	}
	if slices.Contains(cardChannels, name) {
		return Channel{}, refuse(ErrBadChannel, "this kiosk takes QR payments only; card channel "+name+" is not accepted")
	}
	if name == "" {
		return Channel{}, refuseField(ErrMissingField, "channel", "", "is required (one of "+channelNames+")")
	}
	return Channel{}, refuseField(ErrBadChannel, "channel", name, "is not one of "+channelNames+" ("+strings.Join(cardChannels, ", ")+" are card channels this kiosk does not take)")
}
