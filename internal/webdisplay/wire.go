package webdisplay

import (
	"encoding/base64"
	"time"

	"qrkiosk/display/view"
)

// What the kiosk sends a display, one JSON object a websocket message, told
// apart by "t". A display sends nothing back.
//
//	hello  first, once: the timing the page keeps to
//	view   everything to show now (a new view replaces the last one whole)
//	hb     the heartbeat: the link is alive, and the QR's time left
//	cue    play a sound now
//
// The page draws what a view says and keeps no state of its own but the
// link's liveness and the countdown between two messages.

// helloMsg tells the page its timing: it hides the QR when no message has
// come for StaleMs (the heartbeat comes every HeartbeatMs).
type helloMsg struct {
	T           string `json:"t"`
	HeartbeatMs int64  `json:"heartbeat_ms"`
	StaleMs     int64  `json:"stale_ms"`
	UrgentMs    int64  `json:"urgent_ms"`
}

type textMsg struct {
	Lines []string `json:"lines,omitempty"`
	Langs []string `json:"langs,omitempty"`
	Tone  string   `json:"tone,omitempty"`
}

// qrMsg is a QR symbol without its quiet zone: N×N modules, row by row,
// dark ones 1, packed eight a byte (first module in the high bit), base64.
type qrMsg struct {
	N    int    `json:"n"`
	Bits string `json:"bits"`
}

type viewMsg struct {
	T    string `json:"t"`
	Seq  uint64 `json:"seq"`
	Page string `json:"page"`
	// Lang is the first language's tag (the page's lang).
	Lang   string `json:"lang"`
	Order  string `json:"order,omitempty"` // the order's out_trade_no
	Banner string `json:"banner,omitempty"`

	Merchant string    `json:"merchant,omitempty"`
	Logo     bool      `json:"logo,omitempty"`
	Welcome  string    `json:"welcome,omitempty"`
	Accept   string    `json:"accept,omitempty"`
	Wallets  []textMsg `json:"wallets,omitempty"`

	AmountLabel string  `json:"amount_label,omitempty"`
	Amount      string  `json:"amount,omitempty"`
	Title       textMsg `json:"title"`
	Note        textMsg `json:"note"`
	Wallet      textMsg `json:"wallet"`
	Sign        string  `json:"sign,omitempty"`

	// QR is there only while the kiosk offers it and time is left: a page
	// never has a QR it should not draw.
	QR      *qrMsg   `json:"qr,omitempty"`
	LeftMs  int64    `json:"left_ms,omitempty"`
	TotalMs int64    `json:"total_ms,omitempty"`
	Expires []string `json:"expires,omitempty"`

	// Receipt is the e-receipt's QR, only on the Paid result it belongs
	// to: never on a page that asks for a payment.
	Receipt *qrMsg `json:"receipt,omitempty"`
}

// hbMsg: the link is alive; LeftMs is the time left of view Seq's QR by
// the kiosk's clock (0 without one).
type hbMsg struct {
	T      string `json:"t"`
	Seq    uint64 `json:"seq"`
	LeftMs int64  `json:"left_ms,omitempty"`
}

type cueMsg struct {
	T   string `json:"t"`
	Cue string `json:"cue"`
}

func text(t view.Text) textMsg {
	m := textMsg{Lines: t.Lines, Tone: string(t.Tone)}
	for _, l := range t.Langs {
		m.Langs = append(m.Langs, l.Tag())
	}
	return m
}

// left is the time the view's QR has left at now, by the kiosk's clock;
// 0 when it offers none.
func left(v view.View, now time.Time) time.Duration {
	if !v.QRShown() {
		return 0
	}
	return max(v.Deadline.Sub(now), 0)
}

// viewMessage is v as sent at now. logo says whether the kiosk serves one.
func viewMessage(v view.View, now time.Time, logo bool) viewMsg {
	m := viewMsg{
		T: "view", Seq: v.Seq, Page: string(v.Page), Lang: v.Order[0].Tag(), Order: v.OutTradeNo, Banner: v.Banner,
		Merchant: v.Merchant, Welcome: v.Welcome, Accept: v.Accept,
		AmountLabel: v.AmountLabel, Amount: v.Amount,
		Title: text(v.Title), Note: text(v.Note), Wallet: text(v.Wallet), Sign: string(v.Sign),
		Expires: v.ExpiresLabel,
	}
	if v.Page == view.PageIdle {
		m.Logo = logo
		for _, w := range v.Wallets {
			m.Wallets = append(m.Wallets, text(w))
		}
	}
	if l := left(v, now); l > 0 {
		m.QR = packQR(v.Modules)
		m.LeftMs = l.Milliseconds()
		m.TotalMs = max(v.Deadline.Sub(v.Created), l).Milliseconds()
	}
	if v.Page == view.PageResult && v.Receipt != "" && len(v.ReceiptModules) > 0 {
		m.Receipt = packQR(v.ReceiptModules)
	}
	return m
}

func packQR(modules [][]bool) *qrMsg {
	n := len(modules)
	b := make([]byte, (n*n+7)/8)
	for y, row := range modules {
		for x, dark := range row {
			if dark {
				i := y*n + x
				b[i/8] |= 0x80 >> (i % 8)
			}
		}
	}
	return &qrMsg{N: n, Bits: base64.StdEncoding.EncodeToString(b)}
}
