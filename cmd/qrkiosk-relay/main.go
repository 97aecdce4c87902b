// Command qrkiosk-relay receives payment gateways' notifications (QFPay's,
// ScanForPay's) on /notify/…, stores them and pushes them to the kiosks
// over /ws; its token subcommands manage the kiosks' own tokens.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"qrkiosk/relay"
	"qrkiosk/relay/prommetrics"
	"qrkiosk/relay/store"
)

// exitUsage is EX_USAGE from sysexits.h.
const exitUsage = 64

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "token":
			return runToken(args[1:], stdout, stderr)
		case "serve":
			return serve(args[1:], stdout, stderr, false)
		case "check":
			return serve(args[1:], stdout, stderr, true)
		case "help", "-h", "--help":
			fmt.Fprint(stdout, usageText)
			return 0
		}
	}
	return serve(args, stdout, stderr, false)
}

const usageText = `qrkiosk-relay: the notify relay between payment gateways and qrkiosk kiosks.

  qrkiosk-relay [serve] [flags]     run the relay (qrkiosk-relay serve --help for the flags)
  qrkiosk-relay check [flags]       check the settings and secrets as serve would, then exit:
                                    0 if it would start (the store is not opened and nothing is created)
  qrkiosk-relay token add --merchant ID --udid DEVICE [--note TEXT]
  qrkiosk-relay token list
  qrkiosk-relay token revoke ID... | --merchant ID --udid DEVICE

The token commands use the relay's store: --database (QRKIOSK_RELAY_DATABASE)
or --data (QRKIOSK_RELAY_DATA), as the relay does; run them as the user that
owns --data (the Debian package's: sudo -u qrkiosk-relay qrkiosk-relay token …
--data /var/lib/qrkiosk-relay).

Under systemd, the credentials qfpay-key, scanforpay-key, token, merchants,
database, tls.crt and tls.key (LoadCredential=) are the defaults of
--qfpay-key-file, --scanforpay-key-file, --token-file, --merchants,
--database-file, --tls-cert and --tls-key; an empty one counts as not given.
See relay/README.md.
`

// storeFlags are the flags that locate the store, shared by serve and token.
type storeFlags struct {
	data, database, databaseFile *string
}

func addStoreFlags(fs *flag.FlagSet) storeFlags {
	return storeFlags{
		data:         fs.String("data", env("QRKIOSK_RELAY_DATA", "qrkiosk-relay-data"), "directory of the SQLite journal, when there is no --database (env QRKIOSK_RELAY_DATA)"),
		database:     fs.String("database", env("QRKIOSK_RELAY_DATABASE", ""), "postgres:// URL shared by several relay instances; empty = SQLite in --data (env QRKIOSK_RELAY_DATABASE)"),
		databaseFile: fs.String("database-file", env("QRKIOSK_RELAY_DATABASE_FILE", credential(credDatabase)), "file holding the postgres:// URL (it may carry a password), e.g. a systemd credential (env QRKIOSK_RELAY_DATABASE_FILE)"),
	}
}

// resolve returns the database URL, reading --database-file.
func (f storeFlags) resolve(log *slog.Logger) (string, error) {
	url := *f.database
	if *f.databaseFile != "" {
		if url != "" {
			return "", errors.New("--database and --database-file: give one")
		}
		v, err := readSecret(*f.databaseFile, log)
		if err != nil {
			return "", fmt.Errorf("--database-file: %w", err)
		}
		url = v
	}
	return url, nil
}

// fromFile sets *value from the secret file named by the "-file" twin of
// the flag that name begins with (nothing when file is ""); a value given
// both ways is refused.
func fromFile(value *string, file, name string, log *slog.Logger) error {
	if file == "" {
		return nil
	}
	flagName, _, _ := strings.Cut(name, " ")
	if *value != "" {
		return fmt.Errorf("%s and %s-file (%s): give one", name, flagName, file)
	}
	v, err := readSecret(file, log)
	if err != nil {
		return fmt.Errorf("%s-file: %w", flagName, err)
	}
	*value = v
	return nil
}

// readSecret reads a one-line secret file (a systemd credential, a
// Kubernetes secret, a 0600 file) without its trailing newline, and warns
// when other users could read it.
func readSecret(path string, log *slog.Logger) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	v := strings.TrimSpace(string(b))
	if v == "" {
		return "", fmt.Errorf("%s is empty", path)
	}
	warnIfShared(path, log)
	return v, nil
}

// warnIfShared warns when other users could read a file holding secrets.
func warnIfShared(path string, log *slog.Logger) {
	if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 {
		log.Warn("a secret file is readable by other users: chmod 600 it (or use a systemd credential)",
			"file", path, "mode", fmt.Sprintf("%04o", st.Mode().Perm()))
	}
}

// serve runs the relay; with checkOnly it stops once everything but the
// store has been checked (qrkiosk-relay check), so it opens and creates
// nothing: a package's install script runs it as root to decide whether
// the service can start.
func serve(args []string, stdout, stderr io.Writer, checkOnly bool) int {
	fs := flag.NewFlagSet("qrkiosk-relay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", env("QRKIOSK_RELAY_LISTEN", "127.0.0.1:8080"), "address to listen on, port 0 = any free port (env QRKIOSK_RELAY_LISTEN)")
	key := fs.String("qfpay-key", env("QFPAY_KEY", ""), "the one-shop merchant's QFPay client key; prefer env QFPAY_KEY or --qfpay-key-file (the command line is visible in ps)")
	keyFile := fs.String("qfpay-key-file", env("QFPAY_KEY_FILE", credential(credQFPayKey)), "file holding the one-shop merchant's QFPay client key (env QFPAY_KEY_FILE)")
	sfpKey := fs.String("scanforpay-key", env("SCANFORPAY_KEY", ""), "the one-shop merchant's ScanForPay sign key; prefer env SCANFORPAY_KEY or --scanforpay-key-file")
	sfpKeyFile := fs.String("scanforpay-key-file", env("SCANFORPAY_KEY_FILE", credential(credScanForPayKey)), "file holding the one-shop merchant's ScanForPay sign key (env SCANFORPAY_KEY_FILE)")
	merchantsFile := fs.String("merchants", env("QRKIOSK_RELAY_MERCHANTS", credential(credMerchants)), "merchants file: one 'id gateway app_code key' a line, served at /notify/GATEWAY/ID (env QRKIOSK_RELAY_MERCHANTS)")
	token := fs.String("token", env("QRKIOSK_RELAY_TOKEN", ""), "shared kiosk token of a one-shop set-up; prefer env QRKIOSK_RELAY_TOKEN or --token-file")
	tokenFile := fs.String("token-file", env("QRKIOSK_RELAY_TOKEN_FILE", credential(credToken)), "file holding the shared kiosk token (env QRKIOSK_RELAY_TOKEN_FILE)")
	noAuth := fs.Bool("insecure-no-auth", false, "accept kiosks without a token (local demos only)")
	sf := addStoreFlags(fs)
	instance := fs.String("instance", env("QRKIOSK_RELAY_INSTANCE", ""), "this instance's name in logs, metrics and the database; default host/listen-address (env QRKIOSK_RELAY_INSTANCE)")
	cert := fs.String("tls-cert", env("QRKIOSK_RELAY_TLS_CERT", credential(credTLSCert)), "TLS certificate (PEM); serve HTTPS with --tls-key (env QRKIOSK_RELAY_TLS_CERT)")
	certKey := fs.String("tls-key", env("QRKIOSK_RELAY_TLS_KEY", credential(credTLSKey)), "TLS private key (PEM) (env QRKIOSK_RELAY_TLS_KEY)")
	allow := fs.String("allow-ip", env("QRKIOSK_RELAY_ALLOW_IP", ""), `notifier allow-list: IPs/CIDRs, comma-separated; "qfpay" = QFPay's published addresses (env QRKIOSK_RELAY_ALLOW_IP)`)
	proxies := fs.String("trusted-proxy", env("QRKIOSK_RELAY_TRUSTED_PROXY", ""), "reverse proxies (IPs/CIDRs) whose X-Forwarded-For is believed (env QRKIOSK_RELAY_TRUSTED_PROXY)")
	retain := fs.String("retain-days", env("QRKIOSK_RELAY_RETAIN_DAYS", "90"), "days a notification is kept, 0 = for ever (env QRKIOSK_RELAY_RETAIN_DAYS)")
	unpaid := fs.String("unpaid-claim-hours", env("QRKIOSK_RELAY_UNPAID_CLAIM_HOURS", "24"), "hours a kiosk's claim of an order without a notification is kept, 3 to 720 (env QRKIOSK_RELAY_UNPAID_CLAIM_HOURS)")
	limits := []limitFlag{
		{name: "max-subscriptions", env: "QRKIOSK_RELAY_MAX_SUBSCRIPTIONS", def: "256", help: "subscriptions one kiosk connection may hold"},
		{name: "max-conns-per-token", env: "QRKIOSK_RELAY_MAX_CONNS_PER_TOKEN", def: "8", help: "connections one kiosk token may hold on this instance"},
		{name: "max-conns-shared-token", env: "QRKIOSK_RELAY_MAX_CONNS_SHARED_TOKEN", def: "1000", help: "connections the shared token may hold on this instance"},
		{name: "max-conns", env: "QRKIOSK_RELAY_MAX_CONNS", def: "20000", help: "kiosk connections this instance holds in all"},
		{name: "refusals-per-minute", env: "QRKIOSK_RELAY_REFUSALS_PER_MINUTE", def: "60", help: "refused kiosk handshakes one source address (IPv6: /64) may provoke a minute before it is answered 429"},
		{name: "max-claims-per-device", env: "QRKIOSK_RELAY_MAX_CLAIMS_PER_DEVICE", def: "2000", help: "orders one kiosk device may newly follow per --unpaid-claim-hours"},
		{name: "max-claims-per-merchant", env: "QRKIOSK_RELAY_MAX_CLAIMS_PER_MERCHANT", def: "100000", help: "orders all of a merchant's kiosk devices together may newly follow per --unpaid-claim-hours"},
		{name: "replay-memory-mib", env: "QRKIOSK_RELAY_REPLAY_MEMORY_MIB", def: "32", help: "MiB of replayed notifications in flight on this instance"},
	}
	for i := range limits {
		l := &limits[i]
		l.value = fs.String(l.name, env(l.env, l.def), fmt.Sprintf("%s (env %s)", l.help, l.env))
	}
	debug := fs.Bool("debug", false, "debug logging")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "qrkiosk-relay: unexpected argument %q (qrkiosk-relay help)\n", fs.Arg(0))
		return exitUsage
	}
	usage := func(msg string) int {
		fmt.Fprintln(stderr, "qrkiosk-relay:", msg)
		return exitUsage
	}
	level := slog.LevelInfo
	if *debug {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	onCommandLine := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { onCommandLine[f.Name] = true })
	for _, name := range []string{"qfpay-key", "scanforpay-key", "token", "database"} {
		if onCommandLine[name] && (name != "database" || strings.Contains(*sf.database, "@")) {
			log.Warn("a secret on the command line is visible to every user of this machine (ps): use the environment or a file instead",
				"flag", "--"+name)
		}
	}
	for _, sf := range []struct {
		value      *string
		file, name string // the file flag, and the value's flag with its environment name
	}{
		{key, *keyFile, "--qfpay-key (or QFPAY_KEY)"},
		{sfpKey, *sfpKeyFile, "--scanforpay-key (or SCANFORPAY_KEY)"},
		{token, *tokenFile, "--token (or QRKIOSK_RELAY_TOKEN)"},
	} {
		if err := fromFile(sf.value, sf.file, sf.name, log); err != nil {
			return usage(err.Error())
		}
	}
	var merchants []relay.Merchant
	if *merchantsFile != "" {
		f, err := os.Open(*merchantsFile)
		if err != nil {
			return usage("--merchants: " + err.Error())
		}
		merchants, err = relay.ParseMerchants(f)
		f.Close()
		if err != nil {
			return usage(fmt.Sprintf("--merchants %s: %v", *merchantsFile, err))
		}
		warnIfShared(*merchantsFile, log)
		for _, m := range merchants {
			log.Info("merchant", "id", m.ID, "gateway", m.Gateway, "app_code", m.AppCode, "notify_path", "/notify/"+m.Gateway+"/"+m.ID)
		}
	}
	if *key == "" && *sfpKey == "" && len(merchants) == 0 {
		return usage("a merchant is required: QFPay's client key (QFPAY_KEY, --qfpay-key-file), ScanForPay's sign key (SCANFORPAY_KEY, --scanforpay-key-file) and/or --merchants FILE")
	}
	if *token != "" && *key == "" && *sfpKey == "" && !hasMerchant(merchants, relay.DefaultMerchant) {
		return usage("the shared --token sees the one-shop merchant's notifications (QFPAY_KEY, SCANFORPAY_KEY, or a merchant named \"default\" in --merchants); with several merchants give each kiosk its own token: qrkiosk-relay token add")
	}
	// The rest of what the relay would refuse at start (a merchant given
	// twice, a bad app code), so that check says it too.
	if err := relay.CheckMerchants(relay.Config{Key: *key, ScanForPayKey: *sfpKey, Merchants: merchants, Token: *token}); err != nil {
		return usage(err.Error())
	}
	if (*cert == "") != (*certKey == "") {
		return usage("--tls-cert and --tls-key go together")
	}
	allowIPs, err := relay.ParseAllowList(*allow)
	if err != nil {
		return usage("--allow-ip: " + err.Error())
	}
	trusted, err := relay.ParseAllowList(*proxies)
	if err != nil {
		return usage("--trusted-proxy: " + err.Error())
	}
	retention, err := retainDays(*retain)
	if err != nil {
		return usage("--retain-days: " + err.Error())
	}
	unpaidTTL, err := unpaidClaimHours(*unpaid)
	if err != nil {
		return usage("--unpaid-claim-hours (or QRKIOSK_RELAY_UNPAID_CLAIM_HOURS): " + err.Error())
	}
	limit := map[string]int{}
	for _, l := range limits {
		n, err := strconv.Atoi(strings.TrimSpace(*l.value))
		if err != nil || n < 1 || n > 1_000_000 {
			return usage(fmt.Sprintf("--%s (or %s) %q: a whole number from 1 to 1000000", l.name, l.env, *l.value))
		}
		limit[l.name] = n
	}
	database, err := sf.resolve(log)
	if err != nil {
		return usage(err.Error())
	}
	// Everything that can fail is loaded before the relay says it is up.
	var tlsCfg *tls.Config
	if *cert != "" {
		pair, err := tls.LoadX509KeyPair(*cert, *certKey)
		if err != nil {
			log.Error("TLS certificate or key unreadable: not starting", "cert", *cert, "key", *certKey, "err", err)
			return 1
		}
		tlsCfg = &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
	}
	if checkOnly {
		fmt.Fprintf(stdout, "qrkiosk-relay check: ready to start: %s; kiosks %s; store %s\n",
			describeMerchants(*key != "", *sfpKey != "", merchants), describeAuth(*token != "", *noAuth), describeStore(database, *sf.data))
		return 0
	}
	if database == "" {
		if err := checkDataDirOwner(*sf.data); err != nil {
			return usage("--data " + err.Error())
		}
	}
	if *noAuth {
		log.Warn("kiosk authentication is OFF (--insecure-no-auth)")
	} else if *token == "" {
		log.Info("no shared --token: every kiosk authenticates with its own token (qrkiosk-relay token add)")
	}
	if *instance == "" {
		host, _ := os.Hostname()
		*instance = host + "/" + *listen
	}
	claims := store.ClaimLimits{TTL: unpaidTTL, PerDevice: limit["max-claims-per-device"],
		PerMerchant: limit["max-claims-per-merchant"]}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	st, err := openStore(ctx, database, *sf.data, true, log)
	cancel()
	if err != nil {
		log.Error("start", "err", err)
		return 1
	}
	srv, err := relay.NewServer(relay.Config{
		Key:               *key,
		ScanForPayKey:     *sfpKey,
		Merchants:         merchants,
		Token:             *token,
		InsecureNoAuth:    *noAuth,
		Store:             st,
		Metrics:           prommetrics.New(),
		Instance:          *instance,
		AllowIPs:          allowIPs,
		TrustedProxies:    trusted,
		Retain:            retention,
		MaxSubscriptions:  limit["max-subscriptions"],
		MaxConnsPerToken:  limit["max-conns-per-token"],
		MaxConnsShared:    limit["max-conns-shared-token"],
		MaxConns:          limit["max-conns"],
		RefusalsPerMinute: limit["refusals-per-minute"],
		Claims:            claims,
		ReplayMemory:      int64(limit["replay-memory-mib"]) << 20,
		Logger:            log,
	})
	if err != nil {
		log.Error("start", "err", err)
		return 1
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Error("listen", "addr", *listen, "err", err)
		srv.Shutdown(context.Background())
		return 1
	}
	scheme := "http"
	if tlsCfg != nil {
		scheme = "https"
		ln = tls.NewListener(ln, tlsCfg)
	}
	fmt.Fprintf(stdout, "listening on %s://%s\n", scheme, ln.Addr())

	hs := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      15 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	where := *sf.data
	if database != "" {
		where = "postgres"
	}
	log.Info("relay up", "addr", ln.Addr().String(), "instance", *instance, "store", where, "tls", tlsCfg != nil,
		"merchants", len(merchants)+btoi(*key != "")+btoi(*sfpKey != ""), "qfpay", *key != "", "scanforpay", *sfpKey != "", "allow_ips", len(allowIPs), "retain_days", *retain)

	code := 0
	select {
	case err := <-served:
		log.Error("serve", "err", err)
		code = 1
	case <-ctx.Done():
		log.Info("signal: shutting down")
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Stop accepting and let notifications in flight finish their store
	// write, then close the websockets ("going away") and the store.
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Warn("http shutdown", "err", err)
	}
	if err := srv.Shutdown(sctx); err != nil {
		log.Error("relay shutdown", "err", err)
		code = 1
	}
	return code
}

func hasMerchant(ms []relay.Merchant, id string) bool {
	for _, m := range ms {
		if m.ID == id {
			return true
		}
	}
	return false
}

// describeMerchants names the merchants a check found, never their keys.
func describeMerchants(qfpay, scanforpay bool, ms []relay.Merchant) string {
	var parts []string
	if qfpay {
		parts = append(parts, relay.DefaultMerchant+" (qfpay)")
	}
	if scanforpay {
		parts = append(parts, relay.DefaultMerchant+" (scanforpay)")
	}
	for _, m := range ms {
		parts = append(parts, m.ID+" ("+m.Gateway+")")
	}
	return fmt.Sprintf("%d merchant(s): %s", len(parts), strings.Join(parts, ", "))
}

func describeAuth(shared, none bool) string {
	switch {
	case none:
		return "unauthenticated (--insecure-no-auth)"
	case shared:
		return "with the shared token or their own (token add)"
	}
	return "with their own tokens (token add)"
}

func describeStore(database, data string) string {
	if database != "" {
		return "postgres"
	}
	return "SQLite in " + data
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// limitFlag is a numeric limit taken from a flag or its environment
// variable, checked after parsing so a bad value names both.
type limitFlag struct {
	name, env, def, help string
	value                *string
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
