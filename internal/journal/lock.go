package journal

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// LockedError: another process has the journal open.
type LockedError struct {
	Path string
	PID  int // 0 when unknown
}

func (e *LockedError) Error() string {
	who := "another qrkiosk process"
	if e.PID > 0 {
		who = fmt.Sprintf("another qrkiosk process (pid %d)", e.PID)
	}
	return fmt.Sprintf("the journal %s is in use by %s; only one kiosk may use a journal at a time — stop it first, or give this one its own --data directory", e.Path, who)
}

// fileLock is an exclusive flock on the database file itself: a lock on a
// file beside it could be deleted out from under a live kiosk, letting a
// second process take its orders over. The kernel drops it when the
// process dies, so a crash never leaves a stale lock. (SQLite's own locks
// are fcntl locks, which flock does not touch; this descriptor stays open
// until the database is closed, so closing it cannot drop SQLite's.)
type fileLock struct {
	f   *os.File
	pid string // the pid file: a hint for LockedError only
}

func lockFile(dbPath string) (*fileLock, error) {
	f, err := os.OpenFile(dbPath, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	pidPath := dbPath + ".pid"
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			b, _ := os.ReadFile(pidPath)
			pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
			return nil, &LockedError{Path: dbPath, PID: pid}
		}
		return nil, fmt.Errorf("journal lock %s: %w", dbPath, err)
	}
	// Best effort: the flock is the lock, the pid only names its holder.
	os.WriteFile(pidPath, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o600)
	return &fileLock{f: f, pid: pidPath}, nil
}

func (l *fileLock) release() {
	os.Remove(l.pid)
	syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	l.f.Close()
}
