package receipt

import (
	"fmt"
	"image"
	"time"

	"qrkiosk/payment"
)

// TestSlip is what the set-up's "Print a test slip" prints.
type TestSlip struct {
	Merchant string
	Printer  string // the printer's address as configured
	Time     time.Time
}

// RenderTest draws the test slip: a frame on the edges of the printable
// width (a side missing means the width is set wrong), the paper and
// printer set up, English, traditional and simplified Chinese, an amount
// and a QR code, so one look tells whether receipts will print right.
func RenderTest(t TestSlip, o Options) (*image.Paletted, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	if err := checkLengths([][2]string{{"merchant", t.Merchant}, {"printer", t.Printer}}); err != nil {
		return nil, err
	}
	p := newPage(o.Width)
	p.frame = true
	p.st.margin += 8 // clear of the frame
	st := p.st
	p.gap(st.gap)
	p.header(t.Merchant, o.Logo)
	small, body := p.face(st.small, false), p.face(st.body, false)
	p.banner(p.face(st.title, true), staff(lblTest))
	p.gap(st.gap)
	p.field(staff(lblTestPaper), one(paperName(o.Width)))
	if t.Printer != "" {
		p.field(staff(lblTestAddr), one(t.Printer))
	}
	if !t.Time.IsZero() {
		p.field(staff(lblTestTime), one(o.local(t.Time).Format(timeLayout)))
	}
	p.rule()
	for _, sample := range []string{"ABCDEFGHIJKLM NOPQRSTUVWXYZ", "abcdefghijklm nopqrstuvwxyz", "0123456789 $ , . : - / #", "繁體 支付寶 銀聯 轉數快 八達通", "简体 支付宝 银联 转数快 谢谢"} {
		p.text(body, one(sample), left)
	}
	hkd, _ := payment.LookupCurrency("HKD")
	amount := payment.Amount{Minor: 123450, Currency: hkd}.Display()
	p.text(p.fit(st.amount, amount), one(amount), center)
	p.qr("qrkiosk printer test")
	p.text(small, staff(lblTestOK), center)
	p.gap(st.gap)
	return p.render()
}

// paperName says the width as a merchant knows it.
func paperName(width int) string {
	switch width {
	case 384:
		return "58 mm · 384 dots"
	case 576:
		return "80 mm · 576 dots"
	}
	return fmt.Sprintf("%d dots", width)
}
