package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"syscall"

	"github.com/BurntSushi/toml"
)

// BackupSuffix names the previous version Save keeps beside the file.
const BackupSuffix = ".bak"

// ReadFile reads config.toml as written, for editing: a missing file is
// an empty File. A file that cannot be read, is not TOML or holds a key
// the kiosk does not know is refused, as Load refuses it.
func ReadFile(path string) (File, error) {
	var f File
	md, err := toml.DecodeFile(path, &f)
	var syntax toml.ParseError
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return File{}, nil
	case errors.As(err, &syntax):
		return f, Problems{fmt.Sprintf("%s: could not be read as TOML: %v", path, err)}
	case err != nil:
		return f, Problems{fmt.Sprintf("%s: could not be read: %v", path, err)}
	}
	if extra := md.Undecoded(); len(extra) > 0 {
		return f, Problems{fmt.Sprintf("%s: unknown keys %v", path, extra)}
	}
	return f, nil
}

// Check checks f exactly as the kiosk will read it once saved at path:
// the encoded text read back, overlaid with the environment, through the
// checks config check runs. The Config is what the kiosk would run with;
// its Warnings also name each setting the environment overrides.
func Check(path string, f File, getenv func(string) string) (Config, []byte, error) {
	data, err := Encode(f)
	if err != nil {
		return Config{}, nil, Problems{err.Error()}
	}
	var back File
	if _, err := toml.Decode(string(data), &back); err != nil {
		return Config{}, nil, Problems{fmt.Sprintf("config: the encoded settings do not read back: %v", err)}
	}
	c, err := fromFile(path, back, getenv)
	if err != nil {
		return c, nil, err
	}
	c.Warnings = append(c.Warnings, overridden(fileSettings(path, back), getenv)...)
	return c, data, nil
}

// Save checks f (Check) and, only if it passes, writes it to path:
// atomically (a temporary file beside it, synced, renamed over it), mode
// 0600 because it holds the keys, owned by whoever owned the previous file
// (an administrator running `sudo qrkiosk setup` leaves it to the kiosk's
// user), the previous version kept as path+".bak". A refused f writes
// nothing.
func Save(path string, f File, getenv func(string) string) (Config, error) {
	c, data, err := Check(path, f, getenv)
	if err != nil {
		return c, err
	}
	if err := writeAtomic(path, data); err != nil {
		return c, err
	}
	return c, nil
}

// overridden warns of each setting saved in the file that the environment
// overrides: saving it changes nothing until the environment does.
func overridden(file map[string]string, getenv func(string) string) []string {
	names := make([]string, 0, len(file))
	for name, v := range file {
		if v != "" && getenv(name) != "" {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	var w []string
	for _, name := range names {
		w = append(w, fmt.Sprintf("%s is set in the environment and overrides what the file says", name))
	}
	return w
}

// owner is who owns a file.
type owner struct {
	uid, gid int
	known    bool
}

func ownerOf(fi fs.FileInfo) owner {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return owner{uid: int(st.Uid), gid: int(st.Gid), known: true}
	}
	return owner{}
}

// writeAtomic replaces path with data so that a reader sees the old file
// or the new one, never a part: the old one copied to the backup first.
func writeAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("%s: %w", dir, err)
	}
	var own owner
	if fi, err := os.Stat(path); err == nil {
		own = ownerOf(fi)
		old, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("%s: reading the previous version to keep it: %w", path, err)
		}
		if err := replace(path+BackupSuffix, old, own); err != nil {
			return err
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: %w", path, err)
	}
	return replace(path, data, own)
}

// replace writes data to a temporary file beside path (0600, given to own
// when known), syncs it, renames it over path and syncs the directory.
func replace(path string, data []byte, own owner) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(0o600); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if own.known && (own.uid != os.Getuid() || own.gid != os.Getgid()) {
		if err := tmp.Chown(own.uid, own.gid); err != nil {
			return fmt.Errorf("%s: cannot give the new file to its previous owner (uid %d): %w", path, own.uid, err)
		}
	}
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
