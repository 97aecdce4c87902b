package webdisplay

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// StoreFile is where the paired displays are kept, in the kiosk's data
// directory: their names and their tokens' hashes, never a token.
const StoreFile = "displays.json"

// MaxDisplays bounds the paired displays: a counter has one or two, and
// every connection checks its token against each of them.
const MaxDisplays = 16

// tokenBytes is a display token's randomness: 256 bits, so its plain
// SHA-256 is as good as any slow hash for storing it.
const tokenBytes = 32

// tokenLen is a token's length as sent: unpadded base64url.
var tokenLen = base64.RawURLEncoding.EncodedLen(tokenBytes)

// ErrTooMany: MaxDisplays are paired already.
var ErrTooMany = fmt.Errorf("%d displays are paired already: remove one on the kiosk first", MaxDisplays)

// Display is one paired display.
type Display struct {
	ID     string    `json:"id"` // 16 hex digits, for revoking
	Name   string    `json:"name"`
	Paired time.Time `json:"paired"`
	// Hash is the hex SHA-256 of the display's token.
	Hash string `json:"token_sha256"`
}

// store keeps the paired displays in a file of the data directory. It is
// safe for concurrent use.
type store struct {
	path string

	mu       sync.Mutex
	displays []Display
}

// openStore reads the paired displays from dir; none when the file does
// not exist yet. A damaged file is an error naming it and what to do.
func openStore(dir string) (*store, error) {
	s := &store{path: filepath.Join(dir, StoreFile)}
	b, err := os.ReadFile(s.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return s, nil
	case err != nil:
		return nil, fmt.Errorf("paired displays: %w", err)
	}
	if s.displays, err = parseStore(b); err != nil {
		return nil, fmt.Errorf("paired displays: %s is damaged (%v): delete it and pair the displays again", s.path, err)
	}
	return s, nil
}

// parseStore reads and checks the file's content: a forged or damaged
// entry is refused as a whole, never half used.
func parseStore(b []byte) ([]Display, error) {
	var f struct {
		Displays []Display `json:"displays"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("more after the list")
	}
	if len(f.Displays) > MaxDisplays {
		return nil, fmt.Errorf("%d displays, at most %d", len(f.Displays), MaxDisplays)
	}
	ids := map[string]bool{}
	for i, d := range f.Displays {
		if !isHex(d.ID, 16) || ids[d.ID] {
			return nil, fmt.Errorf("display %d: id %q must be 16 hex digits, once", i+1, d.ID)
		}
		ids[d.ID] = true
		if !isHex(d.Hash, 2*sha256.Size) {
			return nil, fmt.Errorf("display %d: token_sha256 must be %d hex digits", i+1, 2*sha256.Size)
		}
		if err := checkName(d.Name); err != nil {
			return nil, fmt.Errorf("display %d: %v", i+1, err)
		}
	}
	return f.Displays, nil
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil && strings.ToLower(s) == s
}

// checkName: a display's name is shown on the cashier pane.
func checkName(name string) error {
	if name == "" || len(name) > 64 || !utf8.ValidString(name) {
		return errors.New("name must be 1 to 64 bytes of UTF-8")
	}
	for _, r := range name {
		if r < ' ' || r == 0x7f {
			return errors.New("name must not hold control characters")
		}
	}
	return nil
}

// add pairs a display named name and returns it with its token, the only
// time the token exists outside the display.
func (s *store) add(name string, now time.Time) (Display, string, error) {
	if err := checkName(name); err != nil {
		return Display{}, "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.displays) >= MaxDisplays {
		return Display{}, "", ErrTooMany
	}
	raw := make([]byte, tokenBytes)
	rand.Read(raw) // never fails (crypto/rand)
	token := base64.RawURLEncoding.EncodeToString(raw)
	id := make([]byte, 8)
	rand.Read(id)
	d := Display{ID: hex.EncodeToString(id), Name: name, Paired: now.UTC().Truncate(time.Second), Hash: hashToken(token)}
	next := append(slices.Clone(s.displays), d)
	if err := s.write(next); err != nil {
		return Display{}, "", err
	}
	s.displays = next
	return d, token, nil
}

// check finds the display whose token this is. Every stored hash is
// compared, in constant time, whether or not one matched already.
func (s *store) check(token string) (Display, bool) {
	if !validToken(token) {
		return Display{}, false
	}
	sum := sha256.Sum256([]byte(token))
	s.mu.Lock()
	defer s.mu.Unlock()
	var found Display
	match := 0
	for _, d := range s.displays {
		want, _ := hex.DecodeString(d.Hash)
		if subtle.ConstantTimeCompare(sum[:], want) == 1 {
			found, match = d, 1
		}
	}
	return found, match == 1
}

// validToken: the shape of a token (the length and alphabet of unpadded
// base64url), so nothing else is hashed or compared.
func validToken(t string) bool {
	if len(t) != tokenLen {
		return false
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// revoke forgets display id; ok is false when there is none.
func (s *store) revoke(id string) (Display, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.IndexFunc(s.displays, func(d Display) bool { return d.ID == id })
	if i < 0 {
		return Display{}, false, nil
	}
	d := s.displays[i]
	next := slices.Delete(slices.Clone(s.displays), i, i+1)
	if err := s.write(next); err != nil {
		return Display{}, false, err
	}
	s.displays = next
	return d, true, nil
}

// list is the paired displays, oldest first.
func (s *store) list() []Display {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.displays)
}

// write replaces the file with ds: a temporary file (0600, synced) renamed
// over it, so a crash leaves the old list or the new one, never half.
func (s *store) write(ds []Display) error {
	if ds == nil {
		ds = []Display{}
	}
	b, err := json.MarshalIndent(struct {
		Displays []Display `json:"displays"`
	}{ds}, "", "  ")
	if err != nil {
		return err
	}
	dir := filepath.Dir(s.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("paired displays: %w", err)
	}
	tmp, err := os.CreateTemp(dir, StoreFile+".*")
	if err != nil {
		return fmt.Errorf("paired displays: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("paired displays: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("paired displays: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("paired displays: %w", err)
	}
	if err := os.Rename(tmp.Name(), s.path); err != nil {
		return fmt.Errorf("paired displays: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
