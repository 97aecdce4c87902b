package display

import (
	"context"
	"image"
	"image/color"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"

	"qrkiosk/display/view"
	"qrkiosk/payment"
)

// DefaultResultHold is how long a result stays on the customer screen.
const DefaultResultHold = view.DefaultResultHold

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
	// Languages orders every text (zero: as each order's wallet wants).
	Languages view.Languages
}

func (cfg ScreenConfig) view() view.Config {
	return view.Config{MerchantName: cfg.MerchantName, Wallets: cfg.Wallets, Demo: cfg.Demo, ResultHold: cfg.ResultHold, Languages: cfg.Languages}
}

// Screen is the customer-facing screen: idle (merchant name and the
// accepted wallets), then for each order its amount, wallet, QR and
// countdown, then the result, and back to idle by itself. Every text is in
// English, Traditional and Simplified Chinese, in the order the wallet's
// customers read them. It draws what its view.Model derives from what Show
// gives it and never decides an order's state.
//
// A Screen is used from the Fyne goroutine only. Several can live side by
// side (the cashier pane embeds a small one as its mirror).
type Screen struct {
	cfg   ScreenConfig
	model *view.Model
	clk   clock
	th    *customerTheme
	root  fyne.CanvasObject
	// canvas is the window showing the screen (SetCanvas); nil: found
	// through the driver.
	canvas fyne.Canvas

	banner *fyne.Container
	pages  *fyne.Container // one of the pages below is visible

	idle *fyne.Container

	// creating also asks for the customer's payment code (AskForCode) and
	// follows a scanned code's payment, which has no QR.
	creating       *fyne.Container
	creatingLabel  *canvas.Text
	creatingAmount *canvas.Text
	creatingWallet trilingual
	creatingNote   trilingual

	awaiting      *fyne.Container
	awaitHeading  trilingual
	awaitLabel    *canvas.Text
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
	// receipt is the e-receipt's QR over a Paid page (receipt.go).
	receipt *receiptCard
}

// NewScreen builds the customer screen, showing idle.
func NewScreen(cfg ScreenConfig) *Screen {
	return newScreen(cfg, realClock(cfg.Now))
}

func newScreen(cfg ScreenConfig, clk clock) *Screen {
	s := &Screen{cfg: cfg, model: view.NewModel(cfg.view()), clk: clk, th: newCustomerTheme()}
	s.buildIdle()
	s.buildCreating()
	s.buildAwaiting()
	s.buildResult()
	s.pages = container.NewStack(s.idle, s.creating, s.awaiting, s.result)

	bannerText := newText(true, color.White)
	setText(bannerText, s.model.Current().Banner)
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
	s.render(s.model.Current())
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
	if v, changed := s.model.Show(snap); changed {
		s.render(v)
	}
}

// AskForCode asks the customer to show the wallet's payment code to the
// cashier's scanner, for amount. The next Show (the scanned code's order)
// or Idle replaces it.
func (s *Screen) AskForCode(amount payment.Amount) { s.render(s.model.AskForCode(amount)) }

// Idle shows the welcome screen at once (the cashier stopped waiting for
// a scan, say).
func (s *Screen) Idle() { s.render(s.model.Idle()) }

// render draws v: its page, the countdown while it offers a QR, the hold
// of a result.
func (s *Screen) render(v view.View) {
	s.cancelHold()
	if !v.QRShown() {
		s.cancelTick()
	}
	switch v.Page {
	case view.PageCreating:
		s.showCreating(v)
	case view.PageAwaiting:
		s.showAwaiting(v)
	case view.PageResult:
		s.showResult(v)
		s.startHold(v.Seq, v.Hold)
	default:
		s.showPage(s.idle)
	}
}

// showCreating shows the amount with a title under it (what to do, in
// the primary colour when the customer has something to do) and a note.
func (s *Screen) showCreating(v view.View) {
	setText(s.creatingLabel, v.AmountLabel)
	setText(s.creatingAmount, v.Amount)
	s.creatingWallet.set(v.Title.Lines)
	s.creatingWallet.setColor(s.tone(v.Title.Tone))
	s.creatingNote.set(v.Note.Lines)
	s.showPage(s.creating)
}

func (s *Screen) color(n fyne.ThemeColorName) color.Color {
	return s.th.Color(n, theme.VariantLight)
}

// tone is the customer theme's colour for a view's tone.
func (s *Screen) tone(t view.Tone) color.Color {
	switch t {
	case view.Muted:
		return s.color(theme.ColorNamePlaceHolder)
	case view.Primary:
		return s.color(theme.ColorNamePrimary)
	case view.Success:
		return s.color(theme.ColorNameSuccess)
	case view.Error:
		return s.color(theme.ColorNameError)
	case view.Warning:
		return s.color(theme.ColorNameWarning)
	}
	return s.color(theme.ColorNameForeground)
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
	// The welcome is the same every time: drawn once, from the model's
	// first view.
	idle := s.model.Current()
	merchant := newText(true, ink)
	setText(merchant, idle.Merchant)
	merchant.Hidden = idle.Merchant == ""
	logo := canvas.NewImageFromImage(s.cfg.Logo)
	logo.FillMode = canvas.ImageFillContain
	logo.ScaleMode = canvas.ImageScaleSmooth
	logo.Hidden = s.cfg.Logo == nil
	welcome := newText(false, s.color(theme.ColorNamePrimary))
	setText(welcome, idle.Welcome)
	accept := newText(false, muted)
	setText(accept, idle.Accept)

	tiles := &walletTiles{aspect: 2.3, gap: 0.18}
	for _, w := range idle.Wallets {
		names, _ := newTrilingual(1, 1, 0, true, s.tone(w.Tone))
		names.set(w.Lines)
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
	s.creatingLabel = newText(false, muted)
	s.creatingAmount = newText(true, ink)
	wallet, walletBands := newTrilingual(0.75, 0.6, 1, true, ink)
	s.creatingWallet = wallet
	preparing, preparingBands := newTrilingual(0.6, 0.5, 2, false, muted)
	s.creatingNote = preparing
	bands := []band{spacer(0.6), {obj: s.creatingLabel, weight: 0.5}, {obj: s.creatingAmount, weight: 2}}
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
	s.awaitLabel = newText(false, muted)
	s.awaitAmount = newText(true, ink)
	// English may come second: 0.7 keeps it readable on an upright screen.
	wallet, walletBands := newTrilingual(0.85, 0.7, 2, true, ink)
	s.awaitWallet = wallet

	bands := []band{spacer(0.3)}
	bands = append(bands, headingBands...)
	bands = append(bands, spacer(0.4), band{obj: s.awaitLabel, weight: 0.6}, band{obj: s.awaitAmount, weight: 1.8}, spacer(0.3))
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

func (s *Screen) showAwaiting(v view.View) {
	setText(s.awaitLabel, v.AmountLabel)
	setText(s.awaitAmount, v.Amount)
	s.awaitWallet.set(v.Wallet.Lines)
	s.awaitHeading.set(v.Title.Lines)
	s.qr.setOrder(v)
	if !v.QRShown() {
		// Withdrawn, or it cannot be drawn: a placeholder where it was.
		s.qr.Hide()
		s.qrPlaceholder.Show()
		s.showPage(s.awaiting)
		return
	}
	s.qrPlaceholder.Hide()
	s.qr.Show()
	s.showPage(s.awaiting)
	order := v.OutTradeNo + "/" + v.QR + "/" + v.Deadline.String()
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

// showResult shows the result's sign and title in its colour, with the
// amount paid or what to do next under them.
func (s *Screen) showResult(v view.View) {
	col := s.tone(v.Title.Tone)
	s.resultIcon.set(signStrokes[v.Sign], col)
	s.resultTitle.set(v.Title.Lines)
	s.receipt.set(v.Receipt, v.ReceiptModules)
	s.resultTitle.setColor(col)
	setText(s.resultAmount, v.Amount)
	s.resultDetail.set(v.Note.Lines)
	s.resultDetailBox.Hidden = v.Amount != ""
	s.showPage(s.result)
}

// startHold goes back to idle after the hold of view seq, unless another
// view comes first.
func (s *Screen) startHold(seq uint64, hold time.Duration) {
	ctx, cancel := context.WithCancel(context.Background())
	s.stopHold = cancel
	clk := s.clk
	go func() {
		select {
		case <-ctx.Done():
		case <-clk.after(hold):
			clk.do(func() {
				if ctx.Err() != nil {
					return
				}
				if v, ok := s.model.EndHold(seq); ok {
					s.render(v)
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
