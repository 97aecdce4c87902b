package display

import (
	"context"
	"image"
	"image/color"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"

	"qrkiosk/payment"
)

// DefaultResultHold is how long a result stays on the customer screen.
const DefaultResultHold = 5 * time.Second

// ScreenConfig is what the customer screen shows besides the orders.
type ScreenConfig struct {
	MerchantName string
	// Wallets are the accepted pay types, in the order to list them
	// (nil: every wallet the customer can scan, payment.MPMPayTypes).
	Wallets []payment.PayType
	// Demo puts a "DEMO — no real money" banner on every state.
	Demo bool
	// ResultHold is how long Paid, Failed, Expired or Cancelled stays
	// before the screen goes back to idle (0: DefaultResultHold).
	ResultHold time.Duration
	// Now is the clock the countdown reads (nil: time.Now).
	Now func() time.Time
	// Logo is the merchant's logo on the idle screen (nil: none).
	Logo image.Image
	// OnWhite says the window is already cleared to white (its app theme's
	// background is white): the screen then paints no background of its
	// own. Under software OpenGL that full-screen fill, redrawn with every
	// countdown tick, is about 2 points of a core.
	OnWhite bool
}

// Screen is the customer-facing screen: idle (merchant name and the
// accepted wallets), then for each order its amount, wallet, QR and
// countdown, then the result, and back to idle by itself. Every text is in
// English, Traditional and Simplified Chinese. It draws what Show gives it
// and never decides an order's state.
//
// A Screen is used from the Fyne goroutine only. Several can live side by
// side (the cashier pane embeds a small one as its mirror).
type Screen struct {
	cfg  ScreenConfig
	clk  clock
	th   *customerTheme
	root fyne.CanvasObject
	// canvas is the window showing the screen (SetCanvas); nil: found
	// through the driver.
	canvas fyne.Canvas

	banner *fyne.Container
	pages  *fyne.Container // one of the pages below is visible

	idle *fyne.Container

	// creating also asks for the customer's payment code (AskForCode) and
	// follows a scanned code's payment, which has no QR.
	creating       *fyne.Container
	creatingAmount *canvas.Text
	creatingWallet trilingual
	creatingNote   trilingual

	awaiting      *fyne.Container
	awaitHeading  trilingual
	awaitAmount   *canvas.Text
	awaitWallet   trilingual
	qr            *QRCountdown
	qrPlaceholder *canvas.Rectangle
	tickFor       string // the order the countdown is ticking for
	stopTick      context.CancelFunc
	tickStopped   <-chan struct{} // closed when the last countdown goroutine has stopped

	result          *fyne.Container
	resultIcon      *resultIcon
	resultTitle     trilingual
	resultAmount    *canvas.Text
	resultDetail    trilingual
	resultDetailBox *fyne.Container
	stopHold        context.CancelFunc
	// resultFor is the order and state of the last result shown.
	resultFor string
	// receipt is the e-receipt's QR over a Paid page (receipt.go).
	receipt *receiptCard
}

// NewScreen builds the customer screen, showing idle.
func NewScreen(cfg ScreenConfig) *Screen {
	return newScreen(cfg, realClock(cfg.Now))
}

func newScreen(cfg ScreenConfig, clk clock) *Screen {
	if cfg.ResultHold <= 0 {
		cfg.ResultHold = DefaultResultHold
	}
	if cfg.Wallets == nil {
		cfg.Wallets = payment.MPMPayTypes()
	}
	s := &Screen{cfg: cfg, clk: clk, th: newCustomerTheme()}
	s.buildIdle()
	s.buildCreating()
	s.buildAwaiting()
	s.buildResult()
	s.pages = container.NewStack(s.idle, s.creating, s.awaiting, s.result)

	bannerText := newText(true, color.White)
	setText(bannerText, inline(txtDemo))
	s.banner = container.NewStack(flat(s.color(theme.ColorNameWarning)),
		column(0.18, band{obj: bannerText, weight: 1}))
	s.banner.Hidden = !cfg.Demo

	content := container.NewStack(
		column(0, band{obj: s.banner, weight: 0.075}, band{obj: s.pages, weight: 0.925}),
	)
	if !cfg.OnWhite {
		content.Objects = append([]fyne.CanvasObject{flat(s.color(theme.ColorNameBackground))}, content.Objects...)
	}
	// Built whole before the override: objects added later would not get
	// the customer theme.
	s.root = container.NewThemeOverride(content, s.th)
	s.showPage(s.idle)
	return s
}

// Content is the screen's canvas object: make it a window's content, or
// embed it (at any size) in another pane.
func (s *Screen) Content() fyne.CanvasObject { return s.root }

// SetCanvas names the canvas of the window that shows the screen, so that
// every change reaches that window (see repaint).
func (s *Screen) SetCanvas(c fyne.Canvas) { s.canvas = c }

// Show draws the order as the snapshot describes it. Call it on the Fyne
// goroutine (fyne.Do from an observer) with every new snapshot of the order.
func (s *Screen) Show(snap payment.Snapshot) {
	key := snap.OutTradeNo + "/" + snap.State.String()
	if snap.State.Final() && key == s.resultFor {
		return // already shown: a repeat neither extends its hold nor brings it back
	}
	s.cancelHold()
	switch {
	case snap.State.Final():
		s.cancelTick()
		s.showResult(snap)
		s.resultFor = key
		s.startHold()
	case snap.State == payment.StateAwaitingPayment && snap.ConfirmingPaid && !snap.Cancelling:
		// A push says paid and the gateway is asked: the customer who
		// just paid is not shown the QR again, nor "paid" before it is.
		s.cancelTick()
		s.showCreating(snap.Amount, walletName(snap.PayType), txtProcessing, false)
	case snap.State == payment.StateAwaitingPayment && snap.QRCode != "":
		s.showAwaiting(snap)
	case snap.PayType.Mode == payment.CPM:
		// A scanned code: no QR, and the customer may have to approve
		// the payment in the wallet app.
		s.cancelTick()
		switch {
		case snap.Cancelling:
			s.showCreating(snap.Amount, txtCancelling, payment.Names{}, false)
		case snap.Confirming:
			s.showCreating(snap.Amount, txtConfirmOnPhone, txtConfirmHint, true)
		default:
			s.showCreating(snap.Amount, walletName(snap.PayType), txtProcessing, false)
		}
	default: // creating, or awaiting before the QR is known
		s.cancelTick()
		s.showCreating(snap.Amount, snap.PayType.Name, txtPreparing, false)
	}
}

// AskForCode asks the customer to show the wallet's payment code to the
// cashier's scanner, for amount. The next Show (the scanned code's order)
// or Idle replaces it.
func (s *Screen) AskForCode(amount payment.Amount) {
	s.cancelHold()
	s.cancelTick()
	s.resultFor = ""
	s.showCreating(amount, txtShowCode, payment.Names{}, true)
}

// Idle shows the welcome screen at once (the cashier stopped waiting for
// a scan, say).
func (s *Screen) Idle() {
	s.cancelHold()
	s.cancelTick()
	s.resultFor = ""
	s.showPage(s.idle)
}

// showCreating shows the amount with a heading under it (what to do, in
// the primary colour when the customer has something to do) and a note.
func (s *Screen) showCreating(amount payment.Amount, heading, note payment.Names, act bool) {
	setText(s.creatingAmount, amount.Display())
	s.creatingWallet.set(heading)
	if act {
		s.creatingWallet.setColor(s.color(theme.ColorNamePrimary))
	} else {
		s.creatingWallet.setColor(s.color(theme.ColorNameForeground))
	}
	s.creatingNote.set(note)
	s.showPage(s.creating)
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

func (s *Screen) color(n fyne.ThemeColorName) color.Color {
	return s.th.Color(n, theme.VariantLight)
}

func (s *Screen) showPage(p *fyne.Container) {
	for _, o := range s.pages.Objects {
		o.(*fyne.Container).Hidden = o != p
	}
	// Refresh lays the page out again: its texts may have changed length.
	p.Refresh()
	s.repaint(p)
}

// repaint has the window showing the screen draw obj again. An object's
// own Refresh finds its window through a cache of the objects drawn in the
// last minute (Fyne 2.8): a page never drawn in this window, or hidden for
// longer, would change in memory only, and with no window manager nothing
// else makes that window repaint (a second window stayed on the last
// customer's "Paid" while the cashier's mirror was current).
func (s *Screen) repaint(obj fyne.CanvasObject) {
	c := s.canvas
	if c == nil {
		c = fyne.CurrentApp().Driver().CanvasForObject(s.root)
	}
	if c != nil {
		c.Refresh(obj)
	}
}

func (s *Screen) buildIdle() {
	ink, muted := s.color(theme.ColorNameForeground), s.color(theme.ColorNamePlaceHolder)
	merchant := newText(true, ink)
	setText(merchant, s.cfg.MerchantName)
	merchant.Hidden = s.cfg.MerchantName == ""
	logo := canvas.NewImageFromImage(s.cfg.Logo)
	logo.FillMode = canvas.ImageFillContain
	logo.ScaleMode = canvas.ImageScaleSmooth
	logo.Hidden = s.cfg.Logo == nil
	welcome := newText(false, s.color(theme.ColorNamePrimary))
	setText(welcome, inline(txtWelcome))
	accept := newText(false, muted)
	setText(accept, inline(txtWeAccept))

	tiles := &walletTiles{aspect: 2.3, gap: 0.18}
	for _, w := range s.cfg.Wallets {
		names, _ := newTrilingual(1, 1, 0, true, ink)
		names.set(w.Name)
		tiles.tiles = append(tiles.tiles, walletTile{bg: canvas.NewRectangle(s.color(theme.ColorNameInputBackground)), names: names})
	}
	s.idle = column(0.05,
		spacer(0.2),
		band{obj: logo, weight: 2.2},
		band{obj: merchant, weight: 1.5},
		band{obj: welcome, weight: 0.7},
		spacer(0.5),
		band{obj: accept, weight: 0.5},
		spacer(0.15),
		band{obj: container.New(tiles, tiles.objects()...), weight: 4},
	)
}

func (s *Screen) buildCreating() {
	ink, muted := s.color(theme.ColorNameForeground), s.color(theme.ColorNamePlaceHolder)
	label := newText(false, muted)
	setText(label, inline(txtAmount))
	s.creatingAmount = newText(true, ink)
	wallet, walletBands := newTrilingual(0.75, 0.6, 1, true, ink)
	s.creatingWallet = wallet
	preparing, preparingBands := newTrilingual(0.6, 0.5, 2, false, muted)
	preparing.set(txtPreparing)
	s.creatingNote = preparing
	bands := []band{spacer(0.6), {obj: label, weight: 0.5}, {obj: s.creatingAmount, weight: 2}}
	bands = append(bands, walletBands...)
	bands = append(bands, spacer(0.7))
	bands = append(bands, preparingBands...)
	bands = append(bands, spacer(0.6))
	s.creating = column(0.06, bands...)
}

func (s *Screen) buildAwaiting() {
	ink, muted := s.color(theme.ColorNameForeground), s.color(theme.ColorNamePlaceHolder)
	heading, headingBands := newTrilingual(0.95, 0.7, 1, true, s.color(theme.ColorNamePrimary))
	s.awaitHeading = heading
	label := newText(false, muted)
	setText(label, inline(txtAmount))
	s.awaitAmount = newText(true, ink)
	wallet, walletBands := newTrilingual(0.85, 0.65, 2, true, ink)
	s.awaitWallet = wallet

	bands := []band{spacer(0.3)}
	bands = append(bands, headingBands...)
	bands = append(bands, spacer(0.4), band{obj: label, weight: 0.6}, band{obj: s.awaitAmount, weight: 1.8}, spacer(0.3))
	bands = append(bands, walletBands...)
	bands = append(bands, spacer(0.3))
	info := column(0.06, bands...)

	s.qr = newQRCountdown(s.clk)
	s.qr.repaint = s.repaint
	s.qrPlaceholder = canvas.NewRectangle(s.color(theme.ColorNameInputBackground))
	s.qrPlaceholder.CornerRadius = 16
	qrArea := container.New(insetLayout{pad: 0.03}, container.NewStack(s.qrPlaceholder, s.qr))
	s.awaiting = container.New(splitLayout{}, info, qrArea)
}

func (s *Screen) showAwaiting(snap payment.Snapshot) {
	setText(s.awaitAmount, snap.Amount.Display())
	s.awaitWallet.set(snap.PayType.Name)

	err := s.qr.SetOrder(snap.QRCode, snap.Created, snap.Deadline)
	if snap.Cancelling || err != nil {
		// The QR must not be scanned any more (or cannot be drawn): take it
		// away rather than let a customer pay an order being withdrawn.
		s.cancelTick()
		if err != nil {
			s.awaitHeading.set(reasonShop)
		} else {
			s.awaitHeading.set(txtCancelling)
		}
		s.qr.Hide()
		s.qrPlaceholder.Show()
		s.showPage(s.awaiting)
		return
	}
	s.awaitHeading.set(txtScanToPay)
	s.qrPlaceholder.Hide()
	s.qr.Show()
	s.showPage(s.awaiting)
	order := snap.OutTradeNo + "/" + snap.QRCode + "/" + snap.Deadline.String()
	if s.stopTick == nil || s.tickFor != order {
		s.cancelTick()
		ctx, cancel := context.WithCancel(context.Background())
		s.stopTick, s.tickFor = cancel, order
		s.tickStopped = s.qr.Start(ctx)
	}
}

func (s *Screen) cancelTick() {
	if s.stopTick != nil {
		s.stopTick()
		s.stopTick, s.tickFor = nil, ""
	}
}

func (s *Screen) buildResult() {
	ink := s.color(theme.ColorNameForeground)
	s.resultIcon = newResultIcon()
	title, titleBands := newTrilingual(1.1, 0.8, 1, true, ink)
	s.resultTitle = title
	// Below the title: the amount (paid) or what to do next (the rest).
	s.resultAmount = newText(true, ink)
	amount := column(0, spacer(0.15), band{obj: s.resultAmount, weight: 1}, spacer(0.15))
	detail, detailBands := newTrilingual(1, 0.9, 2, false, ink)
	s.resultDetail = detail
	s.resultDetailBox = column(0, detailBands...)

	bands := []band{spacer(0.25), {obj: s.resultIcon.box, weight: 2.1}, spacer(0.3)}
	bands = append(bands, titleBands...)
	bands = append(bands, spacer(0.25), band{obj: container.NewStack(amount, s.resultDetailBox), weight: 2.1}, spacer(0.2))
	s.result = s.withReceipt(column(0.05, bands...))
}

func (s *Screen) showResult(snap payment.Snapshot) {
	var (
		icon          [][2]fyne.Position
		col           color.Color
		title, detail payment.Names
		amount        string
	)
	switch snap.State {
	case payment.StatePaid:
		icon, col, title, amount = strokesCheck, s.color(theme.ColorNameSuccess), txtPaid, snap.Amount.Display()
	case payment.StateFailed:
		icon, col, title, detail = strokesCross, s.color(theme.ColorNameError), txtFailed, failureReason(snap.Code)
	case payment.StateExpired:
		icon, col, title, detail = strokesClock, s.color(theme.ColorNameWarning), txtExpired, txtAskCashier
	default:
		icon, col, title = strokesMinus, s.color(theme.ColorNamePlaceHolder), txtCancelled
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
	s.receipt.hide()
	s.resultIcon.set(icon, col)
	s.resultTitle.set(title)
	s.resultTitle.setColor(col)
	setText(s.resultAmount, amount)
	s.resultDetail.set(detail)
	s.resultDetailBox.Hidden = amount != ""
	s.showPage(s.result)
}

// startHold goes back to idle after the result hold, unless another Show
// comes first.
func (s *Screen) startHold() { s.holdFor(s.cfg.ResultHold) }

// holdFor goes back to idle after hold, unless another Show comes first.
func (s *Screen) holdFor(hold time.Duration) {
	ctx, cancel := context.WithCancel(context.Background())
	s.stopHold = cancel
	clk := s.clk
	go func() {
		select {
		case <-ctx.Done():
		case <-clk.after(hold):
			clk.do(func() {
				if ctx.Err() == nil {
					s.showPage(s.idle)
				}
			})
		}
	}()
}

func (s *Screen) cancelHold() {
	if s.stopHold != nil {
		s.stopHold()
		s.stopHold = nil
	}
}

// inline joins the languages of a short label on one line.
func inline(n payment.Names) string { return strings.Join(lines(n), "   ") }
