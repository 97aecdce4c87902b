package display

import (
	"image"
	"image/color"
	"math"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"

	"qrkiosk/display/view"
	"qrkiosk/payment"
)

// ReceiptHold is how long the Paid page stays once its receipt QR shows:
// time to take a phone out and scan it.
const ReceiptHold = view.ReceiptHold

// txtReceipt labels the receipt QR, so it is never taken for a payment QR.
var txtReceipt = payment.Names{En: "Receipt", ZhHant: "收據", ZhHans: "收据"}

// receiptCard is the e-receipt's QR on the Paid page: a small card,
// labelled, beside the result (below it on an upright screen), only over
// the sale it belongs to.
type receiptCard struct {
	page  *fyne.Container // the result page it shares the screen with
	frame *canvas.Rectangle
	img   *canvas.Image // the QR
	label *canvas.Text  // "Receipt"
	zh    *canvas.Image // both Chinese scripts (receipt_label.go)

	shown  bool
	bitmap [][]bool
	link   string
	// the rasters in img and zh: for which link, at how many pixels
	rastered string
	px, zhPx int
	zhW, zhH float32 // zh's size in Fyne units
}

// withReceipt is the result page with room for the receipt card.
func (s *Screen) withReceipt(page *fyne.Container) *fyne.Container {
	r := &receiptCard{page: page, frame: canvas.NewRectangle(color.White), img: canvas.NewImageFromImage(nil),
		label: newText(true, colInk), zh: canvas.NewImageFromImage(nil)}
	r.frame.StrokeColor, r.frame.StrokeWidth = colMuted, 2
	for _, img := range []*canvas.Image{r.img, r.zh} {
		img.ScaleMode = canvas.ImageScalePixels
		img.FillMode = canvas.ImageFillStretch
	}
	setText(r.label, txtReceipt.En)
	s.receipt = r
	r.setShown(false)
	return container.New(r, page, r.frame, r.img, r.label, r.zh)
}

// ShowReceipt puts the e-receipt's link as a small, labelled QR on the
// Paid page of the sale outTradeNo, and keeps that page ReceiptHold from
// now; over any other page, or another sale's result, it shows nothing
// (view.Model.Receipt decides). Call it on the Fyne goroutine.
func (s *Screen) ShowReceipt(outTradeNo, link string) {
	if v, ok := s.model.Receipt(outTradeNo, link); ok {
		s.render(v)
	}
}

// set shows the view's receipt QR, or takes the card away when it has
// none (a new result has no receipt yet).
func (r *receiptCard) set(link string, modules [][]bool) {
	if link == "" {
		r.hide()
		return
	}
	r.bitmap, r.link = modules, link
	r.setShown(true)
}

// hide takes the card away: a new result has no receipt yet.
func (r *receiptCard) hide() {
	r.setShown(false)
	r.bitmap, r.link = nil, ""
}

func (r *receiptCard) setShown(on bool) {
	r.shown = on
	for _, o := range []fyne.CanvasObject{r.frame, r.img, r.label, r.zh} {
		if on {
			o.Show()
		} else {
			o.Hide()
		}
	}
}

func (r *receiptCard) MinSize([]fyne.CanvasObject) fyne.Size { return fyne.NewSize(1, 1) }

// Layout gives the result page the whole screen, or with the card the
// rest of it: the card in the bottom-right corner and the page centred
// between equal margins (landscape), or the card at the bottom and the
// page above (upright), so that nothing of the result is covered. The QR
// is a quarter of the screen's shorter side (the payment QR takes most of
// it), drawn with whole pixels per module, its label above it in type as
// large as the screen's smallest texts.
func (r *receiptCard) Layout(_ []fyne.CanvasObject, size fyne.Size) {
	if !r.shown {
		place(r.page, 0, 0, size.Width, size.Height)
		return
	}
	scale := float32(1)
	if c := fyne.CurrentApp().Driver().CanvasForObject(r.frame); c != nil {
		scale = c.Scale()
	}
	short := fyne.Min(size.Width, size.Height)
	side, margin, pad := short*0.26, short*0.03, short*0.015
	text := float32(math.Ceil(float64(short * 0.036)))
	if px := int(side * scale); r.link != r.rastered || px != r.px {
		r.raster(px)
	}
	if zhPx := int(text * scale); zhPx != r.zhPx {
		r.rasterZh(zhPx, scale)
	}
	imgSide := (float32(r.px) - 0.25) / scale // exactly px screen pixels, never resampled
	if r.label.TextSize != text {
		r.label.TextSize = text
		r.label.Refresh()
	}
	en := r.label.MinSize()
	cardW := fyne.Max(imgSide, fyne.Max(en.Width, r.zhW)) + 2*pad
	cardH := en.Height + r.zhH + imgSide + 3*pad
	var x0, y0 float32
	if size.Height > size.Width {
		x0, y0 = (size.Width-cardW)/2, size.Height-margin-cardH
		place(r.page, 0, 0, size.Width, y0-margin)
	} else {
		x0, y0 = size.Width-margin-cardW, size.Height-margin-cardH
		side := cardW + 2*margin
		place(r.page, side, 0, size.Width-2*side, size.Height)
	}
	place(r.frame, x0, y0, cardW, cardH)
	r.frame.CornerRadius = pad
	place(r.label, x0, y0+pad, cardW, en.Height)
	place(r.zh, x0+(cardW-r.zhW)/2, y0+pad+en.Height, r.zhW, r.zhH)
	place(r.img, x0+(cardW-imgSide)/2, y0+2*pad+en.Height+r.zhH, imgSide, imgSide)
}

// place puts o at x, y with size w×h.
func place(o fyne.CanvasObject, x, y, w, h float32) {
	o.Move(fyne.NewPos(x, y))
	o.Resize(fyne.NewSize(max(w, 0), max(h, 0)))
}

func (r *receiptCard) raster(px int) {
	r.rastered, r.px = r.link, px
	r.img.Image = image.NewGray(image.Rect(0, 0, 1, 1))
	if r.bitmap != nil {
		if img, err := rasterQR(r.bitmap, px); err == nil {
			r.img.Image = img
		}
	}
	r.img.Refresh()
}

// rasterZh draws the Chinese line px pixels high.
func (r *receiptCard) rasterZh(px int, scale float32) {
	r.zhPx = px
	img := textImage(txtReceipt.ZhHant+"  "+txtReceipt.ZhHans, px, colInk)
	if img == nil {
		r.zh.Image, r.zhW, r.zhH = nil, 0, 0
		return
	}
	b := img.Bounds()
	r.zh.Image = img
	r.zhW, r.zhH = (float32(b.Dx())-0.25)/scale, (float32(b.Dy())-0.25)/scale
	r.zh.Refresh()
}
