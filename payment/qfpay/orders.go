package qfpay

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"qrkiosk/payment"
)

// ValidateCreate checks a create request — a QR, or a scanned code —
// against QFPay's rules (payment.CreateValidator): the kiosk asks before it
// records the order.
func (c *Client) ValidateCreate(req payment.CreateRequest) error {
	if req.PayType.Mode == payment.CPM {
		return ValidateCPM(req)
	}
	return ValidateCreate(req)
}

// ValidateCreate checks a create request against the gateway's rules before
// anything is sent. The error names the field and the rule.
func ValidateCreate(req payment.CreateRequest) error {
	switch {
	case req.OutTradeNo == "":
		return &payment.FieldError{Field: "out_trade_no", Rule: "is required"}
	case len(req.OutTradeNo) > 128:
		return &payment.FieldError{Field: "out_trade_no", Value: req.OutTradeNo, Rule: "must be at most 128 bytes"}
	case req.Amount.Minor <= 0 || req.Amount.Minor > payment.MaxMinor:
		return &payment.FieldError{Field: "amount", Rule: "must be between 1 and 99999999999 minor units"}
	case req.Amount.Currency.Code == "":
		return &payment.FieldError{Field: "currency", Rule: "is required"}
	case req.PayType.Code == "":
		return &payment.FieldError{Field: "pay_type", Rule: "is required"}
	case req.PayType.Mode != payment.MPM:
		return &payment.FieldError{Field: "pay_type", Value: req.PayType.Code, Rule: "must be a merchant-presented (MPM) pay type"}
	}
	if err := payment.ValidateExpiry(req.Expiry); err != nil {
		return err
	}
	return ValidateGoodsName(req.GoodsName)
}

// ValidateGoodsName checks goods_name: at most 20 characters, letters,
// digits and spaces only (Chinese is fine).
func ValidateGoodsName(s string) error {
	if !utf8.ValidString(s) {
		return &payment.FieldError{Field: "goods_name", Rule: "must be UTF-8 text"}
	}
	if n := utf8.RuneCountInString(s); n > 20 {
		return &payment.FieldError{Field: "goods_name", Value: s, Rule: "must be at most 20 characters"}
	}
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != ' ' {
			return &payment.FieldError{Field: "goods_name", Value: s, Rule: "must contain only letters, digits and spaces"}
		}
	}
	return nil
}

func (c *Client) createParams(req payment.CreateRequest) url.Values {
	p := url.Values{}
	p.Set("txamt", req.Amount.TxAmt())
	p.Set("txcurrcd", req.Amount.Currency.Code)
	p.Set("pay_type", req.PayType.Code)
	p.Set("out_trade_no", req.OutTradeNo)
	p.Set("txdtm", c.FormatTime(req.TxTime))
	p.Set("txzone", c.txzone(req.TxTime))
	if req.Expiry > 0 && req.PayType.HonoursExpiry {
		p.Set("expired_time", strconv.Itoa(int(req.Expiry/time.Minute)))
	}
	p.Set("goods_name", req.GoodsName)
	p.Set("udid", c.udid)
	return p
}

// CreateMPM creates a merchant-presented QR order. When the outcome of the
// call is unknown (timeout, connection lost after sending, 5xx), it asks the
// gateway for the out_trade_no: an order found there is adopted; only when
// the gateway says there is none is the SAME request sent again. It never
// makes a second order for one sale. If the outcome still cannot be
// settled, the error wraps payment.ErrOutcomeUnknown: keep querying.
func (c *Client) CreateMPM(ctx context.Context, req payment.CreateRequest) (*payment.Created, error) {
	if err := ValidateCreate(req); err != nil {
		return nil, err
	}
	params := c.createParams(req)
	var lastErr error
	for round := 1; round <= c.maxAttempts; round++ {
		if round > 1 {
			if err := c.sleep(ctx, round-1, lastErr); err != nil {
				return nil, err
			}
		}
		var w wireTxn
		err := c.call(ctx, "create", PathPayment, params, false, &w)
		if err == nil {
			code := payment.Code(w.Respcd.String())
			if ClassOf(code) == ClassFailure && !Uncertain(code) && !duplicate(code) {
				c.log.Info("qfpay create refused", "out_trade_no", req.OutTradeNo, "respcd", code)
				return nil, gatewayError("create", w)
			}
			if ClassOf(code) != ClassFailure && w.qrcode() != "" {
				c.log.Info("qfpay order created", "out_trade_no", req.OutTradeNo, "syssn", w.SysSN.String(), "respcd", code)
				return &payment.Created{SysSN: w.SysSN.String(), OutTradeNo: req.OutTradeNo, QRCode: w.qrcode(), Code: code}, nil
			}
			// A "busy, do not repeat" code, "this out_trade_no is taken" (an
			// earlier try of ours got there) or an answer without a QR: the
			// gateway may hold the order. Settle it like a lost reply.
			err = &payment.TransportError{Op: "create", Err: fmt.Errorf("respcd %s without a usable order", code), MaybeActed: true}
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if !isUnknown(err) {
			return nil, err // refused outright, or never reached the gateway
		}
		lastErr = err
		c.log.Warn("qfpay create outcome unknown; asking the gateway", "out_trade_no", req.OutTradeNo, "round", round, "err", err)
		txn, qerr := c.find(ctx, payment.TxnPayment, "", req.OutTradeNo, req.TxTime)
		switch {
		case qerr == nil:
			c.log.Info("qfpay order adopted after unknown create", "out_trade_no", req.OutTradeNo, "syssn", txn.SysSN, "respcd", txn.Code)
			return &payment.Created{SysSN: txn.SysSN, OutTradeNo: req.OutTradeNo, QRCode: txn.QRCode, Code: txn.Code, Adopted: true, Existing: txn}, nil
		case errors.Is(qerr, payment.ErrNotFound):
			continue // the gateway has no such order: the same request again is safe
		case ctx.Err() != nil:
			return nil, ctx.Err()
		default:
			return nil, fmt.Errorf("create %s: %w (%v; query: %v)", req.OutTradeNo, payment.ErrOutcomeUnknown, err, qerr)
		}
	}
	return nil, fmt.Errorf("create %s: %w (gave up after %d attempts: %v)", req.OutTradeNo, payment.ErrOutcomeUnknown, c.maxAttempts, lastErr)
}

// QueryParams selects transactions; every field is optional.
type QueryParams struct {
	SysSNs      []string
	OutTradeNos []string
	PayTypes    []string
	Respcd      payment.Code
	// Start and End bound the transactions' sysdtm (the gateway's own
	// time) and must fall in one calendar month of the gateway's zone;
	// without them QFPay sees only the current month. A query by syssn
	// ignores them.
	Start, End time.Time
	Page       int // from 1
	PageSize   int // 1..100; 0 = gateway default (10)
}

// QueryPage is one page of a query answer.
type QueryPage struct {
	Page, PageSize int
	Transactions   []payment.Transaction
}

// gatewayZone is QFPay's clock: sysdtm, start_time and end_time are Hong
// Kong time whatever the merchant's zone.
var gatewayZone = payment.HongKong

// Query asks the gateway for transactions.
func (c *Client) Query(ctx context.Context, q QueryParams) (*QueryPage, error) {
	if q.PageSize < 0 || q.PageSize > 100 {
		return nil, &payment.FieldError{Field: "page_size", Value: strconv.Itoa(q.PageSize), Rule: "must be from 1 to 100"}
	}
	if !q.Start.IsZero() && !q.End.IsZero() {
		s, e := q.Start.In(gatewayZone), q.End.In(gatewayZone)
		if s.Year() != e.Year() || s.Month() != e.Month() {
			return nil, &payment.FieldError{Field: "start_time/end_time", Rule: "must fall within one calendar month"}
		}
	}
	p := url.Values{}
	p.Set("syssn", strings.Join(q.SysSNs, ","))
	p.Set("out_trade_no", strings.Join(q.OutTradeNos, ","))
	p.Set("pay_type", strings.Join(q.PayTypes, ","))
	p.Set("respcd", string(q.Respcd))
	if !q.Start.IsZero() {
		p.Set("start_time", q.Start.In(gatewayZone).Format(payment.LocalTimeLayout))
	}
	if !q.End.IsZero() {
		p.Set("end_time", q.End.In(gatewayZone).Format(payment.LocalTimeLayout))
	}
	if q.Page > 0 {
		p.Set("page", strconv.Itoa(q.Page))
	}
	if q.PageSize > 0 {
		p.Set("page_size", strconv.Itoa(q.PageSize))
	}
	var r queryReply
	if err := c.call(ctx, "query", PathQuery, p, true, &r); err != nil {
		return nil, err
	}
	if code := payment.Code(r.Respcd.String()); code != CodeSuccess {
		return nil, gatewayError("query", r.wireTxn)
	}
	page := &QueryPage{Page: r.Page.int(), PageSize: r.PageSize.int()}
	for _, w := range r.Data {
		t, err := w.transaction()
		if err != nil {
			return nil, &payment.TransportError{Op: "query", Err: err}
		}
		page.Transactions = append(page.Transactions, t)
	}
	return page, nil
}

// QueryAll pages through every matching transaction.
func (c *Client) QueryAll(ctx context.Context, q QueryParams) ([]payment.Transaction, error) {
	if q.PageSize == 0 {
		q.PageSize = 100
	}
	var all []payment.Transaction
	for q.Page = 1; ; q.Page++ {
		page, err := c.Query(ctx, q)
		if err != nil {
			return nil, err
		}
		all = append(all, page.Transactions...)
		if len(page.Transactions) < q.PageSize {
			return all, nil
		}
	}
}

// ListTransactions lists every transaction of the merchant between start
// and end (payment.DayLister), which must fall in one calendar month.
func (c *Client) ListTransactions(ctx context.Context, start, end time.Time) ([]payment.Transaction, error) {
	return c.QueryAll(ctx, QueryParams{Start: start, End: end})
}

// QueryOrder returns the gateway's record of the order, or
// payment.ErrNotFound: by its syssn when known (the gateway then looks in
// every month), else by out_trade_no in windows around the time it was
// rung up.
func (c *Client) QueryOrder(ctx context.Context, ref payment.OrderRef) (*payment.Transaction, error) {
	return c.find(ctx, payment.TxnPayment, ref.SysSN, ref.OutTradeNo, ref.TxTime)
}

// QueryRefund returns the gateway's record of a refund (payment.Refunder),
// found like an order: by the refund's own syssn, else by its out_trade_no
// around its time.
func (c *Client) QueryRefund(ctx context.Context, req payment.RefundRequest) (*payment.Transaction, error) {
	t, err := c.find(ctx, payment.TxnRefund, req.SysSN, req.OutTradeNo, req.TxTime)
	if err == nil && t.OrigSysSN == "" {
		t.OrigSysSN = req.Orig.SysSN
	}
	return t, err
}

// windowSpan is how far either side of the kiosk's time of an order its
// query windows reach: the gateway stamps sysdtm when the create arrives
// (seconds later, or minutes for a retried one) by its own clock, which
// the kiosk's may not match.
const windowSpan = 24 * time.Hour

// windows are the query windows that cover a transaction the kiosk rang up
// at `at`: [at-windowSpan, at+windowSpan] cut at calendar months of the
// gateway's zone (QFPay wants each window inside one month), the month of
// `at` first. Near a month's end that is two queries; else one.
func windows(at time.Time) [][2]time.Time {
	at = at.In(gatewayZone)
	from, to := at.Add(-windowSpan), at.Add(windowSpan)
	var out [][2]time.Time
	for m := monthStart(from); m.Before(to); m = m.AddDate(0, 1, 0) {
		end := m.AddDate(0, 1, 0).Add(-time.Second)
		w := [2]time.Time{maxTime(m, from), minTime(end, to)}
		if !at.Before(m) && !at.After(end) {
			out = append([][2]time.Time{w}, out...)
		} else {
			out = append(out, w)
		}
	}
	return out
}

func monthStart(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, t.Location())
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// find returns the transaction of the kind given with this syssn (when
// known) or out_trade_no, or payment.ErrNotFound. Without a syssn it asks
// in each window around `at` (see windows); with no time at all, in the
// gateway's default window (this month). Identifiers match exactly.
func (c *Client) find(ctx context.Context, kind, syssn, outTradeNo string, at time.Time) (*payment.Transaction, error) {
	var qs []QueryParams
	switch {
	case syssn != "":
		qs = []QueryParams{{SysSNs: []string{syssn}}}
	case at.IsZero():
		qs = []QueryParams{{OutTradeNos: []string{outTradeNo}}}
	default:
		for _, w := range windows(at) {
			qs = append(qs, QueryParams{OutTradeNos: []string{outTradeNo}, Start: w[0], End: w[1]})
		}
	}
	for _, q := range qs {
		page, err := c.Query(ctx, q)
		var ge *payment.Error
		switch {
		case errors.As(err, &ge) && notFound(ge.Code):
			continue // an answer some gateways give for "no such order"
		case err != nil:
			return nil, err
		}
		for _, t := range page.Transactions {
			if t.Kind == kind && t.OutTradeNo == outTradeNo && (syssn == "" || t.SysSN == syssn) {
				return &t, nil
			}
		}
	}
	id := outTradeNo
	if syssn != "" {
		id = "syssn " + syssn
	}
	return nil, fmt.Errorf("query %s: %w", id, payment.ErrNotFound)
}

// CancelParams identifies the order to reverse or close.
type CancelParams struct {
	SysSN      string
	OutTradeNo string
	TxAmt      int64
	TxTime     time.Time // the original txdtm
}

func (c *Client) cancelParams(p CancelParams) url.Values {
	v := url.Values{}
	v.Set("syssn", p.SysSN)
	v.Set("out_trade_no", p.OutTradeNo)
	if p.TxAmt > 0 {
		v.Set("txamt", strconv.FormatInt(p.TxAmt, 10))
	}
	if !p.TxTime.IsZero() {
		v.Set("txdtm", c.FormatTime(p.TxTime))
	}
	v.Set("udid", c.udid)
	return v
}

// Reversal withdraws an unfinished order (Alipay MPM and CPM, WeChat MPM).
// Reversing an Alipay order that was already paid refunds it (seed 001):
// only a final query tells which happened.
func (c *Client) Reversal(ctx context.Context, p CancelParams) error {
	return c.cancel(ctx, "reversal", PathReversal, p)
}

// Close closes an unfinished order (WeChat CPM).
func (c *Client) Close(ctx context.Context, p CancelParams) error {
	return c.cancel(ctx, "close", PathClose, p)
}

// errCancelRefused is a withdrawal the gateway refused for a reason other
// than the order being final already.
var errCancelRefused = errors.New("withdrawal refused")

func (c *Client) cancel(ctx context.Context, op, path string, p CancelParams) error {
	if p.SysSN == "" && p.OutTradeNo == "" {
		return &payment.FieldError{Field: "syssn/out_trade_no", Rule: "one of them is required"}
	}
	var w wireTxn
	// Withdrawing twice is harmless (the second answers "already closed"),
	// so an unknown result may be retried.
	if err := c.call(ctx, op, path, c.cancelParams(p), true, &w); err != nil {
		return err
	}
	switch code := payment.Code(w.Respcd.String()); {
	case code == CodeSuccess, code == CodeOrderClosed, code == CodeOrderCancelled,
		code == CodeOrderAlreadyClosed, code == CodeOrderExpired:
		c.log.Info("qfpay order withdrawn", "op", op, "out_trade_no", p.OutTradeNo, "respcd", code)
		return nil
	case ClassOf(code) == ClassPending:
		// "Reversal/cancel in progress": the final query decides.
		c.log.Info("qfpay withdrawal in progress", "op", op, "out_trade_no", p.OutTradeNo, "respcd", code)
		return nil
	default:
		return fmt.Errorf("%w: %w", errCancelRefused, gatewayError(op, w))
	}
}

// CancelOrder withdraws an unpaid order the way its pay type allows. QFPay's
// pages disagree on WeChat MPM (reversal in the current docs, close in the
// earlier ones): a reversal the gateway refuses is tried again as a close.
// Hong Kong pay types have no cancel (payment.ErrCancelUnsupported).
func (c *Client) CancelOrder(ctx context.Context, ref payment.OrderRef) error {
	p := CancelParams{SysSN: ref.SysSN, OutTradeNo: ref.OutTradeNo, TxAmt: ref.Amount.Minor, TxTime: ref.TxTime}
	switch ref.PayType.Cancel {
	case payment.CancelReversal:
		err := c.Reversal(ctx, p)
		if errors.Is(err, errCancelRefused) && ref.PayType.Code == "800201" {
			c.log.Info("qfpay reversal refused; closing instead", "out_trade_no", ref.OutTradeNo, "err", err)
			return c.Close(ctx, p)
		}
		return err
	case payment.CancelClose:
		err := c.Close(ctx, p)
		if errors.Is(err, errCancelRefused) && ref.PayType.Code == payment.AllInOneCPM {
			// The all-in-one code was Alipay's: Alipay is reversed.
			c.log.Info("qfpay close refused for an all-in-one code; reversing instead", "out_trade_no", ref.OutTradeNo, "err", err)
			return c.Reversal(ctx, p)
		}
		return err
	default:
		return payment.ErrCancelUnsupported
	}
}

// Refund gives money back (payment.Refunder). A refund answered
// 1143/1145 ("processing") is returned as a transaction with that code:
// it is pending, settled by QueryRefund, never sent again. An unknown
// outcome is settled by querying the refund's own out_trade_no, like a
// create.
func (c *Client) Refund(ctx context.Context, req payment.RefundRequest) (*payment.Transaction, error) {
	switch {
	case req.Orig.SysSN == "":
		return nil, &payment.FieldError{Field: "syssn", Rule: "is required (the payment to refund)"}
	case req.OutTradeNo == "":
		return nil, &payment.FieldError{Field: "out_trade_no", Rule: "is required (a new number for the refund)"}
	case req.Amount.Minor <= 0:
		return nil, &payment.FieldError{Field: "txamt", Rule: "must be greater than zero"}
	}
	v := url.Values{}
	v.Set("syssn", req.Orig.SysSN)
	v.Set("out_trade_no", req.OutTradeNo)
	v.Set("txamt", strconv.FormatInt(req.Amount.Minor, 10))
	v.Set("txdtm", c.FormatTime(req.TxTime))
	v.Set("udid", c.udid)
	var lastErr error
	for round := 1; round <= c.maxAttempts; round++ {
		var w wireTxn
		err := c.call(ctx, "refund", PathRefund, v, false, &w)
		if err == nil {
			code := payment.Code(w.Respcd.String())
			switch {
			case code == CodeSuccess || ClassOf(code) == ClassPending:
				t, terr := w.transaction()
				if terr != nil {
					return nil, &payment.TransportError{Op: "refund", Err: terr, MaybeActed: true}
				}
				t.Kind, t.OutTradeNo, t.Code = payment.TxnRefund, req.OutTradeNo, code
				read(&t) // 1143/1145: pending, settled by QueryRefund
				if t.OrigSysSN == "" {
					t.OrigSysSN = req.Orig.SysSN
				}
				return &t, nil
			case duplicate(code):
				// Our own earlier attempt got there: ask what became of it.
				err = &payment.TransportError{Op: "refund", Err: gatewayError("refund", w), MaybeActed: true}
			default:
				return nil, gatewayError("refund", w)
			}
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if !isUnknown(err) {
			return nil, err
		}
		lastErr = err
		t, qerr := c.QueryRefund(ctx, req)
		switch {
		case qerr == nil:
			return t, nil
		case !errors.Is(qerr, payment.ErrNotFound):
			return nil, fmt.Errorf("refund %s: %w (%v; query: %v)", req.OutTradeNo, payment.ErrOutcomeUnknown, err, qerr)
		}
		if err := c.sleep(ctx, round, lastErr); err != nil {
			return nil, err
		}
	}
	return nil, fmt.Errorf("refund %s: %w (gave up after %d attempts: %v)", req.OutTradeNo, payment.ErrOutcomeUnknown, c.maxAttempts, lastErr)
}

var _ payment.Gateway = (*Client)(nil)
