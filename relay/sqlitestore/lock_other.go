//go:build !unix

package sqlitestore

import (
	"fmt"
	"os"
)

// lockDir creates dir/name exclusively; on these systems a relay that
// crashed leaves it behind and it must be removed by hand.
func lockDir(dir, name string) (*os.File, error) {
	path := dir + string(os.PathSeparator) + name
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("relay: data directory %s is in use by another qrkiosk-relay (or one crashed: remove %s): %w", dir, path, err)
	}
	return f, nil
}

// unlockDir releases the lock by removing the file.
func unlockDir(f *os.File) error {
	f.Close()
	return os.Remove(f.Name())
}
