//go:build unix

package sqlitestore

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// lockDir takes an exclusive lock on dir/name for as long as the returned
// file stays open, so a second relay on the same data directory fails to
// start instead of running beside the first with half the notifications.
// The file holds the owner's pid for the error message.
func lockDir(dir, name string) (*os.File, error) {
	path := dir + string(os.PathSeparator) + name
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("relay: lock file %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		owner, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			pid := strings.TrimSpace(string(owner))
			if _, perr := strconv.Atoi(pid); perr != nil {
				pid = "unknown"
			}
			return nil, fmt.Errorf("relay: data directory %s is in use by another qrkiosk-relay (pid %s): one relay per --data; for several instances use --database postgres://", dir, pid)
		}
		return nil, fmt.Errorf("relay: locking %s: %w", path, err)
	}
	f.Truncate(0)
	f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return f, nil
}

// unlockDir releases the lock (the file stays, holding a stale pid).
func unlockDir(f *os.File) error { return f.Close() }
