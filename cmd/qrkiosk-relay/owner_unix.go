//go:build unix

package main

import (
	"fmt"
	"os"
	"os/user"
	"strconv"
	"syscall"
)

// checkDataDirOwner refuses to let root use a journal directory that
// belongs to another user, the relay's service user: SQLite would create
// its -wal and -shm files there owned by root, and the service could no
// longer open its own journal. A missing directory is not refused here.
func checkDataDirOwner(dir string) error {
	if os.Geteuid() != 0 {
		return nil
	}
	st, err := os.Stat(dir)
	if err != nil {
		return nil
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok || sys.Uid == 0 {
		return nil
	}
	name := strconv.FormatUint(uint64(sys.Uid), 10)
	if u, err := user.LookupId(name); err == nil {
		name = u.Username
	}
	return fmt.Errorf("%s belongs to user %s: run this as that user (sudo -u %s qrkiosk-relay …), not as root, whose files there would lock the relay out of its journal", dir, name, name)
}
