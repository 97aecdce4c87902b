package view

import (
	"fmt"

	qrcode "github.com/skip2/go-qrcode"
)

// QuietZone is the white margin around the symbol, in modules, that
// ISO/IEC 18004 asks for. Wallet scanners are tolerant, but the counter's
// glare and a phone held at an angle are not: every screen keeps the whole
// zone.
const QuietZone = 4

// QRModules encodes text as a QR code (error correction M): its modules,
// row by row, dark ones true, without the quiet zone, which each screen
// draws at its own pixel size.
func QRModules(text string) ([][]bool, error) {
	q, err := qrcode.New(text, qrcode.Medium)
	if err != nil {
		return nil, fmt.Errorf("encode QR: %w", err)
	}
	q.DisableBorder = true
	return q.Bitmap(), nil
}
