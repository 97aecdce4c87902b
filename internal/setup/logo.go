package setup

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // logos come as PNG or JPEG
	"image/png"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"qrkiosk/internal/config"
)

// A logo is an image of bounded size: at most 2 MiB uploaded and 2000
// pixels a side, decoded before it is kept, and kept as the PNG encoded
// from what was decoded (nothing else of the upload survives).
const (
	maxLogoBytes = 2 << 20
	maxLogoSide  = 2000
)

// Logo is a logo checked and waiting to be kept beside config.toml.
type Logo struct {
	img  image.Image
	png  []byte
	name string // logo-<hash>.png, beside config.toml
}

// Name is the file name the logo is kept under, as config.toml names it.
func (l *Logo) Name() string { return l.name }

// Size is the logo's width and height in pixels.
func (l *Logo) Size() (int, int) { return l.img.Bounds().Dx(), l.img.Bounds().Dy() }

func (l *Logo) path(configPath string) string {
	return filepath.Join(filepath.Dir(configPath), l.name)
}

// logoAnswer says what was taken.
type logoAnswer struct {
	OK     bool   `json:"ok"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
	Error  string `json:"error,omitempty"`
}

func (s *Server) handleLogo(r *http.Request, sess *session) (int, any) {
	l, err := readLogoUpload(r)
	if err != nil {
		return http.StatusUnprocessableEntity, logoAnswer{Error: "logo: " + err.Error()}
	}
	s.mu.Lock()
	sess.logo = l
	s.mu.Unlock()
	w, h := l.Size()
	return http.StatusOK, logoAnswer{OK: true, Width: w, Height: h}
}

// readLogoUpload checks an uploaded logo's type as sent, then as read.
func readLogoUpload(r *http.Request) (*Logo, error) {
	ct := r.Header.Get("Content-Type")
	if ct != "image/png" && ct != "image/jpeg" {
		return nil, errors.New("must be a PNG or JPEG image")
	}
	raw, err := io.ReadAll(r.Body)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, fmt.Errorf("must be at most %d MiB", maxLogoBytes>>20)
	}
	if err != nil {
		return nil, errors.New("the upload did not arrive whole")
	}
	return NewLogo(raw, strings.TrimPrefix(ct, "image/"))
}

// NewLogo checks a logo (format "png" or "jpeg" as its sender says; ""
// for either): its size in bytes and in pixels, then decodes it whole
// and re-encodes it.
func NewLogo(raw []byte, format string) (*Logo, error) {
	if len(raw) > maxLogoBytes {
		return nil, fmt.Errorf("must be at most %d MiB", maxLogoBytes>>20)
	}
	ic, got, err := image.DecodeConfig(bytes.NewReader(raw))
	if err != nil || (got != "png" && got != "jpeg") || (format != "" && got != format) {
		return nil, errors.New("must be a PNG or JPEG image (this file is not one it says it is)")
	}
	if ic.Width < 1 || ic.Height < 1 || ic.Width > maxLogoSide || ic.Height > maxLogoSide {
		return nil, fmt.Errorf("is %d×%d pixels; must be at most %d a side", ic.Width, ic.Height, maxLogoSide)
	}
	img, _, err := image.Decode(bytes.NewReader(raw))
	if err != nil {
		return nil, errors.New("could not be read whole: " + err.Error())
	}
	var out bytes.Buffer
	if err := png.Encode(&out, img); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(out.Bytes())
	return &Logo{img: img, png: out.Bytes(), name: "logo-" + hex.EncodeToString(sum[:6]) + ".png"}, nil
}

// readLogo reads the logo in force for the test slip (nil: none).
func readLogo(path string) image.Image {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		return nil
	}
	return img
}

// write puts the logo beside config.toml (a new name for new content, so
// the file in force is never touched), readable by the kiosk: owned like
// config.toml.
func (l *Logo) write(configPath string) error {
	dir := filepath.Dir(configPath)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".logo-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if fi, err := os.Stat(configPath); err == nil {
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Getuid() {
			if err := tmp.Chown(int(st.Uid), int(st.Gid)); err != nil {
				tmp.Close()
				return err
			}
		}
	}
	if _, err := tmp.Write(l.png); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), l.path(configPath))
}

// remove takes back a logo written for a save that failed, unless the
// configuration in force uses the same image.
func (l *Logo) remove(configPath string) {
	if f, err := config.ReadFile(configPath); err == nil && filepath.Base(f.Logo) == l.name {
		return
	}
	os.Remove(l.path(configPath))
}

// pruneLogos removes the logos the setup page wrote that neither
// config.toml nor its backup uses any more.
func pruneLogos(configPath string) {
	keep := map[string]bool{}
	for _, p := range []string{configPath, configPath + config.BackupSuffix} {
		if f, err := config.ReadFile(p); err == nil && f.Logo != "" {
			keep[filepath.Base(f.Logo)] = true
		}
	}
	old, _ := filepath.Glob(filepath.Join(filepath.Dir(configPath), "logo-*.png"))
	for _, p := range old {
		if name := filepath.Base(p); !keep[name] && strings.HasPrefix(name, "logo-") {
			os.Remove(p)
		}
	}
}
