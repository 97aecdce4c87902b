package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"qrkiosk/relay"
	"qrkiosk/relay/store"
)

// runToken is `qrkiosk-relay token add|list|revoke`: kiosk tokens in the
// relay's store, which every instance reads, so they take effect on all
// of them (a revocation within seconds).
func runToken(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, "qrkiosk-relay token: add, list or revoke (qrkiosk-relay help)\n")
		return exitUsage
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	tc, err := parseToken(args[0], args[1:], stderr, log)
	switch {
	case errors.Is(err, errFlags):
		return exitUsage
	case err != nil:
		fmt.Fprintf(stderr, "qrkiosk-relay token %s: %s\n", args[0], err)
		return exitUsage
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	st, err := openStore(ctx, tc.database, tc.data, false, log)
	if err != nil {
		fmt.Fprintln(stderr, "qrkiosk-relay token:", err)
		return 1
	}
	defer st.Close()
	switch tc.sub {
	case "add":
		return tokenAdd(ctx, st, tc, stdout, stderr)
	case "list":
		return tokenList(ctx, st, stdout, stderr)
	}
	return tokenRevoke(ctx, st, tc, stdout, stderr)
}

// tokenCmd is a token subcommand's flags and arguments, checked.
type tokenCmd struct {
	sub                  string // add, list or revoke
	merchant, udid, note string
	ids                  []int64 // revoke's token ids
	database, data       string  // the store, as serve's flags name it
}

// parseToken reads a token subcommand's flags; an error is a usage error.
func parseToken(sub string, args []string, stderr io.Writer, log *slog.Logger) (tokenCmd, error) {
	tc := tokenCmd{sub: sub}
	fs := flag.NewFlagSet("qrkiosk-relay token "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	sf := addStoreFlags(fs)
	switch sub {
	case "add", "revoke":
		fs.StringVar(&tc.merchant, "merchant", "", `the merchant id ("default" for the one-shop merchant of QFPAY_KEY)`)
		fs.StringVar(&tc.udid, "udid", "", "the kiosk's device id, its QRKIOSK_UDID")
		if sub == "add" {
			fs.StringVar(&tc.note, "note", "", "what the token is for, shown by list (e.g. the shop and counter)")
		}
	case "list":
	default:
		return tc, errors.New("unknown; want add, list or revoke")
	}
	if err := fs.Parse(args); err != nil {
		return tc, errFlags
	}
	var err error
	if tc.database, err = sf.resolve(log); err != nil {
		return tc, err
	}
	tc.data = *sf.data
	if tc.database == "" {
		// A token added to a journal the relay does not read is a kiosk
		// that cannot connect: never create one here.
		if st, err := os.Stat(tc.data); err != nil || !st.IsDir() {
			return tc, fmt.Errorf("--data %s: no such directory; give the relay's (--data or QRKIOSK_RELAY_DATA; the Debian package's is /var/lib/qrkiosk-relay), or --database", tc.data)
		}
		if err := checkDataDirOwner(tc.data); err != nil {
			return tc, errors.New("--data " + err.Error())
		}
	}
	if sub == "revoke" {
		return tc, tc.revokeArgs(fs.Args())
	}
	if fs.NArg() > 0 {
		return tc, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if sub == "add" {
		if err := relay.ValidMerchantID(tc.merchant); err != nil {
			return tc, errors.New("--merchant: " + err.Error())
		}
		if err := relay.ValidDeviceID(tc.udid); err != nil {
			return tc, errors.New("--udid: " + err.Error())
		}
	}
	return tc, nil
}

// revokeArgs takes revoke's token ids, or its --merchant and --udid.
func (tc *tokenCmd) revokeArgs(args []string) error {
	for _, a := range args {
		id, err := strconv.ParseInt(a, 10, 64)
		if err != nil || id < 1 {
			return fmt.Errorf("%q is not a token id (see qrkiosk-relay token list)", a)
		}
		tc.ids = append(tc.ids, id)
	}
	if (len(tc.ids) > 0) == (tc.merchant != "" || tc.udid != "") {
		return errors.New("give token ids, or --merchant and --udid (every token of that device)")
	}
	if len(tc.ids) == 0 && (tc.merchant == "" || tc.udid == "") {
		return errors.New("--merchant and --udid go together")
	}
	return nil
}

func tokenAdd(ctx context.Context, st store.Store, tc tokenCmd, stdout, stderr io.Writer) int {
	secret, t, err := relay.IssueToken(ctx, st, tc.merchant, tc.udid, tc.note)
	if err != nil {
		fmt.Fprintln(stderr, "qrkiosk-relay token add:", err)
		return 1
	}
	// The secret alone on stdout, so TOKEN=$(qrkiosk-relay token add …)
	// works; how to use it on stderr.
	fmt.Fprintln(stdout, secret)
	fmt.Fprintf(stderr, "token %d for merchant %s, device %s. Give that kiosk QRKIOSK_RELAY_TOKEN=<the line above> and QRKIOSK_UDID=%s; it is shown only now (the relay keeps a hash).\n",
		t.ID, t.Merchant, t.UDID, t.UDID)
	return 0
}

func tokenList(ctx context.Context, st store.Store, stdout, stderr io.Writer) int {
	ts, err := st.ListTokens(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "qrkiosk-relay token list:", err)
		return 1
	}
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tMERCHANT\tUDID\tCREATED\tREVOKED\tNOTE")
	for _, t := range ts {
		revoked := "-"
		if !t.RevokedAt.IsZero() {
			revoked = t.RevokedAt.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Merchant, t.UDID,
			t.CreatedAt.UTC().Format(time.RFC3339), revoked, strings.ReplaceAll(t.Note, "\t", " "))
	}
	w.Flush()
	return 0
}

// tokenRevoke revokes tc's tokens: 1 when none was valid.
func tokenRevoke(ctx context.Context, st store.Store, tc tokenCmd, stdout, stderr io.Writer) int {
	total := 0
	for _, id := range tc.ids {
		n, err := st.RevokeTokens(ctx, id, "", "")
		if err != nil {
			fmt.Fprintln(stderr, "qrkiosk-relay token revoke:", err)
			return 1
		}
		if n == 0 {
			fmt.Fprintf(stderr, "qrkiosk-relay token revoke: no valid token %d (unknown or already revoked)\n", id)
		}
		total += n
	}
	if len(tc.ids) == 0 {
		n, err := st.RevokeTokens(ctx, 0, tc.merchant, tc.udid)
		if err != nil {
			fmt.Fprintln(stderr, "qrkiosk-relay token revoke:", err)
			return 1
		}
		total = n
	}
	fmt.Fprintf(stdout, "revoked %d token(s); their kiosks are disconnected within seconds\n", total)
	if total == 0 {
		return 1
	}
	return 0
}
