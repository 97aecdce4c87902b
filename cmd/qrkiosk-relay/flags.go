package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"qrkiosk/relay"
)

// serveFlags is what serve's command line and environment say, checked.
type serveFlags struct {
	listen            string
	relay             relay.Config // without Store, Metrics and Logger, which serve adds
	database          string       // a postgres:// URL; "" = SQLite in data
	data              string
	tlsCert, tlsKey   string
	retainDays        string // as given, for the start-up log
	qfpay, scanforpay bool   // the one-shop merchant's keys were given
}

// errFlags: the flag package has already said what is wrong.
var errFlags = errors.New("bad flags")

// parseServe reads serve's (and check's) flags, their environment
// variables and secret files, and checks everything but the TLS files and
// the store. An error is a usage error, naming the flag and the rule.
func parseServe(args []string, stderr io.Writer) (serveFlags, *slog.Logger, error) {
	f := newServeFlagSet(stderr)
	if err := f.fs.Parse(args); err != nil {
		return serveFlags{}, nil, errFlags
	}
	if f.fs.NArg() > 0 {
		return serveFlags{}, nil, fmt.Errorf("unexpected argument %q (qrkiosk-relay help)", f.fs.Arg(0))
	}
	level := slog.LevelInfo
	if *f.debug {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	sf, err := f.check(log)
	return sf, log, err
}

// serveFlagSet is serve's flags, each defaulting to its environment
// variable (or systemd credential), else to relay.Defaults.
type serveFlagSet struct {
	fs                                                        *flag.FlagSet
	listen, key, keyFile, sfpKey, sfpKeyFile, merchantsFile   *string
	token, tokenFile, instance, cert, certKey, allow, proxies *string
	retain, unpaid, receiptDays, publicURL                    *string
	noAuth, debug                                             *bool
	store                                                     storeFlags
	limits                                                    []limitFlag
}

func newServeFlagSet(stderr io.Writer) *serveFlagSet {
	d := relay.Defaults()
	fs := flag.NewFlagSet("qrkiosk-relay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f := &serveFlagSet{fs: fs,
		listen:        fs.String("listen", env("QRKIOSK_RELAY_LISTEN", "127.0.0.1:8080"), "address to listen on, port 0 = any free port (env QRKIOSK_RELAY_LISTEN)"),
		key:           fs.String("qfpay-key", env("QFPAY_KEY", ""), "the one-shop merchant's QFPay client key; prefer env QFPAY_KEY or --qfpay-key-file (the command line is visible in ps)"),
		keyFile:       fs.String("qfpay-key-file", env("QFPAY_KEY_FILE", credential(credQFPayKey)), "file holding the one-shop merchant's QFPay client key (env QFPAY_KEY_FILE)"),
		sfpKey:        fs.String("scanforpay-key", env("SCANFORPAY_KEY", ""), "the one-shop merchant's ScanForPay sign key; prefer env SCANFORPAY_KEY or --scanforpay-key-file"),
		sfpKeyFile:    fs.String("scanforpay-key-file", env("SCANFORPAY_KEY_FILE", credential(credScanForPayKey)), "file holding the one-shop merchant's ScanForPay sign key (env SCANFORPAY_KEY_FILE)"),
		merchantsFile: fs.String("merchants", env("QRKIOSK_RELAY_MERCHANTS", credential(credMerchants)), "merchants file: one 'id gateway app_code key' a line, served at /notify/GATEWAY/ID (env QRKIOSK_RELAY_MERCHANTS)"),
		token:         fs.String("token", env("QRKIOSK_RELAY_TOKEN", ""), "shared kiosk token of a one-shop set-up; prefer env QRKIOSK_RELAY_TOKEN or --token-file"),
		tokenFile:     fs.String("token-file", env("QRKIOSK_RELAY_TOKEN_FILE", credential(credToken)), "file holding the shared kiosk token (env QRKIOSK_RELAY_TOKEN_FILE)"),
		noAuth:        fs.Bool("insecure-no-auth", false, "accept kiosks without a token (local demos only)"),
		store:         addStoreFlags(fs),
		instance:      fs.String("instance", env("QRKIOSK_RELAY_INSTANCE", ""), "this instance's name in logs, metrics and the database; default host/listen-address (env QRKIOSK_RELAY_INSTANCE)"),
		cert:          fs.String("tls-cert", env("QRKIOSK_RELAY_TLS_CERT", credential(credTLSCert)), "TLS certificate (PEM); serve HTTPS with --tls-key (env QRKIOSK_RELAY_TLS_CERT)"),
		certKey:       fs.String("tls-key", env("QRKIOSK_RELAY_TLS_KEY", credential(credTLSKey)), "TLS private key (PEM) (env QRKIOSK_RELAY_TLS_KEY)"),
		allow:         fs.String("allow-ip", env("QRKIOSK_RELAY_ALLOW_IP", ""), `notifier allow-list: IPs/CIDRs, comma-separated; "qfpay" = QFPay's published addresses (env QRKIOSK_RELAY_ALLOW_IP)`),
		proxies:       fs.String("trusted-proxy", env("QRKIOSK_RELAY_TRUSTED_PROXY", ""), "reverse proxies (IPs/CIDRs) whose X-Forwarded-For is believed (env QRKIOSK_RELAY_TRUSTED_PROXY)"),
		retain:        fs.String("retain-days", env("QRKIOSK_RELAY_RETAIN_DAYS", strconv.Itoa(int(d.Retain/(24*time.Hour)))), "days a notification is kept, 0 = for ever (env QRKIOSK_RELAY_RETAIN_DAYS)"),
		unpaid:        fs.String("unpaid-claim-hours", env("QRKIOSK_RELAY_UNPAID_CLAIM_HOURS", strconv.Itoa(int(d.Claims.TTL/time.Hour))), "hours a kiosk's claim of an order without a notification is kept, 3 to 720 (env QRKIOSK_RELAY_UNPAID_CLAIM_HOURS)"),
		receiptDays:   fs.String("receipt-days", env("QRKIOSK_RELAY_RECEIPT_DAYS", strconv.Itoa(int(d.ReceiptRetain/(24*time.Hour)))), "days a customer's e-receipt page is kept, 1 to 3650; 0 = no e-receipts (env QRKIOSK_RELAY_RECEIPT_DAYS)"),
		publicURL:     fs.String("public-url", env("QRKIOSK_RELAY_PUBLIC_URL", ""), "where phones reach this relay, https://HOST: e-receipt links start with it; default https:// and the host kiosks connect to (env QRKIOSK_RELAY_PUBLIC_URL)"),
		limits: []limitFlag{
			{"max-subscriptions", "QRKIOSK_RELAY_MAX_SUBSCRIPTIONS", d.MaxSubscriptions, "subscriptions one kiosk connection may hold",
				func(c *relay.Config, n int) { c.MaxSubscriptions = n }, nil},
			{"max-conns-per-token", "QRKIOSK_RELAY_MAX_CONNS_PER_TOKEN", d.MaxConnsPerToken, "connections one kiosk token may hold on this instance",
				func(c *relay.Config, n int) { c.MaxConnsPerToken = n }, nil},
			{"max-conns-shared-token", "QRKIOSK_RELAY_MAX_CONNS_SHARED_TOKEN", d.MaxConnsShared, "connections the shared token may hold on this instance",
				func(c *relay.Config, n int) { c.MaxConnsShared = n }, nil},
			{"max-conns", "QRKIOSK_RELAY_MAX_CONNS", d.MaxConns, "kiosk connections this instance holds in all",
				func(c *relay.Config, n int) { c.MaxConns = n }, nil},
			{"refusals-per-minute", "QRKIOSK_RELAY_REFUSALS_PER_MINUTE", d.RefusalsPerMinute, "refused kiosk handshakes one source address (IPv6: /64) may provoke a minute before it is answered 429",
				func(c *relay.Config, n int) { c.RefusalsPerMinute = n }, nil},
			{"max-claims-per-device", "QRKIOSK_RELAY_MAX_CLAIMS_PER_DEVICE", d.Claims.PerDevice, "orders one kiosk device may newly follow per --unpaid-claim-hours",
				func(c *relay.Config, n int) { c.Claims.PerDevice = n }, nil},
			{"max-claims-per-merchant", "QRKIOSK_RELAY_MAX_CLAIMS_PER_MERCHANT", d.Claims.PerMerchant, "orders all of a merchant's kiosk devices together may newly follow per --unpaid-claim-hours",
				func(c *relay.Config, n int) { c.Claims.PerMerchant = n }, nil},
			{"max-receipts-per-device", "QRKIOSK_RELAY_MAX_RECEIPTS_PER_DEVICE", d.Receipts.PerDevice, "e-receipts one kiosk device may store a day",
				func(c *relay.Config, n int) { c.Receipts.PerDevice = n }, nil},
			{"max-receipts-per-merchant", "QRKIOSK_RELAY_MAX_RECEIPTS_PER_MERCHANT", d.Receipts.PerMerchant, "e-receipts all of a merchant's kiosk devices together may store a day",
				func(c *relay.Config, n int) { c.Receipts.PerMerchant = n }, nil},
			{"replay-memory-mib", "QRKIOSK_RELAY_REPLAY_MEMORY_MIB", int(d.ReplayMemory >> 20), "MiB of replayed notifications in flight on this instance",
				func(c *relay.Config, n int) { c.ReplayMemory = int64(n) << 20 }, nil},
		},
	}
	for i := range f.limits {
		l := &f.limits[i]
		l.value = fs.String(l.name, env(l.env, strconv.Itoa(l.def)), fmt.Sprintf("%s (env %s)", l.help, l.env))
	}
	f.debug = fs.Bool("debug", false, "debug logging")
	return f
}

// limitFlag is a numeric limit taken from a flag or its environment
// variable, checked after parsing so a bad value names both.
type limitFlag struct {
	name, env string
	def       int
	help      string
	set       func(*relay.Config, int)
	value     *string
}

// check turns the parsed flags into serveFlags.
func (f *serveFlagSet) check(log *slog.Logger) (serveFlags, error) {
	if err := f.secrets(log); err != nil {
		return serveFlags{}, err
	}
	merchants, err := f.merchants(log)
	if err != nil {
		return serveFlags{}, err
	}
	sf := serveFlags{listen: *f.listen, data: *f.store.data, tlsCert: *f.cert, tlsKey: *f.certKey,
		retainDays: *f.retain, qfpay: *f.key != "", scanforpay: *f.sfpKey != "",
		relay: relay.Config{Key: *f.key, ScanForPayKey: *f.sfpKey, Merchants: merchants, Token: *f.token,
			InsecureNoAuth: *f.noAuth, Instance: *f.instance}}
	c := &sf.relay
	if c.Key == "" && c.ScanForPayKey == "" && len(merchants) == 0 {
		return sf, errors.New("a merchant is required: QFPay's client key (QFPAY_KEY, --qfpay-key-file), ScanForPay's sign key (SCANFORPAY_KEY, --scanforpay-key-file) and/or --merchants FILE")
	}
	if c.Token != "" && c.Key == "" && c.ScanForPayKey == "" && !hasMerchant(merchants, relay.DefaultMerchant) {
		return sf, errors.New("the shared --token sees the one-shop merchant's notifications (QFPAY_KEY, SCANFORPAY_KEY, or a merchant named \"default\" in --merchants); with several merchants give each kiosk its own token: qrkiosk-relay token add")
	}
	// The rest of what the relay would refuse at start (a merchant given
	// twice, a bad app code), so that check says it too.
	if err := relay.CheckMerchants(*c); err != nil {
		return sf, err
	}
	if (sf.tlsCert == "") != (sf.tlsKey == "") {
		return sf, errors.New("--tls-cert and --tls-key go together")
	}
	if c.AllowIPs, err = relay.ParseAllowList(*f.allow); err != nil {
		return sf, errors.New("--allow-ip: " + err.Error())
	}
	if c.TrustedProxies, err = relay.ParseAllowList(*f.proxies); err != nil {
		return sf, errors.New("--trusted-proxy: " + err.Error())
	}
	if c.Retain, err = retainDays(*f.retain); err != nil {
		return sf, errors.New("--retain-days: " + err.Error())
	}
	if c.Claims.TTL, err = unpaidClaimHours(*f.unpaid); err != nil {
		return sf, errors.New("--unpaid-claim-hours (or QRKIOSK_RELAY_UNPAID_CLAIM_HOURS): " + err.Error())
	}
	if c.ReceiptRetain, err = receiptDays(*f.receiptDays); err != nil {
		return sf, errors.New("--receipt-days (or QRKIOSK_RELAY_RECEIPT_DAYS): " + err.Error())
	}
	c.PublicURL = strings.TrimSpace(*f.publicURL)
	if err := relay.CheckPublicURL(c.PublicURL); err != nil {
		return sf, errors.New("--public-url (or QRKIOSK_RELAY_PUBLIC_URL): " + err.Error())
	}
	for _, l := range f.limits {
		n, err := strconv.Atoi(strings.TrimSpace(*l.value))
		if err != nil || n < 1 || n > 1_000_000 {
			return sf, fmt.Errorf("--%s (or %s) %q: a whole number from 1 to 1000000", l.name, l.env, *l.value)
		}
		l.set(c, n)
	}
	if sf.database, err = f.store.resolve(log); err != nil {
		return sf, err
	}
	if c.Instance == "" {
		host, _ := os.Hostname()
		c.Instance = host + "/" + sf.listen
	}
	return sf, nil
}

// secrets warns about the secrets given on the command line, and reads
// those given as files.
func (f *serveFlagSet) secrets(log *slog.Logger) error {
	onCommandLine := map[string]bool{}
	f.fs.Visit(func(fl *flag.Flag) { onCommandLine[fl.Name] = true })
	for _, name := range []string{"qfpay-key", "scanforpay-key", "token", "database"} {
		if onCommandLine[name] && (name != "database" || strings.Contains(*f.store.database, "@")) {
			log.Warn("a secret on the command line is visible to every user of this machine (ps): use the environment or a file instead",
				"flag", "--"+name)
		}
	}
	for _, s := range []struct {
		value      *string
		file, name string // the file flag, and the value's flag with its environment name
	}{
		{f.key, *f.keyFile, "--qfpay-key (or QFPAY_KEY)"},
		{f.sfpKey, *f.sfpKeyFile, "--scanforpay-key (or SCANFORPAY_KEY)"},
		{f.token, *f.tokenFile, "--token (or QRKIOSK_RELAY_TOKEN)"},
	} {
		if err := fromFile(s.value, s.file, s.name, log); err != nil {
			return err
		}
	}
	return nil
}

// merchants reads --merchants, and logs what each merchant's notify path
// is (never its key).
func (f *serveFlagSet) merchants(log *slog.Logger) ([]relay.Merchant, error) {
	path := *f.merchantsFile
	if path == "" {
		return nil, nil
	}
	file, err := os.Open(path)
	if err != nil {
		return nil, errors.New("--merchants: " + err.Error())
	}
	merchants, err := relay.ParseMerchants(file)
	file.Close()
	if err != nil {
		return nil, fmt.Errorf("--merchants %s: %v", path, err)
	}
	warnIfShared(path, log)
	for _, m := range merchants {
		log.Info("merchant", "id", m.ID, "gateway", m.Gateway, "app_code", m.AppCode, "notify_path", "/notify/"+m.Gateway+"/"+m.ID)
	}
	return merchants, nil
}

// unpaidClaimHours parses --unpaid-claim-hours: at least 3, since a
// kiosk's order may be paid up to 2 hours after it starts and the kiosk
// keeps following it a while after; at most 30 days.
func unpaidClaimHours(s string) (time.Duration, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 3 || n > 720 {
		return 0, fmt.Errorf("%q: a whole number of hours from 3 to 720", s)
	}
	return time.Duration(n) * time.Hour, nil
}

// minRetainDays keeps a week: more than the 48 h a reconnecting kiosk
// replays, and a long weekend's notifications to look back at.
const minRetainDays = 7

// retainDays parses --retain-days: 0 keeps every notification (a negative
// Retain for the server), else at least minRetainDays whole days.
func retainDays(s string) (time.Duration, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	switch {
	case err != nil:
		return 0, fmt.Errorf("%q is not a whole number of days", s)
	case n == 0:
		return -1, nil
	case n < minRetainDays:
		return 0, fmt.Errorf("%d: must be 0 (keep every notification) or at least %d days", n, minRetainDays)
	case n > 100*365:
		return 0, fmt.Errorf("%d: more than 100 years; use 0 to keep every notification", n)
	}
	return time.Duration(n) * 24 * time.Hour, nil
}

// receiptDays parses --receipt-days: 0 turns e-receipts off (a negative
// ReceiptRetain for the server), else 1 to 3650 days.
func receiptDays(s string) (time.Duration, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	switch {
	case err != nil:
		return 0, fmt.Errorf("%q is not a whole number of days", s)
	case n == 0:
		return -1, nil
	case n < 0 || n > 3650:
		return 0, fmt.Errorf("%d: must be 0 (no e-receipts) or 1 to 3650 days", n)
	}
	return time.Duration(n) * 24 * time.Hour, nil
}

func hasMerchant(ms []relay.Merchant, id string) bool {
	for _, m := range ms {
		if m.ID == id {
			return true
		}
	}
	return false
}
