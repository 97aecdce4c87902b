// Package view derives what a customer screen shows — the page, every text
// in the order the wallet's customers read, the amount, the QR and its
// time — from the kiosk's three calls to a screen (an order's snapshot, a
// request for the customer's payment code, the welcome). The Fyne customer
// screen and the browser display both draw what it derives: one
// derivation, two ways of drawing it. It never decides an order's state.
package view

import (
	"time"

	"qrkiosk/payment"
)

// DefaultResultHold is how long a result stays on a customer screen.
const DefaultResultHold = 5 * time.Second

// UrgentBelow is when the countdown turns red: half a minute is about what
// a customer needs to open a wallet app and scan.
const UrgentBelow = 30 * time.Second

// Page is which of a customer screen's four pages shows.
type Page string

const (
	// PageIdle: the welcome, the merchant and the wallets accepted.
	PageIdle Page = "idle"
	// PageCreating: the amount and what is happening or what to do (the
	// QR being prepared, a scanned code being charged, "show your code").
	PageCreating Page = "creating"
	// PageAwaiting: the amount, the wallet and the QR with its countdown.
	PageAwaiting Page = "awaiting"
	// PageResult: paid, failed, expired or cancelled.
	PageResult Page = "result"
)

// Tone is a text's colour by its role; each screen has its palette.
type Tone string

const (
	Ink     Tone = "ink"
	Muted   Tone = "muted"
	Primary Tone = "primary"
	Success Tone = "success"
	Error   Tone = "error"
	Warning Tone = "warning"
)

// Sign is the big sign over a result.
type Sign string

const (
	SignCheck Sign = "check" // paid
	SignCross Sign = "cross" // failed
	SignClock Sign = "clock" // expired
	SignMinus Sign = "minus" // cancelled
)

// Text is a message's lines, one a language in the view's order, the
// language of each, and its colour.
type Text struct {
	Lines []string
	Langs []Lang
	Tone  Tone
}

// View is everything one customer screen shows at a time. Which fields
// matter depends on Page.
type View struct {
	// Seq numbers the views of one Model, so that a result's hold ending
	// after a newer view has come changes nothing (EndHold).
	Seq  uint64
	Page Page
	// Order is the order of the languages in every text below.
	Order Order
	// OutTradeNo and State are the order shown ("" and the zero State
	// on the welcome and the request for a code).
	OutTradeNo string
	State      payment.State
	// Banner is the demo's warning on every page ("" outside demo mode).
	Banner string

	// The welcome: the merchant's name, two lines of labels and the
	// accepted wallets' names.
	Merchant string
	Welcome  string
	Accept   string
	Wallets  []Text

	// AmountLabel is over the amount (creating and awaiting); Amount is
	// the order's amount ("" on a result other than paid).
	AmountLabel string
	Amount      string
	// Title: what is happening or what to do (creating), "Scan to pay" or
	// why there is no QR (awaiting), the outcome (result).
	Title Text
	// Note: a line under the title (creating), what to do next (result).
	Note Text
	// Wallet is the order's wallet (awaiting).
	Wallet Text
	// Sign is the result's sign.
	Sign Sign

	// QR is the text to scan and Modules its symbol, dark modules true,
	// without the quiet zone; QR is "" when no QR may be offered (the
	// order is being withdrawn, or its QR cannot be drawn).
	QR      string
	Modules [][]bool
	// Created and Deadline are the order's: the countdown shows the time
	// to Deadline and its bar the share of Deadline − Created left.
	Created, Deadline time.Time
	// ExpiresLabel is the countdown's label, two lines: one language, then
	// the other two side by side.
	ExpiresLabel []string

	// Receipt is the e-receipt's link on a Paid result (Receipt) and
	// ReceiptModules its QR symbol, as Modules; "" without one.
	Receipt        string
	ReceiptModules [][]bool

	// Hold > 0: the result stays that long, then the welcome comes back.
	Hold time.Duration
}

// QRShown reports whether the view offers a QR to scan.
func (v View) QRShown() bool { return v.Page == PageAwaiting && v.QR != "" }

// Config is what a screen shows besides the orders.
type Config struct {
	MerchantName string
	// Wallets are the accepted pay types, in the order to list them on
	// the welcome (nil: payment.MPMPayTypes()).
	Wallets []payment.PayType
	// Demo puts the demo's banner on every page.
	Demo bool
	// ResultHold is how long a result stays (0: DefaultResultHold).
	ResultHold time.Duration
	// Languages orders the texts (zero: each order's wallet decides).
	Languages Languages
}

// Model is what one customer screen shows now, driven by the same three
// calls as the screen: Show, AskForCode and Idle. It is not safe for
// concurrent use: its screen calls it from one goroutine (Fyne's) or under
// a lock (the browser displays' hub).
type Model struct {
	cfg Config
	cur View
	seq uint64
	// resultFor is the order and state of the last result shown: a repeat
	// neither extends its hold nor brings it back.
	resultFor string
	// The last QR encoded: a snapshot repeats its QR many times.
	qrText    string
	qrModules [][]bool
	qrErr     error
}

// NewModel returns the model of a screen showing the welcome.
func NewModel(cfg Config) *Model {
	if cfg.ResultHold <= 0 {
		cfg.ResultHold = DefaultResultHold
	}
	if cfg.Wallets == nil {
		cfg.Wallets = payment.MPMPayTypes()
	}
	m := &Model{cfg: cfg}
	m.cur = m.next(m.idle())
	return m
}

// Config is the model's configuration, defaults filled in.
func (m *Model) Config() Config { return m.cfg }

// Current is the view showing now.
func (m *Model) Current() View { return m.cur }

// Show derives the view of an order's snapshot. changed is false when the
// snapshot is the result already shown (or held and gone): the screen
// keeps what it shows, and the hold is neither extended nor restarted.
func (m *Model) Show(snap payment.Snapshot) (v View, changed bool) {
	key := snap.OutTradeNo + "/" + snap.State.String()
	if snap.State.Final() && key == m.resultFor {
		return m.cur, false
	}
	v = m.order(snap)
	if snap.State.Final() {
		m.resultFor = key
	}
	m.cur = m.next(v)
	return m.cur, true
}

// AskForCode derives the request for the customer's payment code for
// amount, to show to the cashier's scanner.
func (m *Model) AskForCode(amount payment.Amount) View {
	m.resultFor = ""
	o := m.cfg.Languages.Default()
	v := m.base(o)
	v.AmountLabel, v.Amount = Inline(txtAmount, o), amount.Display()
	v.Page = PageCreating
	v.Title = TextOf(txtShowCode, o, Primary)
	v.Note = Text{Tone: Muted}
	m.cur = m.next(v)
	return m.cur
}

// Idle derives the welcome, at once (the cashier stopped waiting).
func (m *Model) Idle() View {
	m.resultFor = ""
	m.cur = m.next(m.idle())
	return m.cur
}

// ReceiptHold is how long a Paid result stays once its e-receipt's QR is
// on it: long enough to take out a phone and scan it.
const ReceiptHold = 10 * time.Second

// Receipt puts the e-receipt's link, as a QR, on the Paid result of
// outTradeNo, held ReceiptHold from now. ok is false and nothing changes
// when the screen shows anything else (another sale, the welcome, a
// result other than paid): a receipt's QR is never on a page that asks
// for a payment.
func (m *Model) Receipt(outTradeNo, link string) (v View, ok bool) {
	cur := m.cur
	if cur.Page != PageResult || cur.State != payment.StatePaid || cur.OutTradeNo != outTradeNo || link == "" {
		return m.cur, false
	}
	mods, err := QRModules(link)
	if err != nil {
		return m.cur, false
	}
	cur.Receipt, cur.ReceiptModules, cur.Hold = link, mods, ReceiptHold
	m.cur = m.next(cur)
	return m.cur, true
}

// EndHold ends the hold of the result view seq: the welcome, unless
// another view has come since (then ok is false and nothing changes).
func (m *Model) EndHold(seq uint64) (v View, ok bool) {
	if m.cur.Seq != seq || m.cur.Page != PageResult {
		return m.cur, false
	}
	m.cur = m.next(m.idle())
	return m.cur, true
}

func (m *Model) next(v View) View {
	m.seq++
	v.Seq = m.seq
	return v
}

// base is what every page has.
func (m *Model) base(o Order) View {
	v := View{Order: o}
	if m.cfg.Demo {
		v.Banner = Inline(txtDemo, m.cfg.Languages.Default())
	}
	return v
}

func (m *Model) idle() View {
	o := m.cfg.Languages.Default()
	v := m.base(o)
	v.Page = PageIdle
	v.Merchant = m.cfg.MerchantName
	v.Welcome, v.Accept = Inline(txtWelcome, o), Inline(txtWeAccept, o)
	for _, w := range m.cfg.Wallets {
		v.Wallets = append(v.Wallets, TextOf(w.Name, o, Ink))
	}
	return v
}

// order is the view of an order's snapshot.
func (m *Model) order(snap payment.Snapshot) View {
	o := m.cfg.Languages.For(snap.PayType)
	v := m.base(o)
	v.OutTradeNo, v.State = snap.OutTradeNo, snap.State
	v.AmountLabel, v.Amount = Inline(txtAmount, o), snap.Amount.Display()
	creating := func(title, note payment.Names, act bool) View {
		v.Page = PageCreating
		v.Title = TextOf(title, o, Ink)
		if act {
			v.Title.Tone = Primary
		}
		v.Note = TextOf(note, o, Muted)
		return v
	}
	switch {
	case snap.State.Final():
		return m.result(v, snap)
	case snap.State == payment.StateAwaitingPayment && snap.ConfirmingPaid && !snap.Cancelling:
		// A push says paid and the gateway is asked: the customer who
		// just paid is not shown the QR again, nor "paid" before it is.
		return creating(walletName(snap.PayType), txtProcessing, false)
	case snap.State == payment.StateAwaitingPayment && snap.QRCode != "":
		return m.awaiting(v, snap)
	case snap.PayType.Mode == payment.CPM:
		// A scanned code: no QR, and the customer may have to approve
		// the payment in the wallet app.
		switch {
		case snap.Cancelling:
			return creating(txtCancelling, payment.Names{}, false)
		case snap.Confirming:
			return creating(txtConfirmOnPhone, txtConfirmHint, true)
		default:
			return creating(walletName(snap.PayType), txtProcessing, false)
		}
	default: // creating, or awaiting before the QR is known
		return creating(snap.PayType.Name, txtPreparing, false)
	}
}

func (m *Model) awaiting(v View, snap payment.Snapshot) View {
	o := v.Order
	v.Page = PageAwaiting
	v.Wallet = TextOf(snap.PayType.Name, o, Ink)
	v.Created, v.Deadline = snap.Created, snap.Deadline
	v.ExpiresLabel = expiresLabel(o)
	modules, err := m.modules(snap.QRCode)
	switch {
	case err != nil:
		// The QR cannot be drawn: the shop's problem, said as such.
		v.Title = TextOf(reasonShop, o, Primary)
	case snap.Cancelling:
		// The QR must not be scanned any more: take it away rather than
		// let a customer pay an order being withdrawn.
		v.Title = TextOf(txtCancelling, o, Primary)
	default:
		v.Title = TextOf(txtScanToPay, o, Primary)
		v.QR, v.Modules = snap.QRCode, modules
	}
	return v
}

func (m *Model) modules(text string) ([][]bool, error) {
	if text != m.qrText || (m.qrModules == nil && m.qrErr == nil) {
		m.qrText = text
		m.qrModules, m.qrErr = QRModules(text)
	}
	return m.qrModules, m.qrErr
}

func (m *Model) result(v View, snap payment.Snapshot) View {
	o := v.Order
	v.Page, v.Hold = PageResult, m.cfg.ResultHold
	var title, detail payment.Names
	var tone Tone
	amount := ""
	switch snap.State {
	case payment.StatePaid:
		v.Sign, tone, title, amount = SignCheck, Success, txtPaid, snap.Amount.Display()
	case payment.StateFailed:
		v.Sign, tone, title, detail = SignCross, Error, txtFailed, failureReason(snap.Code)
	case payment.StateExpired:
		v.Sign, tone, title, detail = SignClock, Warning, txtExpired, txtAskCashier
	default:
		v.Sign, tone, title = SignMinus, Muted, txtCancelled
	}
	if (snap.State == payment.StateExpired || snap.State == payment.StateCancelled) && !snap.Withdrawn {
		// The gateway could not withdraw the QR (or the scanned payment
		// still open on the customer's phone): say so, whatever else.
		detail = txtDoNotPay
		if snap.PayType.Mode == payment.CPM {
			detail = txtDoNotConfirm
		}
	}
	if snap.NotConfirmed {
		detail = reasonNotConfirmed
		if !snap.Withdrawn {
			// Still open on the phone: approving it now would charge a
			// customer the cashier is about to charge again.
			detail = txtDoNotConfirm
		}
	}
	v.Title = TextOf(title, o, tone)
	v.Amount = amount
	v.Note = TextOf(detail, o, Ink)
	return v
}

// walletName names an order's wallet; the all-in-one type of a scanned
// code, whose wallet the gateway tells from the code, is just "Payment
// code".
func walletName(p payment.PayType) payment.Names {
	if p.Code == payment.AllInOneCPM {
		return txtPaymentCode
	}
	return p.Name
}

// expiresLabel is the countdown's label: three lines would each be too
// small to read at a counter, so both Chinese scripts share one, beside
// each other, the first of them in o's order first.
func expiresLabel(o Order) []string {
	var zh []string
	for _, l := range o {
		if l != En {
			zh = append(zh, l.of(txtExpiresIn))
		}
	}
	both := zh[0] + "  " + zh[1]
	if o[0] == En {
		return []string{txtExpiresIn.En, both}
	}
	return []string{both, txtExpiresIn.En}
}
