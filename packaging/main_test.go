// Package packaging tests the Debian packages that make package builds:
// their contents and dependencies, the systemd units, and the kiosk started
// by the unit's own command line (cage replaced by Xvfb; an arm64 package's
// binary runs under qemu-aarch64-static).
//
// The architecture under test is $QRKIOSK_TEST_ARCH: amd64 by default
// (make test), arm64 for make test-arm64.
package packaging

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	gozxingqr "github.com/makiuchi-d/gozxing/qrcode"

	"qrkiosk/internal/proctest"
)

var (
	arch    string // of the packages under test
	version string // FyneApp.toml's
	workDir string
	// debs maps a package name to its .deb; empty in -short mode.
	debs = map[string]string{}
)

// archs: Debian's name → the GNU triplet of its libraries and the ELF
// machine number of its binaries.
var archs = map[string]struct {
	triplet string
	machine uint16
	qemu    string // runs its binaries on amd64
}{
	"amd64": {"x86_64-linux-gnu", 62, ""},
	"arm64": {"aarch64-linux-gnu", 183, "qemu-aarch64-static"},
}

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run())
	}
	arch = os.Getenv("QRKIOSK_TEST_ARCH")
	if arch == "" {
		arch = "amd64"
	}
	if _, ok := archs[arch]; !ok {
		fmt.Fprintf(os.Stderr, "QRKIOSK_TEST_ARCH=%s: amd64 or arm64\n", arch)
		os.Exit(2)
	}
	var err error
	if version, err = fyneVersion("../FyneApp.toml"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if workDir, err = os.MkdirTemp("", "qrkiosk-packaging-"); err != nil {
		panic(err)
	}
	// The same two scripts as make package.
	bin, out := filepath.Join(workDir, "bin"), filepath.Join(workDir, "out")
	for _, c := range [][]string{{"./build.sh", arch, bin}, {"./build-deb.sh", version, arch, bin, out}} {
		cmd := exec.Command(c[0], c[1:]...)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", strings.Join(c, " "), err)
			os.RemoveAll(workDir)
			os.Exit(1)
		}
	}
	for _, name := range []string{"qrkiosk", "qrkiosk-relay"} {
		debs[name] = filepath.Join(out, fmt.Sprintf("%s_%s_%s.deb", name, version, arch))
	}
	code := m.Run()
	os.RemoveAll(workDir)
	os.Exit(code)
}

// needPackages skips in -short mode, where none are built.
func needPackages(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the packages")
	}
}

func fyneVersion(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	m := regexp.MustCompile(`(?m)^\s*Version\s*=\s*"([^"]+)"`).FindSubmatch(b)
	if m == nil {
		return "", fmt.Errorf("%s: no Version", path)
	}
	return string(m[1]), nil
}

// extract unpacks the packages into a new directory, as dpkg would lay
// them out on the kiosk.
func extract(t *testing.T, names ...string) string {
	t.Helper()
	root := t.TempDir()
	for _, n := range names {
		if out, err := exec.Command("dpkg-deb", "-x", debs[n], root).CombinedOutput(); err != nil {
			t.Fatalf("dpkg-deb -x %s: %v\n%s", debs[n], err, out)
		}
	}
	return root
}

// unit is the part of a systemd unit file the tests read.
type unit struct {
	keys map[string][]string // "Section.Key" → values, in order
}

func readUnit(t *testing.T, path string) unit {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	u := unit{keys: map[string][]string{}}
	section := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
		case line[0] == '[':
			section = strings.Trim(line, "[]")
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				t.Fatalf("%s: %q is not Key=Value", path, line)
			}
			if strings.HasSuffix(v, `\`) {
				t.Fatalf("%s: continuation lines are not read by this test", path)
			}
			u.keys[section+"."+k] = append(u.keys[section+"."+k], v)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return u
}

// one is the single value of key.
func (u unit) one(t *testing.T, key string) string {
	t.Helper()
	v := u.keys[key]
	if len(v) != 1 {
		t.Fatalf("%s: %d values %q, want one", key, len(v), v)
	}
	return v[0]
}

// kioskCommand is the unit's ExecStart as the test runs it: the cage part
// (cage and its options up to "--") replaced by the Xvfb the caller
// provides, the absolute paths moved under root, and the environment the
// unit sets (same remapping).
func kioskCommand(t *testing.T, u unit, root string) (argv, env []string) {
	t.Helper()
	argv = strings.Fields(u.one(t, "Service.ExecStart"))
	if filepath.Base(argv[0]) == "cage" {
		i := 0
		for i < len(argv) && argv[i] != "--" {
			i++
		}
		if i == len(argv) {
			t.Fatalf("ExecStart %q: cage without -- before the kiosk's command", argv)
		}
		argv = argv[i+1:]
	}
	for i, a := range argv {
		if strings.HasPrefix(a, "/") {
			argv[i] = filepath.Join(root, a)
		}
	}
	for _, e := range u.keys["Service.Environment"] {
		k, v, _ := strings.Cut(e, "=")
		if strings.HasPrefix(v, "/") {
			v = filepath.Join(root, v)
		}
		env = append(env, k+"="+v)
	}
	return argv, env
}

// xvfb is a virtual screen whose contents the test can read: Xvfb keeps
// its framebuffer in a file (XWD format) with -fbdir.
type xvfb struct {
	display string
	fb      string
}

func startXvfb(t *testing.T) xvfb {
	t.Helper()
	bin, err := exec.LookPath("Xvfb")
	if err != nil {
		t.Skip("Xvfb is not installed (make deps installs it)")
	}
	dir := t.TempDir()
	display := proctest.StartXvfb(t, bin, "-screen", "0", "1280x800x24", "-fbdir", dir, "-nolisten", "tcp")
	return xvfb{display: display, fb: filepath.Join(dir, "Xvfb_screen0")}
}

// screenshot reads the framebuffer: an XWD file of 32-bit pixels.
func (x xvfb) screenshot() (*image.NRGBA, error) {
	b, err := os.ReadFile(x.fb)
	if err != nil {
		return nil, err
	}
	if len(b) < 100 {
		return nil, errors.New("short XWD header")
	}
	h := func(i int) int { return int(binary.BigEndian.Uint32(b[i*4:])) }
	hdr, width, height, order, bpp, bpl, ncolors := h(0), h(4), h(5), h(7), h(11), h(12), h(19)
	off := hdr + ncolors*12
	if bpp != 32 || order != 0 || off+height*bpl > len(b) {
		return nil, fmt.Errorf("XWD: %d bpp, byte order %d, %d bytes: not the 32-bit LSB-first framebuffer expected", bpp, order, len(b))
	}
	img := image.NewNRGBA(image.Rect(0, 0, width, height))
	for y := range height {
		for x := range width {
			p := b[off+y*bpl+x*4:]
			img.SetNRGBA(x, y, color.NRGBA{p[2], p[1], p[0], 0xff})
		}
	}
	return img, nil
}

// decodeQR reads the QR on the screen, or "" when there is none.
func decodeQR(img image.Image) string {
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		return ""
	}
	res, err := gozxingqr.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true})
	if err != nil {
		return ""
	}
	return res.GetText()
}

// waitQR waits until the screen shows a QR and returns its text.
func (x xvfb) waitQR(t *testing.T, k *kiosk, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case <-k.exited:
			t.Fatalf("the kiosk exited (%v) before showing a QR:\n%s", k.err, k.log.String())
		default:
		}
		if img, err := x.screenshot(); err == nil {
			if s := decodeQR(img); s != "" {
				return s
			}
		}
		time.Sleep(500 * time.Millisecond)
	}
	if img, err := x.screenshot(); err == nil {
		writePNG(t, img)
	}
	t.Fatalf("no QR on the screen within %v; kiosk log:\n%s", timeout, k.log.String())
	return ""
}

// waitNoQR waits until the QR is gone from the screen (a paid sale).
func (x xvfb) waitNoQR(t *testing.T, k *kiosk, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if img, err := x.screenshot(); err == nil && decodeQR(img) == "" {
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("the QR stayed on the screen for %v; kiosk log:\n%s", timeout, k.log.String())
}

// writePNG keeps a failing test's last screen for a person to look at.
func writePNG(t *testing.T, img image.Image) {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return
	}
	path := filepath.Join(os.TempDir(), strings.ReplaceAll(t.Name(), "/", "_")+".png")
	if os.WriteFile(path, buf.Bytes(), 0o644) == nil {
		t.Logf("last screen: %s", path)
	}
}

// regexpFind returns the first group of re's first match in s.
func regexpFind(t *testing.T, s, re string) string {
	t.Helper()
	m := regexp.MustCompile(re).FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("no %s in:\n%s", re, s)
	}
	return m[1]
}
