package relay

import (
	"os/exec"
	"strings"
	"testing"
)

// The kiosk links the relay's client, and for its demo this server, but
// never what only the relay command runs: PostgreSQL's driver and the
// metrics (Prometheus, and the protobuf it pulls in). The client links
// nothing of the server.
func TestKioskLinksNoServerOnlyDependencies(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	deps := func(pkg string) []string {
		t.Helper()
		out, err := exec.Command(goTool(t), "list", "-deps", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
		}
		return strings.Fields(string(out))
	}
	for pkg, banned := range map[string][]string{
		"qrkiosk":                   {"github.com/jackc/pgx", "github.com/prometheus/", "google.golang.org/protobuf"},
		"qrkiosk/relay":             {"github.com/jackc/pgx", "github.com/prometheus/", "google.golang.org/protobuf"},
		"qrkiosk/relay/relayclient": {"qrkiosk/relay/store", "modernc.org/sqlite", "github.com/jackc/pgx", "github.com/prometheus/"},
	} {
		for _, d := range deps(pkg) {
			for _, b := range banned {
				if d == strings.TrimSuffix(b, "/") || strings.HasPrefix(d, b) {
					t.Errorf("%s links %s", pkg, d)
				}
			}
		}
	}
}
