package webdisplay

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)

func TestStorePairsChecksAndRevokes(t *testing.T) {
	dir := t.TempDir()
	s, err := openStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	a, tokenA, err := s.add("iPad", t0)
	if err != nil {
		t.Fatal(err)
	}
	b, tokenB, _ := s.add("Android tablet", t0)
	if len(tokenA) != 43 || tokenA == tokenB || a.ID == b.ID {
		t.Fatalf("tokens %q %q, ids %q %q", tokenA, tokenB, a.ID, b.ID)
	}
	if got, ok := s.check(tokenB); !ok || got.ID != b.ID {
		t.Errorf("token B is display %+v, %v", got, ok)
	}
	wrong := []byte(tokenA)
	wrong[10] ^= 1
	for _, tok := range []string{"", "x", string(wrong), tokenA + "A", strings.Repeat("A", 43), tokenA[:42] + "="} {
		if _, ok := s.check(tok); ok {
			t.Errorf("token %q accepted", tok)
		}
	}

	// Kept on disk, hashed, readable by the kiosk's user alone.
	path := filepath.Join(dir, StoreFile)
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), tokenA) || strings.Contains(string(raw), tokenB) {
		t.Error("a token is stored in the clear")
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want 0600", path, fi.Mode().Perm())
	}
	again, err := openStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := again.check(tokenA); !ok || got.Name != "iPad" {
		t.Error("a paired display is forgotten after a restart")
	}

	if _, ok, err := again.revoke(a.ID); !ok || err != nil {
		t.Fatalf("revoke: %v %v", ok, err)
	}
	if _, ok := again.check(tokenA); ok {
		t.Error("a revoked token still works")
	}
	if third, _ := openStore(dir); len(third.list()) != 1 {
		t.Error("the revocation was not kept")
	}
	if _, ok, _ := again.revoke(a.ID); ok {
		t.Error("revoked twice")
	}
}

func TestStoreCap(t *testing.T) {
	s, _ := openStore(t.TempDir())
	for i := 0; i < MaxDisplays; i++ {
		if _, _, err := s.add("Browser", t0); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := s.add("Browser", t0); err != ErrTooMany {
		t.Errorf("display %d: %v, want ErrTooMany", MaxDisplays+1, err)
	}
}

// TestDamagedStore: a file that is not the kiosk's own list is refused
// with its path and what to do, never half read.
func TestDamagedStore(t *testing.T) {
	good := Display{ID: "0123456789abcdef", Name: "iPad", Paired: t0, Hash: strings.Repeat("ab", 32)}
	for name, content := range map[string]string{
		"not json":     "{",
		"unknown key":  `{"displays": [], "admin": true}`,
		"bad id":       mustJSON(t, []Display{{ID: "zz", Name: "x", Hash: good.Hash}}),
		"twice":        mustJSON(t, []Display{good, good}),
		"bad hash":     mustJSON(t, []Display{{ID: good.ID, Name: "x", Hash: "00"}}),
		"control name": mustJSON(t, []Display{{ID: good.ID, Name: "a\x1b[2J", Hash: good.Hash}}),
		"two values":   `{"displays": []} {}`,
		"trailing":     `{"displays": []}}`,
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, StoreFile)
			os.WriteFile(path, []byte(content), 0o600)
			_, err := openStore(dir)
			if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "pair the displays again") {
				t.Errorf("error %v", err)
			}
		})
	}
}

func mustJSON(t *testing.T, ds []Display) string {
	b, err := json.Marshal(map[string]any{"displays": ds})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// FuzzParseStore: whatever the file holds, it is refused or every entry
// is one the kiosk could have written.
func FuzzParseStore(f *testing.F) {
	f.Add(`{"displays": []}`)
	f.Add(`{"displays": [{"id": "0123456789abcdef", "name": "iPad", "paired": "2025-03-14T15:09:26Z", "token_sha256": "` + strings.Repeat("ab", 32) + `"}]}`)
	f.Add(`{"displays": null}`)
	f.Fuzz(func(t *testing.T, s string) {
		ds, err := parseStore([]byte(s))
		if err != nil {
			return
		}
		if len(ds) > MaxDisplays {
			t.Errorf("%d displays", len(ds))
		}
		for _, d := range ds {
			if !isHex(d.ID, 16) || !isHex(d.Hash, 64) || checkName(d.Name) != nil {
				t.Errorf("accepted %+v", d)
			}
		}
	})
}
