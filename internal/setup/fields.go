package setup

import (
	"reflect"
	"slices"
	"strings"

	"qrkiosk/internal/config"
	"qrkiosk/internal/probe"
	"qrkiosk/payment"
	"qrkiosk/payment/scanforpay"
)

// Kind is how a setting is typed in and kept.
type Kind string

const (
	KindText   Kind = "text"
	KindURL    Kind = "url"
	KindChoice Kind = "choice"
	KindNumber Kind = "number"
	KindBool   Kind = "bool"
	// KindSecret is write-only: its value is never sent back (only
	// whether it is set), and an empty answer keeps what is there.
	KindSecret Kind = "secret"
	// KindWallets is an ordered choice of the gateway's wallets.
	KindWallets Kind = "wallets"
	// KindPIN is a new PIN, kept as its salted hash; empty keeps the old.
	KindPIN Kind = "pin"
)

// Label is a name in the three languages a Hong Kong cashier reads.
type Label struct {
	En     string `json:"en"`
	ZhHant string `json:"zhHant"`
	ZhHans string `json:"zhHans"`
}

// Choice is one value a choice field takes.
type Choice struct {
	Value string `json:"value"`
	Label Label  `json:"label"`
}

// Field is one setting the page and `qrkiosk setup` ask for, by its
// config.toml key.
type Field struct {
	Key     string `json:"key"`
	Section string `json:"section"`
	Kind    Kind   `json:"kind"`
	Label   Label  `json:"label"`
	// Help says in plain words what the setting is and where to find it.
	Help     string   `json:"help"`
	Choices  []Choice `json:"choices,omitempty"`
	Optional bool     `json:"optional,omitempty"`
	// When shows the field only while another has a value ("gateway=qfpay").
	When string `json:"when,omitempty"`
	// Max bounds a text's characters; Min and Max a number.
	Min int `json:"min,omitempty"`
	Max int `json:"max,omitempty"`
	// Wallets are a KindWallets field's choices, by gateway.
	Wallets map[string][]Choice `json:"wallets,omitempty"`
	// Plain keeps a KindPIN as typed rather than hashed: the kiosk's exit
	// PIN, which config.toml holds as it is.
	Plain bool `json:"-"`
}

// Section is a group of fields with its own Test.
type Section struct {
	ID    string `json:"id"`
	Title Label  `json:"title"`
	Help  string `json:"help"`
	// Test is the part its Test button proves ("" for none); TestLabel
	// names the button.
	Test      probe.Part `json:"test,omitempty"`
	TestLabel string     `json:"testLabel,omitempty"`
}

// Sections are the page's groups, in order.
func Sections() []Section {
	return []Section{
		{ID: "gateway", Title: Label{"Payment gateway", "收款平台", "收款平台"}, Help: "The company that takes the payments for you, and the credentials it sent you.", Test: probe.PartGateway, TestLabel: "Test the gateway"},
		{ID: "relay", Title: Label{"Notify relay", "通知中繼", "通知中继"}, Help: "The small server that tells the kiosk at once when a customer has paid. Without it the kiosk asks the gateway every 2 seconds.", Test: probe.PartRelay, TestLabel: "Test the relay"},
		{ID: "sale", Title: Label{"Sales", "收款", "收款"}, Help: "What the customer sees and how long a QR code can be paid."},
		{ID: "printer", Title: Label{"Receipt printer", "收據打印機", "收据打印机"}, Help: "A network (tcp://192.168.1.50:9100) or USB (/dev/usb/lp0) receipt printer.", Test: probe.PartPrinter, TestLabel: "Print a test slip"},
		{ID: "pos", Title: Label{"POS connection", "POS 連接", "POS 连接"}, Help: "Lets the shop's POS (Odoo's QFPay module) send amounts to this kiosk."},
		{ID: "pin", Title: Label{"PINs", "密碼", "密码"}, Help: "The manager PIN guards refunds and these settings on the kiosk; the exit PIN closes the full-screen kiosk."},
	}
}

// catalogFields are every field the page knows, available or not.
func catalogFields() []Field {
	onOff := []Choice{{"true", Label{"On", "開", "开"}}, {"false", Label{"Off", "關", "关"}}}
	var currencies []Choice
	for _, c := range payment.CurrencyCodes() {
		currencies = append(currencies, Choice{Value: c, Label: Label{c, c, c}})
	}
	return []Field{
		{Key: "gateway", Section: "gateway", Kind: KindChoice, Label: Label{"Gateway", "收款平台", "收款平台"},
			Help:    "The company you signed up with.",
			Choices: []Choice{{config.GatewayQFPay, Label{"QFPay", "QFPay", "QFPay"}}, {config.GatewayScanForPay, Label{"ScanForPay", "ScanForPay", "ScanForPay"}}}},
		{Key: "qfpay.env", Section: "gateway", Kind: KindChoice, When: "gateway=qfpay", Label: Label{"Environment", "環境", "环境"},
			Help:    "Production takes real money. Test is for QFPay's test accounts (nothing is settled). Use the one your credentials were issued for.",
			Choices: []Choice{{"production", Label{"Production", "正式", "正式"}}, {"test", Label{"Test", "測試", "测试"}}, {"sandbox", Label{"Sandbox", "沙盒", "沙盒"}}}},
		{Key: "qfpay.base_url", Section: "gateway", Kind: KindURL, When: "gateway=qfpay", Optional: true, Max: 200, Label: Label{"Base URL", "網址", "网址"},
			Help: "Only for a QFPay-compatible gateway other than QFPay's own; it wins over the environment. Leave it empty otherwise."},
		{Key: "qfpay.appcode", Section: "gateway", Kind: KindText, When: "gateway=qfpay", Max: 64, Label: Label{"App code", "App code", "App code"},
			Help: "The app code in QFPay's e-mail (32 letters and digits)."},
		{Key: "qfpay.key", Section: "gateway", Kind: KindSecret, When: "gateway=qfpay", Max: 128, Label: Label{"Client key", "密鑰", "密钥"},
			Help: "The client key QFPay sent with the app code. It is never shown again once saved."},
		{Key: "qfpay.mchid", Section: "gateway", Kind: KindText, When: "gateway=qfpay", Optional: true, Max: 32, Label: Label{"Merchant ID (mchid)", "商戶號", "商户号"},
			Help: "Only if QFPay gave you one; leave it empty otherwise."},
		{Key: "scanforpay.partner_no", Section: "gateway", Kind: KindText, When: "gateway=scanforpay", Max: 32, Label: Label{"Partner no", "合作夥伴號", "合作伙伴号"},
			Help: "The partner number ScanForPay issued."},
		{Key: "scanforpay.store_no", Section: "gateway", Kind: KindText, When: "gateway=scanforpay", Max: 15, Label: Label{"Store no", "店鋪號", "店铺号"},
			Help: "The store number ScanForPay assigned to this shop."},
		{Key: "scanforpay.key", Section: "gateway", Kind: KindSecret, When: "gateway=scanforpay", Max: 128, Label: Label{"Sign key", "簽名密鑰", "签名密钥"},
			Help: "The sign key ScanForPay issued. It is never shown again once saved."},
		{Key: "scanforpay.terminal_no", Section: "gateway", Kind: KindText, When: "gateway=scanforpay", Optional: true, Max: 20, Label: Label{"Terminal no", "終端號", "终端号"},
			Help: "This kiosk's name in ScanForPay's portal (optional, at most 20 characters)."},
		{Key: "scanforpay.notify_url", Section: "gateway", Kind: KindURL, When: "gateway=scanforpay", Optional: true, Max: 200, Label: Label{"Notify URL", "通知網址", "通知网址"},
			Help: "The relay's public https://…/notify/scanforpay, so ScanForPay tells the kiosk at once."},
		{Key: "scanforpay.base_url", Section: "gateway", Kind: KindURL, When: "gateway=scanforpay", Optional: true, Max: 200, Label: Label{"Base URL", "網址", "网址"},
			Help: "Leave empty for ScanForPay's own gateway."},

		{Key: "relay_url", Section: "relay", Kind: KindURL, Optional: true, Max: 200, Label: Label{"Relay address", "中繼地址", "中继地址"},
			Help: "wss://your-relay/ws, from whoever runs your relay. Empty: no relay."},
		{Key: "relay_token", Section: "relay", Kind: KindSecret, Optional: true, Max: 200, Label: Label{"Kiosk token", "終端令牌", "终端令牌"},
			Help: "This kiosk's token (qrkiosk-relay token add prints it once)."},
		{Key: "udid", Section: "relay", Kind: KindText, Optional: true, Max: 40, Label: Label{"Kiosk name", "終端名稱", "终端名称"},
			Help: "A short name for this kiosk (counter-1); the gateway's portal shows it on each sale and a relay token may be bound to it."},

		{Key: "merchant_name", Section: "sale", Kind: KindText, Optional: true, Max: 40, Label: Label{"Shop name", "店名", "店名"},
			Help: "Shown on the customer screen."},
		{Key: "pay_types", Section: "sale", Kind: KindWallets, Label: Label{"Wallets offered", "收款方式", "收款方式"},
			Help:    "The wallets you take, in the order the cashier sees them; the first is preselected for each sale.",
			Wallets: map[string][]Choice{config.GatewayQFPay: wallets(payment.AllPayTypes()), config.GatewayScanForPay: wallets(scanforpay.PayTypes())}},
		{Key: "currency", Section: "sale", Kind: KindChoice, Choices: currencies, Label: Label{"Currency", "貨幣", "货币"},
			Help: "The currency of your prices (ScanForPay: your store's currency)."},
		{Key: "expiry_minutes", Section: "sale", Kind: KindNumber, Optional: true, Min: payment.MinExpiryMinutes, Max: payment.MaxExpiryMinutes,
			Label: Label{"QR code valid for (minutes)", "二維碼有效時間(分鐘)", "二维码有效时间(分钟)"},
			Help:  "How long a customer can pay a QR code before it expires."},
		{Key: "sound", Section: "sale", Kind: KindBool, Choices: onOff, Label: Label{"Sound", "聲音", "声音"},
			Help: "A chime when a payment is received, a low tone when one fails."},

		{Key: "printer.address", Section: "printer", Kind: KindText, Optional: true, Max: 200, Label: Label{"Printer address", "打印機地址", "打印机地址"},
			Help: "tcp://192.168.1.50:9100 for a network printer, /dev/usb/lp0 for a USB one. Empty: no printer."},
		{Key: "printer.width_mm", Section: "printer", Kind: KindChoice, Optional: true, Label: Label{"Paper width", "紙寬", "纸宽"},
			Help:    "The width of the paper roll.",
			Choices: []Choice{{"80", Label{"80 mm", "80 毫米", "80 毫米"}}, {"58", Label{"58 mm", "58 毫米", "58 毫米"}}}},
		{Key: "printer.auto", Section: "printer", Kind: KindBool, Choices: onOff, Label: Label{"Print every sale", "自動打印收據", "自动打印收据"},
			Help: "On: every paid sale prints its receipt by itself. Off: the cashier taps Print receipt."},

		{Key: "ecr.pos_key", Section: "pos", Kind: KindSecret, Optional: true, Max: 32, Label: Label{"POS-KEY", "POS-KEY", "POS-KEY"},
			Help: "The POS-KEY set in your POS (32 characters). Set: the POS connection is on. Clear it to turn it off."},
		{Key: "ecr.notify_url", Section: "pos", Kind: KindURL, Optional: true, Max: 200, Label: Label{"POS webhook", "POS 回調網址", "POS 回调网址"},
			Help: "Where the kiosk tells the POS a payment succeeded (Odoo: https://your-odoo/qfpay/notify)."},

		{Key: "manager_pin_hash", Section: "pin", Kind: KindPIN, Optional: true, Label: Label{"New manager PIN", "新經理密碼", "新经理密码"},
			Help: "4 to 12 digits, typed twice. Leave empty to keep the current PIN."},
		{Key: "pin", Section: "pin", Kind: KindPIN, Plain: true, Optional: true, Label: Label{"New exit PIN", "新離開密碼", "新离开密码"},
			Help: "Closes the full-screen kiosk (the service starts it again). 4 to 12 digits, typed twice; leave empty to keep it. Demo mode's is 0000; a kiosk taking real money needs its own."},
	}
}

func wallets(cat payment.Catalog) []Choice {
	var out []Choice
	for _, p := range cat.MPM() {
		out = append(out, Choice{Value: p.Wallet, Label: Label{p.Name.En, p.Name.ZhHant, p.Name.ZhHans}})
	}
	return out
}

// Fields are the settings this kiosk's configuration has, in the page's
// order: a field whose key config.File does not have is left out.
func Fields() []Field {
	return slices.DeleteFunc(catalogFields(), func(f Field) bool {
		_, ok := fileField(reflect.ValueOf(&config.File{}).Elem(), f.Key)
		return !ok
	})
}

// field finds a field by key among Fields().
func field(key string) (Field, bool) {
	i := slices.IndexFunc(Fields(), func(f Field) bool { return f.Key == key })
	if i < 0 {
		return Field{}, false
	}
	return Fields()[i], true
}

// fileField is the struct field of a File value for a dotted key.
func fileField(v reflect.Value, key string) (reflect.Value, bool) {
	for _, name := range strings.Split(key, ".") {
		if v.Kind() != reflect.Struct {
			return reflect.Value{}, false
		}
		found := false
		t := v.Type()
		for i := range t.NumField() {
			tag, _, _ := strings.Cut(t.Field(i).Tag.Get("toml"), ",")
			if tag == name && t.Field(i).IsExported() {
				v, found = v.Field(i), true
				break
			}
		}
		if !found {
			return reflect.Value{}, false
		}
	}
	return v, true
}
