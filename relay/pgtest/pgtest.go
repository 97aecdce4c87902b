// Package pgtest runs a throwaway PostgreSQL server for the relay's tests
// and benchmarks: a real server from the system's PostgreSQL binaries, in
// its own temporary directory, on its own port on 127.0.0.1. No external
// service and no mock. As root it runs as the unprivileged user nobody,
// since PostgreSQL refuses to run as root.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// SkipEnv, set to 1, lets a developer without PostgreSQL skip its tests
// explicitly; without it a missing PostgreSQL fails them.
const SkipEnv = "QRKIOSK_TEST_SKIP_POSTGRES"

// ErrNotInstalled: no initdb/postgres binaries were found.
var ErrNotInstalled = errors.New("PostgreSQL server binaries (initdb, postgres) not found under /usr/lib/postgresql/*/bin or on PATH: install the Debian package postgresql (make deps does)")

// Options tune a cluster.
type Options struct {
	// Durable keeps fsync and synchronous_commit on, as in production:
	// for benchmarks. Tests run faster without.
	Durable bool
}

// Cluster is one running throwaway server.
type Cluster struct {
	Dir  string // removed by Stop
	Port int
	bin  string
	opts Options
	cred *syscall.Credential
	cmd  *exec.Cmd
	exit chan struct{}
}

// BinDir finds the directory holding initdb and postgres: the newest
// /usr/lib/postgresql/N/bin (Debian keeps them off PATH), else PATH.
func BinDir() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return pgVersion(dirs[i]) > pgVersion(dirs[j]) })
	for _, d := range dirs {
		if isExec(filepath.Join(d, "initdb")) && isExec(filepath.Join(d, "postgres")) {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		d := filepath.Dir(p)
		if isExec(filepath.Join(d, "postgres")) {
			return d, nil
		}
	}
	return "", ErrNotInstalled
}

func pgVersion(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

func isExec(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}

// Start creates a cluster in a new temporary directory and starts it.
func Start(opts Options) (*Cluster, error) {
	bin, err := BinDir()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "qrkiosk-pg-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{Dir: dir, bin: bin, opts: opts}
	fail := func(err error) (*Cluster, error) {
		os.RemoveAll(dir)
		return nil, err
	}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("nobody")
		if err != nil {
			return fail(fmt.Errorf("pgtest: running as root needs the user nobody to run PostgreSQL as: %w", err))
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		c.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			return fail(err)
		}
	}
	initdb := c.command(filepath.Join(bin, "initdb"), "-D", c.dataDir(), "-U", "postgres", "-A", "trust",
		"-E", "UTF8", "--locale=C", "--no-sync")
	if out, err := initdb.CombinedOutput(); err != nil {
		return fail(fmt.Errorf("pgtest: initdb: %v\n%s", err, out))
	}
	for attempt := 0; ; attempt++ {
		err := c.start(0)
		if err == nil {
			return c, nil
		}
		if attempt == 4 || !strings.Contains(err.Error(), "could not bind") {
			return fail(err)
		}
	}
}

func (c *Cluster) dataDir() string { return filepath.Join(c.Dir, "data") }

func (c *Cluster) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Dir = c.Dir
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	setParentDeathSignal(cmd.SysProcAttr)
	return cmd
}

// start runs postgres on port (0 = a free one) and waits until it answers.
func (c *Cluster) start(port int) error {
	if port == 0 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		port = ln.Addr().(*net.TCPAddr).Port
		ln.Close()
	}
	args := []string{"-D", c.dataDir(), "-c", "listen_addresses=127.0.0.1", "-c", "port=" + strconv.Itoa(port),
		"-c", "unix_socket_directories=", "-c", "max_connections=300", "-c", "logging_collector=off"}
	if !c.opts.Durable {
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	logPath := filepath.Join(c.Dir, "postgres.log")
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	if c.cred != nil {
		os.Chown(logPath, int(c.cred.Uid), int(c.cred.Gid))
	}
	cmd := c.command(filepath.Join(c.bin, "postgres"), args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("pgtest: postgres: %w", err)
	}
	logf.Close()
	exit := make(chan struct{})
	go func() { cmd.Wait(); close(exit) }()
	c.cmd, c.exit, c.Port = cmd, exit, port
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		conn, err := pgx.Connect(ctx, c.URL("postgres"))
		cancel()
		if err == nil {
			conn.Close(context.Background())
			return nil
		}
		select {
		case <-exit:
			return fmt.Errorf("pgtest: postgres exited at start: %s", c.logTail())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			c.stop()
			return fmt.Errorf("pgtest: postgres did not accept connections within 60 s: %v; %s", err, c.logTail())
		}
	}
}

func (c *Cluster) logTail() string {
	b, _ := os.ReadFile(filepath.Join(c.Dir, "postgres.log"))
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

// URL is a connection URL for database db as the superuser postgres.
func (c *Cluster) URL(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.Port, db)
}

// CreateDatabase creates an empty database and returns its URL.
func (c *Cluster) CreateDatabase(name string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", fmt.Errorf("pgtest: create database %s: %w", name, err)
	}
	return c.URL(name), nil
}

// Restart stops the server (fast shutdown: every connection is dropped)
// and starts it again on the same port and data.
func (c *Cluster) Restart() error {
	c.stop()
	return c.start(c.Port)
}

// Down stops the server, keeping its data and port for Up: the database
// is unreachable meanwhile.
func (c *Cluster) Down() { c.stop() }

// Up starts a server stopped by Down again.
func (c *Cluster) Up() error { return c.start(c.Port) }

func (c *Cluster) stop() {
	if c.cmd == nil {
		return
	}
	c.cmd.Process.Signal(syscall.SIGINT) // fast shutdown
	select {
	case <-c.exit:
	case <-time.After(15 * time.Second):
		c.cmd.Process.Kill()
		<-c.exit
	}
	c.cmd = nil
}

// Stop shuts the server down and removes its directory.
func (c *Cluster) Stop() error {
	c.stop()
	return os.RemoveAll(c.Dir)
}
