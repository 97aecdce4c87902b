package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/skip2/go-qrcode"

	"qrkiosk/internal/journal"
	"qrkiosk/internal/kiosk"
	"qrkiosk/payment"
)

// ChargeOptions is a parsed `qrkiosk charge` command line.
type ChargeOptions struct {
	Amount payment.Amount
	// PayType is the wallet asked for; zero = the first the configuration
	// enables. The kiosk's gateway has the last word (RunCharge).
	PayType   payment.PayType
	payFlag   string // the flag that chose it, for errors
	Expiry    time.Duration
	GoodsName string
	JSON      bool
	// AuthCode is the customer's payment code (CPM): the cashier scanned it.
	AuthCode string
}

// ParseCharge reads the command line; every error names the flag and rule.
func ParseCharge(args []string, stderr io.Writer) (ChargeOptions, error) {
	fs := flag.NewFlagSet("charge", flag.ContinueOnError)
	fs.SetOutput(stderr)
	amount := fs.String("amount", "", "amount to charge, e.g. 12.34 (required)")
	currency := fs.String("currency", "HKD", "ISO 4217 currency: "+strings.Join(payment.CurrencyCodes(), " "))
	payType := fs.String("pay-type", "", "pay_type code of the catalog, e.g. 801501 (QR) or 800108 (scanned code)")
	wallet := fs.String("wallet", "", "wallet: "+strings.Join(payment.MPMWallets(), "|")+", those the gateway takes (default: the first the configuration enables); with --auth-code: "+strings.Join(payment.CPMWallets(), "|")+" (default allinone)")
	authCode := fs.String("auth-code", "", "the customer's payment code, scanned from the wallet app (16-24 digits): charge it instead of showing a QR")
	expires := fs.Int("expires", 5, "minutes the QR is offered (5..120); a gateway without expiry is held to it by the kiosk's own countdown")
	goods := fs.String("goods-name", "", "goods name shown in the wallet (QFPay: ≤20 letters, digits, spaces; ScanForPay: ≤100 characters)")
	asJSON := fs.Bool("json", false, "print one JSON object per line instead of drawing the QR")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: qrkiosk charge --amount 12.34 [--currency HKD] [--pay-type CODE | --wallet NAME] [--expires MIN] [--goods-name S] [--json]")
		fmt.Fprintln(stderr, "       qrkiosk charge --amount 12.34 --auth-code CODE [--wallet NAME] [--json]   (the customer's code, scanned)")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ChargeOptions{}, usageError{"help requested"}
		}
		return ChargeOptions{}, usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return ChargeOptions{}, usagef("unexpected argument %q", fs.Arg(0))
	}
	cur, err := payment.LookupCurrency(*currency)
	if err != nil {
		return ChargeOptions{}, flagError("--currency", err)
	}
	amt, err := payment.ParseAmount(*amount, cur)
	if err != nil {
		return ChargeOptions{}, flagError("--amount", err)
	}
	if *payType != "" && *wallet != "" {
		return ChargeOptions{}, usagef("--pay-type and --wallet: give one, not both")
	}
	if *authCode != "" {
		return parseCPM(amt, *payType, *wallet, *authCode, *goods, *asJSON, fs)
	}
	var pt payment.PayType
	flagName := "--wallet"
	if *payType != "" {
		flagName = "--pay-type"
	}
	if sel := *payType + *wallet; sel != "" {
		if pt, err = payment.LookupPayType(sel); err != nil {
			return ChargeOptions{}, flagError(flagName, err)
		}
		if pt.Mode != payment.MPM {
			return ChargeOptions{}, usagef("--pay-type %s: must be a pay type the customer scans (MPM): %s", pt.Code, strings.Join(payment.MPMWallets(), ", "))
		}
	}
	exp := time.Duration(*expires) * time.Minute
	if err := payment.ValidateExpiry(exp); err != nil {
		return ChargeOptions{}, usagef("--expires %d: must be a whole number of minutes from 5 to 120", *expires)
	}
	return ChargeOptions{Amount: amt, PayType: pt, payFlag: flagName, Expiry: exp, GoodsName: *goods, JSON: *asJSON}, nil
}

// parseCPM reads a charge of a scanned customer code.
func parseCPM(amt payment.Amount, payType, wallet, code, goods string, asJSON bool, fs *flag.FlagSet) (ChargeOptions, error) {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == "expires" })
	if given {
		return ChargeOptions{}, usagef("--expires: a scanned code has no QR to expire (the customer has 2 minutes to confirm on the phone)")
	}
	if err := payment.ValidateAuthCode(code); err != nil {
		return ChargeOptions{}, flagError("--auth-code", err)
	}
	name := "--wallet"
	if payType != "" {
		name = "--pay-type"
	}
	pt, err := payment.LookupCPMPayType(payType + wallet)
	if err != nil {
		return ChargeOptions{}, flagError(name, err)
	}
	return ChargeOptions{Amount: amt, PayType: pt, payFlag: name, GoodsName: goods, JSON: asJSON, AuthCode: code}, nil
}

// ChargeCmd runs `qrkiosk charge` and returns the process exit code.
func ChargeCmd(ctx context.Context, env Env, args []string, dataDir string) int {
	opts, err := ParseCharge(args, env.Stderr)
	if err != nil {
		fmt.Fprintln(env.Stderr, "qrkiosk charge:", err)
		return ExitUsage
	}
	return withKiosk(ctx, env, "charge", dataDir, true, func(ctx context.Context, k *kiosk.Kiosk) int {
		return RunCharge(ctx, env, opts, k)
	})
}

// chargePayType is the wallet to charge as the kiosk's gateway takes it
// (with its own cancel and expiry rules): the one asked for, or the first
// the configuration enables.
func chargePayType(opts ChargeOptions, k *kiosk.Kiosk) (payment.PayType, error) {
	if opts.PayType.Code == "" {
		if len(k.Config.PayTypes) == 0 {
			return payment.PayType{}, usagef("--wallet: the configuration enables no wallet")
		}
		return k.Config.PayTypes[0], nil
	}
	cat := payment.PayTypesOf(k.Gateway)
	pt, err := cat.Lookup(opts.PayType.Code)
	if err != nil {
		name := opts.payFlag
		if name == "" {
			name = "--wallet"
		}
		takes := cat.MPMWallets()
		if opts.AuthCode != "" {
			takes = cat.CPMWallets()
		}
		return payment.PayType{}, usagef("%s %s: %s does not take it; use %s", name, strings.TrimSuffix(opts.PayType.Wallet, "-cpm"), k.Config.Gateway, strings.Join(takes, ", "))
	}
	return pt, nil
}

// RunCharge charges a parsed command line. The order is in the journal
// before the create call, and every transition and gateway answer after.
func RunCharge(ctx context.Context, env Env, opts ChargeOptions, k *kiosk.Kiosk) int {
	log := env.Logger()
	out := &printer{w: env.Stdout, json: opts.JSON}
	pt, err := chargePayType(opts, k)
	if err != nil {
		fmt.Fprintln(env.Stderr, "qrkiosk charge:", err)
		return ExitUsage
	}
	now := time.Now()
	req := payment.CreateRequest{
		OutTradeNo: payment.NewOutTradeNo("QK", now),
		Amount:     opts.Amount,
		PayType:    pt,
		Expiry:     opts.Expiry,
		GoodsName:  opts.GoodsName,
		TxTime:     now,
		AuthCode:   opts.AuthCode,
	}
	order, err := k.Start(req, out.event)
	var fe *payment.FieldError
	switch {
	case errors.As(err, &fe):
		// The gateway's rules refused it before anything was recorded.
		fmt.Fprintln(env.Stderr, "qrkiosk charge:", flagError("--"+strings.ReplaceAll(fe.Field, "_", "-"), err))
		return ExitUsage
	case errors.Is(err, journal.ErrCannotRecord):
		fmt.Fprintln(env.Stderr, "qrkiosk charge: nothing was charged:", err)
		return ExitIOErr
	case err != nil:
		// Not on disk: nothing may be sent.
		fmt.Fprintln(env.Stderr, "qrkiosk charge:", err)
		return ExitFailed
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-order.Done():
			out.finish()
			if err := k.Journal.Broken(); err != nil {
				// The gateway settled the sale; the journal could not
				// write it down. It is kept and written when it can.
				fmt.Fprintf(env.Stderr, "qrkiosk charge: the sale ended %s at the gateway, but %v; it is written when the journal can (this run's end, or the next start). No new charge until then.\n", order.Snapshot().State, err)
				return ExitIOErr
			}
			return exitCode(order.Snapshot().State)
		case sig := <-env.Signals:
			log.Warn("signal: cancelling the order at the gateway", "signal", sig.String(), "out_trade_no", req.OutTradeNo)
			order.Cancel()
		case <-ctx.Done():
			return ExitFailed
		case <-tick.C:
			out.countdown(order.Snapshot())
		}
	}
}

func exitCode(s payment.State) int {
	switch s {
	case payment.StatePaid:
		return ExitPaid
	case payment.StateExpired:
		return ExitExpired
	case payment.StateCancelled:
		return ExitCancelled
	default:
		return ExitFailed
	}
}

// printer writes the events of one order, as JSON lines or for a person.
type printer struct {
	mu       sync.Mutex
	w        io.Writer
	json     bool
	drawn    bool
	statusOn bool
	started  bool // "created" (or a final state) printed: the first line is always one of them
}

// jsonEvent is one line of --json output.
type jsonEvent struct {
	Event      string `json:"event"`
	OutTradeNo string `json:"out_trade_no"`
	SysSN      string `json:"syssn,omitempty"`
	QRCode     string `json:"qrcode,omitempty"`
	Amount     string `json:"amount"`
	TxAmt      int64  `json:"txamt"`
	Currency   string `json:"currency"`
	PayType    string `json:"pay_type"`
	ExpiresAt  string `json:"expires_at,omitempty"`
	State      string `json:"state"`
	Respcd     string `json:"respcd,omitempty"`
	Reason     string `json:"reason,omitempty"`
	Late       bool   `json:"late,omitempty"`
	Replaces   string `json:"replaces,omitempty"` // reissued: the order whose QR was lost
	// Withdrawn and PayableUntil say, for an order that ended unpaid,
	// whether its QR was withdrawn or stays payable at the gateway until
	// then (a payment after it is reported as paid_late).
	Withdrawn    bool   `json:"withdrawn,omitempty"`
	PayableUntil string `json:"payable_until,omitempty"`
	Push         bool   `json:"push"` // the relay link is up
	At           string `json:"at"`
}

func (p *printer) event(e payment.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.started && e.Kind != payment.EventCreated && !e.State.Final() {
		return // link and progress news before the order exists; the created line carries the link state
	}
	p.started = true
	if p.json {
		line := jsonEvent{
			Event: string(e.Kind), OutTradeNo: e.OutTradeNo, SysSN: e.SysSN, Amount: e.Amount.String(), TxAmt: e.Amount.Minor,
			Currency: e.Amount.Currency.Code, PayType: e.PayType.Code, State: e.State.String(),
			Respcd: string(e.Code), Reason: e.Reason, Late: e.Late, Push: e.PushUp, At: e.At.UTC().Format(time.RFC3339Nano),
			Replaces: e.Replaces, Withdrawn: e.Withdrawn,
		}
		if !e.PayableUntil.IsZero() {
			line.PayableUntil = e.PayableUntil.UTC().Format(time.RFC3339)
		}
		if e.Kind == payment.EventCreated {
			line.QRCode = e.QRCode
			line.ExpiresAt = e.Deadline.UTC().Format(time.RFC3339)
		}
		if e.State == payment.StatePaid {
			line.Respcd = ""
		}
		b, _ := json.Marshal(line)
		fmt.Fprintf(p.w, "%s\n", b)
		return
	}
	p.clearStatus()
	switch e.Kind {
	case payment.EventCreated:
		if e.PayType.Mode == payment.CPM {
			fmt.Fprintf(p.w, "%s  %s  (order %s): scanned code sent to the gateway\n", e.Amount.Display(), e.PayType.Name.En, e.OutTradeNo)
			break
		}
		fmt.Fprintf(p.w, "%s  %s  (order %s)\n", e.Amount.Display(), e.PayType.Name.En, e.OutTradeNo)
		if err := drawQR(p.w, e.QRCode); err != nil {
			fmt.Fprintf(p.w, "QR: %s\n", e.QRCode)
		}
		fmt.Fprintf(p.w, "Scan with %s. QR: %s\n", e.PayType.Name.En, e.QRCode)
		p.drawn = true
	case payment.EventPaid:
		fmt.Fprintf(p.w, "PAID  %s  syssn %s\n", e.Amount.Display(), e.SysSN)
	case payment.EventPaidLate:
		fmt.Fprintf(p.w, "PAID LATE  %s  syssn %s — the customer paid after the QR was withdrawn\n", e.Amount.Display(), e.SysSN)
	case payment.EventFailed:
		fmt.Fprintf(p.w, "FAILED  %s%s\n", e.Reason, codeSuffix(e.Code))
	case payment.EventConfirming:
		fmt.Fprintln(p.w, "The customer is confirming the payment on the phone… (up to 2 minutes)")
	case payment.EventConfirmingPaid:
		fmt.Fprintln(p.w, "Payment reported; confirming it with the gateway… (not paid yet)")
	case payment.EventPushDisputed:
		fmt.Fprintln(p.w, "The gateway does not confirm the reported payment; still waiting for it…")
	case payment.EventReissued:
		fmt.Fprintf(p.w, "The QR code was lost in a network error (order %s); a new QR replaces it (order %s)…\n", e.Replaces, e.OutTradeNo)
	case payment.EventExpired:
		fmt.Fprintln(p.w, "EXPIRED  the QR code ran out; nothing was charged. "+afterEnd(e.Snapshot))
	case payment.EventCancelled:
		fmt.Fprintln(p.w, "CANCELLED  nothing was charged. "+afterEnd(e.Snapshot))
	case payment.EventCancelling:
		fmt.Fprintln(p.w, "Withdrawing the order at the gateway…")
	case payment.EventGatewayUnreachable:
		fmt.Fprintln(p.w, "The gateway is not answering; still checking…")
	}
}

// afterEnd says what became of the QR of an order that ended unpaid: the
// truth differs by wallet.
func afterEnd(s payment.Snapshot) string {
	switch {
	case s.Withdrawn:
		return "The QR was withdrawn at the gateway."
	case !s.PayableUntil.IsZero():
		return "This wallet has no cancel: the QR stays payable until " + s.PayableUntil.In(payment.HongKong).Format("15:04") + "; a payment after now is reported as paid late."
	}
	return "The QR may stay payable at the gateway; a payment after now is reported as paid late."
}

func codeSuffix(c payment.Code) string {
	if c == "" {
		return ""
	}
	return " (respcd " + string(c) + ")"
}

func (p *printer) clearStatus() {
	if p.statusOn {
		fmt.Fprint(p.w, "\r\033[K")
		p.statusOn = false
	}
}

// countdown redraws the one status line under the QR, once a second.
func (p *printer) countdown(s payment.Snapshot) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.json || !p.drawn || s.State != payment.StateAwaitingPayment {
		return
	}
	left := time.Until(s.Deadline).Round(time.Second)
	if left < 0 {
		left = 0
	}
	fmt.Fprintf(p.w, "\r\033[KExpires in %02d:%02d", int(left.Minutes()), int(left.Seconds())%60)
	p.statusOn = true
}

func (p *printer) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clearStatus()
}

// drawQR draws the QR with half-block characters, two modules per line,
// with go-qrcode's four-module quiet zone. Light modules are drawn as full
// blocks and dark ones as blanks, which is right on the usual light-on-dark
// terminal.
func drawQR(w io.Writer, content string) error {
	q, err := qrcode.New(content, qrcode.Medium)
	if err != nil {
		return err
	}
	bm := q.Bitmap()
	var b strings.Builder
	for y := 0; y < len(bm); y += 2 {
		for x := range bm[y] {
			top := bm[y][x]
			bottom := y+1 < len(bm) && bm[y+1][x]
			switch {
			case top && bottom:
				b.WriteString(" ")
			case top:
				b.WriteString("▄")
			case bottom:
				b.WriteString("▀")
			default:
				b.WriteString("█")
			}
		}
		b.WriteString("\n")
	}
	_, err = io.WriteString(w, b.String())
	return err
}
