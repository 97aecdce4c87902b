package relayclient

import (
	"context"
	"errors"
	"strconv"

	"qrkiosk/relay/wire"
)

// ErrNotConnected: the link to the relay is down; nothing was sent.
var ErrNotConnected = errors.New("relay not connected")

// RefusedError is the relay's refusal of a receipt (a limit, storage
// unavailable, e-receipts off), in its words.
type RefusedError struct{ Msg string }

func (e *RefusedError) Error() string { return "relay refused the receipt: " + e.Msg }

// receiptAnswer is the relay's answer to one receipt frame.
type receiptAnswer struct {
	url string
	err error
}

// PutReceipt sends an e-receipt to the relay, which keeps it for the
// customer, and returns the link to it. The receipt is checked first; a
// link that is down, a refusal, or ctx ending are errors, and then there
// is no link (the sale is not affected: it is only the receipt).
func (c *Client) PutReceipt(ctx context.Context, r wire.Receipt) (string, error) {
	if err := r.Check(); err != nil {
		return "", err
	}
	c.mu.Lock()
	ws := c.ws
	if ws == nil {
		c.mu.Unlock()
		return "", ErrNotConnected
	}
	c.receiptSeq++
	ref := strconv.FormatUint(c.receiptSeq, 10)
	answer := make(chan receiptAnswer, 1)
	if c.receipts == nil {
		c.receipts = make(map[string]chan receiptAnswer)
	}
	c.receipts[ref] = answer
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.receipts, ref)
		c.mu.Unlock()
	}()
	if err := c.write(ws, wire.KioskFrame{Type: wire.TypeReceipt, Ref: ref, Receipt: &r}); err != nil {
		return "", ErrNotConnected
	}
	select {
	case a := <-answer:
		return a.url, a.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// answerReceipt hands the relay's answer to the receipt frame ref to its
// sender; an answer nobody waits for (too late) is dropped. Called with
// c.mu held.
func (c *Client) answerReceipt(ref string, a receiptAnswer) {
	if ch, ok := c.receipts[ref]; ok {
		select {
		case ch <- a:
		default:
		}
	}
}

// dropReceipts fails the receipts waiting on a link that went down.
// Called with c.mu held.
func (c *Client) dropReceipts() {
	for _, ch := range c.receipts {
		select {
		case ch <- receiptAnswer{err: ErrNotConnected}:
		default:
		}
	}
}
