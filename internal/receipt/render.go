package receipt

import (
	"image"

	"qrkiosk/payment"
)

// timeLayout is how a slip writes a time (in the shop's zone).
const timeLayout = "2006-01-02 15:04:05"

// Render draws a sale or refund slip, one dot per pixel, Options.Width wide.
// A character the bundled fonts lack prints as an empty box (see
// MissingGlyphs). Bad input is a *payment.FieldError naming the field.
func Render(s Slip, o Options) (*image.Paletted, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	if err := s.check(); err != nil {
		return nil, err
	}
	p := newPage(o.Width)
	st := p.st
	p.header(s.Merchant, o.Logo)
	small, body := p.face(st.small, false), p.face(st.body, false)
	heading, amountLabel, box := lblReceipt, lblAmount, statusNames[s.Status]
	if s.Kind == Refund {
		heading, amountLabel, box = lblRefundSlip, lblRefundAmount, lblRefundDone
	}
	p.text(body, names(heading), center)
	if s.Copy {
		p.gap(st.gap / 2)
		p.banner(small, names(lblCopy))
	}
	p.rule()

	p.text(small, names(amountLabel), center)
	amount := payment.Amount{Minor: s.Amount, Currency: s.Currency}.Display()
	p.text(p.fit(st.amount, amount), one(amount), center)
	p.gap(st.gap / 2)
	p.banner(p.face(st.title, true), names(box))
	if s.Kind == Sale && s.Refunded > 0 {
		p.gap(st.gap / 2)
		p.field(names(lblRefunded), one(payment.Amount{Minor: s.Refunded, Currency: s.Currency}.Display()))
	}
	p.rule()

	p.field(names(lblDate), one(o.local(s.Time).Format(timeLayout)))
	if s.Wallet.En != "" {
		label := lblWallet
		if s.Kind == Refund {
			label = lblRefundedTo
		}
		p.field(names(label), names(s.Wallet))
	}
	saleSysSN := s.SysSN
	if s.Kind == Refund {
		saleSysSN = s.OrigSysSN
		p.field(names(lblRefundNo), one(s.SysSN))
		p.field(names(lblOrigTxn), one(s.OrigSysSN))
	} else {
		p.field(names(lblTxn), one(s.SysSN))
	}
	if s.OutTradeNo != "" {
		p.field(names(lblOrder), one(s.OutTradeNo))
	}
	if s.POSRef != "" {
		p.field(names(lblPOS), one(s.POSRef))
	}
	p.rule()

	// The cashier scans this to find the sale for a refund.
	p.qr(saleSysSN)
	p.text(small, names(lblKeep), center)
	p.gap(st.gap)
	p.text(body, names(lblThanks), center)
	return p.render()
}

// header is the logo and the merchant's name, centred.
func (p *page) header(merchant string, logo image.Image) {
	if logo != nil {
		if pic := logoBits(logo, p.inner(), p.st.logoMaxH); pic != nil {
			p.picture(pic)
			p.gap(p.st.gap)
		}
	}
	if merchant != "" {
		p.text(p.face(p.st.title, true), one(merchant), center)
		p.gap(p.st.gap / 2)
	}
}

// fit is the bold type at size, smaller when s would not fit on one line
// (a nine-digit amount on 58 mm paper), never below the body size.
func (p *page) fit(size int, s string) *face {
	f := p.face(size, true)
	for size > p.st.body && f.width(s) > p.inner() {
		size -= 4
		f = p.face(size, true)
	}
	return f
}
