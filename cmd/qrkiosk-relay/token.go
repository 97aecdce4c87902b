package main

import (
	"context"
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
)

// runToken is `qrkiosk-relay token add|list|revoke`: kiosk tokens in the
// relay's store, which every instance reads, so they take effect on all
// of them (a revocation within seconds).
func runToken(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, "qrkiosk-relay token: add, list or revoke (qrkiosk-relay help)\n")
		return exitUsage
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("qrkiosk-relay token "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	sf := addStoreFlags(fs)
	usage := func(msg string) int {
		fmt.Fprintf(stderr, "qrkiosk-relay token %s: %s\n", sub, msg)
		return exitUsage
	}
	var merchant, udid, note *string
	switch sub {
	case "add", "revoke":
		merchant = fs.String("merchant", "", `the merchant id ("default" for the one-shop merchant of QFPAY_KEY)`)
		udid = fs.String("udid", "", "the kiosk's device id, its QRKIOSK_UDID")
		if sub == "add" {
			note = fs.String("note", "", "what the token is for, shown by list (e.g. the shop and counter)")
		}
	case "list":
	default:
		return usage("unknown; want add, list or revoke")
	}
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	database, err := sf.resolve(log)
	if err != nil {
		return usage(err.Error())
	}
	if database == "" {
		// A token added to a journal the relay does not read is a kiosk
		// that cannot connect: never create one here.
		if st, err := os.Stat(*sf.data); err != nil || !st.IsDir() {
			return usage(fmt.Sprintf("--data %s: no such directory; give the relay's (--data or QRKIOSK_RELAY_DATA; the Debian package's is /var/lib/qrkiosk-relay), or --database", *sf.data))
		}
		if err := checkDataDirOwner(*sf.data); err != nil {
			return usage("--data " + err.Error())
		}
	}
	var ids []int64
	switch sub {
	case "add":
		if fs.NArg() > 0 {
			return usage(fmt.Sprintf("unexpected argument %q", fs.Arg(0)))
		}
		if err := relay.ValidMerchantID(*merchant); err != nil {
			return usage("--merchant: " + err.Error())
		}
		if err := relay.ValidDeviceID(*udid); err != nil {
			return usage("--udid: " + err.Error())
		}
	case "revoke":
		for _, a := range fs.Args() {
			id, err := strconv.ParseInt(a, 10, 64)
			if err != nil || id < 1 {
				return usage(fmt.Sprintf("%q is not a token id (see qrkiosk-relay token list)", a))
			}
			ids = append(ids, id)
		}
		if (len(ids) > 0) == (*merchant != "" || *udid != "") {
			return usage("give token ids, or --merchant and --udid (every token of that device)")
		}
		if len(ids) == 0 && (*merchant == "" || *udid == "") {
			return usage("--merchant and --udid go together")
		}
	case "list":
		if fs.NArg() > 0 {
			return usage(fmt.Sprintf("unexpected argument %q", fs.Arg(0)))
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	st, err := openStore(ctx, database, *sf.data, false, log)
	if err != nil {
		fmt.Fprintln(stderr, "qrkiosk-relay token:", err)
		return 1
	}
	defer st.Close()

	switch sub {
	case "add":
		secret, t, err := relay.IssueToken(ctx, st, *merchant, *udid, *note)
		if err != nil {
			fmt.Fprintln(stderr, "qrkiosk-relay token add:", err)
			return 1
		}
		// The secret alone on stdout, so TOKEN=$(qrkiosk-relay token add …)
		// works; how to use it on stderr.
		fmt.Fprintln(stdout, secret)
		fmt.Fprintf(stderr, "token %d for merchant %s, device %s. Give that kiosk QRKIOSK_RELAY_TOKEN=<the line above> and QRKIOSK_UDID=%s; it is shown only now (the relay keeps a hash).\n",
			t.ID, t.Merchant, t.UDID, t.UDID)
	case "list":
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
	case "revoke":
		total := 0
		for _, id := range ids {
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
		if len(ids) == 0 {
			n, err := st.RevokeTokens(ctx, 0, *merchant, *udid)
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
	}
	return 0
}
