package main

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Credentials the relay takes from systemd by name: when the unit passes
// one (LoadCredential=NAME:…), its file in $CREDENTIALS_DIRECTORY is the
// default of the flag beside it. An empty one counts as not given, so a
// unit can list every credential and an operator fills in those the shop
// uses. An explicit flag or environment variable still wins.
const (
	credQFPayKey      = "qfpay-key"      // --qfpay-key-file
	credScanForPayKey = "scanforpay-key" // --scanforpay-key-file
	credToken         = "token"          // --token-file
	credMerchants     = "merchants"      // --merchants
	credDatabase      = "database"       // --database-file
	credTLSCert       = "tls.crt"        // --tls-cert
	credTLSKey        = "tls.key"        // --tls-key
)

// credential returns the path of the systemd credential name, or "" when
// there is no credentials directory, no such credential, or it holds only
// white space. A credential that exists but cannot be read is returned, so
// the flag's own read reports why.
func credential(name string) string {
	dir := os.Getenv("CREDENTIALS_DIRECTORY")
	if dir == "" {
		return ""
	}
	p := filepath.Join(dir, name)
	b, err := os.ReadFile(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return ""
	case err != nil:
		return p
	case strings.TrimSpace(string(b)) == "":
		return ""
	}
	return p
}
