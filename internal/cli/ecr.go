package cli

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"math"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"qrkiosk/internal/ecr/posclient"
	"qrkiosk/internal/kiosk"
	"qrkiosk/internal/lan"
)

// ECRUsage is the help of `qrkiosk ecr`.
const ECRUsage = `usage: qrkiosk [--data DIR] ecr cert
           the CA a POS imports to reach this kiosk over HTTPS: its file and SHA-256 fingerprint
       qrkiosk ecr send --to https://HOST:9001 --pos-key KEY --amount 12.34 [--channel alipay]
                        [--out-trade-no X] [--scan] [--timeout SECONDS] [--ca FILE]
           act as the shop's POS (Odoo's pos_qfpay): send a payment to a kiosk and print its
           answer once the sale is over (exit 0 paid, 3 cancelled at the kiosk, 1 refused)`

// ECRCmd runs `qrkiosk ecr SUBCOMMAND`.
func ECRCmd(ctx context.Context, env Env, args []string, dataDir string) int {
	if len(args) > 0 {
		switch args[0] {
		case "cert":
			return ecrCert(env, args[1:], dataDir)
		case "send":
			return ecrSend(ctx, env, args[1:], dataDir)
		}
	}
	fmt.Fprintln(env.Stderr, ECRUsage)
	return ExitUsage
}

// ecrCert prints the kiosk's CA (made on first use, as the kiosk makes it)
// for the owner to import on the POS machine and compare there.
func ecrCert(env Env, args []string, dataDir string) int {
	if len(args) > 0 {
		fmt.Fprintln(env.Stderr, ECRUsage)
		return ExitUsage
	}
	s, err := kiosk.LoadSettings(kiosk.Options{DataDir: dataDir, Getenv: env.Getenv})
	if err != nil {
		return openFailed(env, "qrkiosk ecr cert", err)
	}
	hosts, err := lan.MachineHosts()
	if err != nil {
		fmt.Fprintln(env.Stderr, "qrkiosk ecr cert: cannot list this machine's addresses:", err)
	}
	certs, err := lan.EnsureCerts(s.LANDir(), time.Now(), hosts)
	if err != nil {
		fmt.Fprintln(env.Stderr, "qrkiosk ecr cert:", err)
		return ExitIOErr
	}
	fmt.Fprintf(env.Stdout, "CA certificate: %s\nSHA-256 fingerprint: %s\nthe kiosk answers the POS at: %s/api/pos/\n",
		certs.CAPath, certs.Fingerprint(), kiosk.LANURL(s.Config.ECR.ListenAddr()))
	fmt.Fprintln(env.Stdout, "Import the CA on the POS machine and check that it shows this fingerprint (README: Use with your POS).")
	return 0
}

// ecrFlags are `qrkiosk ecr send`'s flags.
type ecrFlags struct {
	to, posKey, amount, channel, outTradeNo, ca string
	scan                                        bool
	timeout                                     int
}

func parseECRSend(args []string, env Env) (ecrFlags, error) {
	var f ecrFlags
	fs := flag.NewFlagSet("qrkiosk ecr send", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.StringVar(&f.to, "to", "", "the kiosk: https://HOST:9001 (or HOST, port 9001)")
	fs.StringVar(&f.posKey, "pos-key", "", "the kiosk's POS-KEY ([ecr] pos_key; QRKIOSK_ECR_POS_KEY)")
	fs.StringVar(&f.amount, "amount", "", "the amount in dollars, e.g. 12.34")
	fs.StringVar(&f.channel, "channel", "alipay", "wx, alipay, payme, union, fps or octopus")
	fs.StringVar(&f.outTradeNo, "out-trade-no", "", "the POS's reference (default: a new one in Odoo's uuid--session--method form)")
	fs.BoolVar(&f.scan, "scan", false, "charge by the customer's code (scan_type SCAN_PAY): the kiosk waits for its scanner")
	fs.IntVar(&f.timeout, "timeout", 0, "payment_timeout in seconds (default: the kiosk's QR expiry)")
	fs.StringVar(&f.ca, "ca", "", "the kiosk's CA certificate (default: this machine's kiosk CA, if any, and the system's)")
	fs.Usage = func() { fmt.Fprintln(env.Stderr, ECRUsage); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		return f, err
	}
	switch {
	case fs.NArg() > 0:
		return f, usagef("unexpected argument %q", fs.Arg(0))
	case f.to == "":
		return f, usagef("--to: the kiosk's address is required (https://HOST:9001)")
	case f.posKey == "":
		f.posKey = env.Getenv("QRKIOSK_ECR_POS_KEY")
		if f.posKey == "" {
			return f, usagef("--pos-key: required (or QRKIOSK_ECR_POS_KEY)")
		}
	}
	if n := len(f.posKey); n != 16 && n != 24 && n != 32 {
		return f, usagef("--pos-key: %d characters; a POS-KEY has 16, 24 or 32", n)
	}
	if f.timeout < 0 {
		return f, usagef("--timeout %d: must be positive seconds", f.timeout)
	}
	return f, nil
}

// kioskAddr reads --to: https://HOST:PORT, HOST:PORT or HOST.
func kioskAddr(to string) (string, error) {
	if strings.Contains(to, "://") {
		u, err := url.Parse(to)
		if err != nil || u.Scheme != "https" || u.Host == "" || (u.Path != "" && u.Path != "/") {
			return "", usagef("--to %q: must be https://HOST:PORT (the POS endpoint is HTTPS only)", to)
		}
		to = u.Host
	}
	if _, _, err := net.SplitHostPort(to); err != nil {
		to = net.JoinHostPort(strings.Trim(to, "[]"), posclient.Port)
	}
	return to, nil
}

// ecrSend plays the shop's POS: it sends one payment as Odoo's page does
// (its own encoder, not the kiosk's) and prints the answer.
func ecrSend(ctx context.Context, env Env, args []string, dataDir string) int {
	f, err := parseECRSend(args, env)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(env.Stderr, "qrkiosk ecr send:", err)
		return ExitUsage
	}
	addr, err := kioskAddr(f.to)
	if err != nil {
		fmt.Fprintln(env.Stderr, "qrkiosk ecr send:", err)
		return ExitUsage
	}
	amt, err := strconv.ParseFloat(f.amount, 64)
	if err != nil || math.IsNaN(amt) || math.IsInf(amt, 0) {
		fmt.Fprintf(env.Stderr, "qrkiosk ecr send: --amount %q: must be a number of dollars such as 12.34\n", f.amount)
		return ExitUsage
	}
	roots, err := kioskRoots(f.ca, dataDir, env)
	if err != nil {
		fmt.Fprintln(env.Stderr, "qrkiosk ecr send:", err)
		return ExitUsage
	}
	ref := f.outTradeNo
	if ref == "" {
		ref = newLineUUID() + "--0--0"
	}
	// A JavaScript number as Odoo's page sends it (12.5, not "12.50").
	p := posclient.Trade(posclient.Number(amt), f.channel, ref)
	if f.scan {
		p = append(p, posclient.Field{Key: "scan_type", Value: posclient.Str("SCAN_PAY")})
	}
	if f.timeout > 0 {
		p = append(p, posclient.Field{Key: "payment_timeout", Value: posclient.Int(int64(f.timeout))})
	}
	fmt.Fprintf(env.Stderr, "qrkiosk ecr send: %s on %s to %s (out_trade_no %s); waiting until the sale is over…\n", f.amount, f.channel, addr, ref)
	a, err := posclient.New(addr, f.posKey, roots).Send(ctx, "trade", p)
	if err != nil {
		fmt.Fprintln(env.Stderr, "qrkiosk ecr send:", err)
		if strings.Contains(err.Error(), "certificate") {
			fmt.Fprintln(env.Stderr, "  the kiosk's CA is not trusted here: pass --ca with the file `qrkiosk ecr cert` names on the kiosk")
		}
		return ExitFailed
	}
	out, _ := json.Marshal(map[string]string{"respcd": a.Respcd, "respmsg": a.Respmsg, "resperr": a.Resperr, "data": a.Data, "out_trade_no": ref})
	fmt.Fprintln(env.Stdout, string(out))
	switch {
	case a.OK():
		return ExitPaid
	case a.Cancelled():
		return ExitCancelled
	}
	fmt.Fprintln(env.Stderr, a.Message())
	return ExitFailed
}

// kioskRoots are the certificates trusted for the kiosk: --ca, else the
// system's plus the CA of a kiosk on this machine (its data directory,
// demo or not), so the demo answers `ecr send` out of the box.
func kioskRoots(caFile, dataDir string, env Env) (*x509.CertPool, error) {
	if caFile != "" {
		pool := x509.NewCertPool()
		b, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("--ca: %v", err)
		}
		if !pool.AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("--ca %s: no PEM certificate in it", caFile)
		}
		return pool, nil
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if s, err := kiosk.LoadSettings(kiosk.Options{DataDir: dataDir, Getenv: env.Getenv}); err == nil {
		if b, err := os.ReadFile(filepath.Join(s.LANDir(), lan.CAFile)); err == nil {
			pool.AppendCertsFromPEM(b)
		}
	}
	return pool, nil
}

// newLineUUID is a random uuid, as Odoo names a payment line.
func newLineUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// caFingerprint is the SHA-256 fingerprint of the CA file at path; "" when
// there is none yet.
func caFingerprint(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return ""
	}
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return ""
	}
	return lan.Fingerprint(cert)
}
