// Command qrkiosk-relay receives payment gateways' notifications (QFPay's,
// ScanForPay's) on /notify/…, stores them and pushes them to the kiosks
// over /ws; its token subcommands manage the kiosks' own tokens.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
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
