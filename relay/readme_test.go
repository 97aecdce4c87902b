package relay

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// readmeBlocks returns README.md's fenced code blocks by language.
func readmeBlocks(t *testing.T) map[string][]string {
	t.Helper()
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	lines := strings.Split(string(b), "\n")
	for i := 0; i < len(lines); i++ {
		lang, ok := strings.CutPrefix(lines[i], "```")
		if !ok {
			continue
		}
		var body []string
		for i++; i < len(lines) && !strings.HasPrefix(lines[i], "```"); i++ {
			body = append(body, lines[i])
		}
		out[strings.TrimSpace(lang)] = append(out[strings.TrimSpace(lang)], strings.Join(body, "\n")+"\n")
	}
	return out
}

func goTool(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}

// The README's Go examples compile against the package as it is (one
// once used a method that no longer existed).
func TestReadmeGoExamplesCompile(t *testing.T) {
	blocks := readmeBlocks(t)["go"]
	if len(blocks) == 0 {
		t.Fatal("README.md has no Go example")
	}
	here, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	for i, src := range blocks {
		if !strings.HasPrefix(src, "package ") {
			t.Errorf("Go example %d is not a complete file (starts %.40q): make it one so it can be compiled", i, src)
			continue
		}
		// The example is built as if it were a package inside this module,
		// without writing into the source tree.
		file := filepath.Join(tmp, fmt.Sprintf("example%d.go", i))
		if err := os.WriteFile(file, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
		pkgDir := filepath.Join(here, fmt.Sprintf("readme_example_%d", i))
		overlay, _ := json.Marshal(map[string]map[string]string{"Replace": {filepath.Join(pkgDir, "main.go"): file}})
		ovFile := filepath.Join(tmp, fmt.Sprintf("overlay%d.json", i))
		os.WriteFile(ovFile, overlay, 0o600)
		cmd := exec.Command(goTool(t), "build", "-overlay", ovFile, "-o", os.DevNull, "./"+filepath.Base(pkgDir))
		cmd.Dir = here
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("Go example %d in README.md does not compile: %v\n%s", i, err, out)
		}
	}
}

// Every shell example keeps keys and tokens off the command line.
func TestReadmeExamplesKeepSecretsOffTheCommandLine(t *testing.T) {
	secretFlag := regexp.MustCompile(`--(qfpay-key|token)[ =]|--database[ =]\S*:[^@\s]*@`)
	for lang, blocks := range readmeBlocks(t) {
		if lang == "go" || lang == "json" {
			continue
		}
		for _, b := range blocks {
			if m := secretFlag.FindString(b); m != "" {
				t.Errorf("a README example puts a secret on the command line (%q):\n%s", m, b)
			}
		}
	}
}

// The documented systemd unit is hardened: systemd-analyze security rates
// it at most MEDIUM.
func TestReadmeSystemdUnitIsHardened(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not installed (Debian package systemd): cannot rate the unit here")
	}
	var units []string
	for _, b := range readmeBlocks(t)["ini"] {
		if strings.Contains(b, "[Service]") {
			units = append(units, b)
		}
	}
	if len(units) == 0 {
		t.Fatal("README.md has no systemd unit")
	}
	dir := t.TempDir()
	for i, u := range units {
		name := fmt.Sprintf("qrkiosk-relay-%d.service", i)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(u), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(analyze, "security", "--offline=true", "--no-pager", name)
		cmd.Dir = dir
		out, _ := cmd.CombinedOutput()
		m := regexp.MustCompile(`Overall exposure level for \S+: ([0-9.]+) (\w+)`).FindSubmatch(out)
		if m == nil {
			t.Fatalf("systemd-analyze security gave no rating:\n%s", out)
		}
		exposure, _ := strconv.ParseFloat(string(m[1]), 64)
		t.Logf("unit %d: exposure %.1f %s", i, exposure, m[2])
		switch string(m[2]) {
		case "PERFECT", "SAFE", "OK", "MEDIUM":
		default:
			t.Errorf("the README's unit rates %s %s, want at most MEDIUM:\n%s", m[1], m[2], out)
		}
	}
}
